from libc.stdint cimport int64_t, uint64_t
from tyn.arch.trapframe cimport trap_frame
from tyn.proc.task cimport process, thread

cdef enum:
    SIGNAL_EXIT_BASE = 128          # a process killed by signal N ends with status 128 + N
    SIGSEGV = 11
    SIGBUS = 7
    SIGILL = 4
    SIGFPE = 8
    SIGTRAP = 5

# The first process (pid 1): an empty address space, the console on fds 0-2.
cdef extern process *process_create() noexcept nogil
cdef extern process *process_current() noexcept nogil
cdef extern process *process_find(int pid) noexcept nogil
# fn(p, ctx) for every process with an address space (running, not yet exited).
cdef extern void process_for_each(void (*fn)(process *p, void *ctx) noexcept nogil, void *ctx) noexcept nogil
cdef extern int process_last_pid() noexcept nogil
# Most processes alive at once (fork beyond it: EAGAIN).
cdef extern void process_set_limit(int limit) noexcept nogil
cdef extern int64_t process_fork() noexcept nogil
# wait4's core: a zombie child's pid (its status stored at user_status), 0 with WNOHANG, -errno.
cdef extern int64_t process_wait(int64_t pid, uint64_t user_status, uint64_t options) noexcept nogil
# The calling thread's process ends with `status` (its other threads are killed and
# leave the same way); pid 1 ending powers the machine off.  Never returns.
cdef extern void process_exit(process *p, int status) noexcept nogil
# A thread other than a process's last is leaving (PR_SET_PDEATHSIG of the children it forked).
cdef extern void process_thread_exits(thread *t) noexcept nogil
# Drop a process's memory (execve keeps the process and maps a new image).
cdef extern void release_process_memory(process *p) noexcept nogil
# trap.pyx's page-fault resolver: demand paging in the current process.
cdef extern bint process_page_fault(uint64_t address, uint64_t error_code) noexcept nogil
# An exception in user mode nobody resolved: the program's signal handler, or death.
cdef extern void process_user_fault(trap_frame *frame) noexcept nogil
