from libc.stdint cimport int64_t, uint64_t

# Starting the init program: the executable and arguments named in the root
# filesystem (/etc/tyn/argv, /etc/tyn/env: docs/IMAGE.md), plus init arguments
# from the kernel command line (after ` -- `).
cdef enum:
    EXEC_STACK_SIZE = 8 * 1024 * 1024       # RLIMIT_STACK's default
    EXEC_STACK_TOP = 0x7FFFFFFDE000         # a little below the top of the user half, like Linux
    EXEC_MAX_ARGS = 1024
    EXEC_CONFIG_MAX = 65536

# Load and queue the init program's first thread.  0, or a negative code after a
# one-line explanation on the console.
cdef extern int exec_start_init(const char *extra_args) noexcept nogil
cdef extern int64_t sys_execve(uint64_t user_path, uint64_t user_argv, uint64_t user_envp) noexcept nogil
