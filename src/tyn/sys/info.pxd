from libc.stdint cimport int64_t, uint64_t

# The node name uname() reports (from /etc/hostname at boot; docs/IMAGE.md).
cdef extern void info_set_hostname(const char *name, uint64_t length) noexcept nogil
cdef extern int64_t sys_uname(uint64_t user_buf) noexcept nogil
cdef extern int64_t sys_getrandom(uint64_t user_buf, uint64_t count, uint64_t flags) noexcept nogil
cdef extern int64_t sys_prlimit64(uint64_t pid, uint64_t resource, uint64_t user_new, uint64_t user_old) noexcept nogil
cdef extern int64_t sys_getrlimit(uint64_t resource, uint64_t user_old) noexcept nogil
from tyn.proc.task cimport thread
# execve loaded a new image from `path`: the thread's name and the dumpable flag reset.
cdef extern void info_exec_comm(thread *t, const char *path) noexcept nogil
cdef extern int64_t sys_prctl(uint64_t option, uint64_t arg2, uint64_t arg3, uint64_t arg4, uint64_t arg5) noexcept nogil
# Fill buf with random bytes (RDRAND/RDSEED where present); used for /dev/urandom too.
cdef extern void info_random_bytes(unsigned char *buf, uint64_t n) noexcept nogil
