from libc.stdint cimport int64_t, uint64_t

cdef extern int64_t sys_exit(uint64_t status) noexcept nogil
cdef extern int64_t sys_exit_group(uint64_t status) noexcept nogil
cdef extern int64_t sys_getpid() noexcept nogil
cdef extern int64_t sys_getppid() noexcept nogil
cdef extern int64_t sys_gettid() noexcept nogil
cdef extern int64_t sys_getuid() noexcept nogil
cdef extern int64_t sys_setsid() noexcept nogil
cdef extern int64_t sys_set_tid_address(uint64_t tidptr) noexcept nogil
cdef extern int64_t sys_set_robust_list(uint64_t head, uint64_t length) noexcept nogil
cdef extern int64_t sys_arch_prctl(uint64_t code, uint64_t addr) noexcept nogil
cdef extern int64_t sys_clone(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid,
                              uint64_t tls) noexcept nogil
cdef extern int64_t sys_sched_yield() noexcept nogil
cdef extern int64_t sys_sched_getaffinity(uint64_t pid, uint64_t size, uint64_t user_mask) noexcept nogil
cdef extern int64_t sys_sched_setaffinity(uint64_t pid, uint64_t size, uint64_t user_mask) noexcept nogil
cdef extern int64_t sys_fork() noexcept nogil
cdef extern int64_t sys_wait4(uint64_t pid, uint64_t user_status, uint64_t options, uint64_t user_rusage) noexcept nogil
cdef extern int64_t sys_getresuid(uint64_t ruid, uint64_t euid, uint64_t suid) noexcept nogil
cdef extern int64_t sys_getpgid(uint64_t pid) noexcept nogil
cdef extern int64_t sys_getpgrp() noexcept nogil
cdef extern int64_t sys_getsid(uint64_t pid) noexcept nogil
cdef extern int64_t sys_setpgid(uint64_t pid, uint64_t pgid) noexcept nogil
cdef extern int64_t sys_waitid(uint64_t idtype, uint64_t id, uint64_t user_info, uint64_t options,
                               uint64_t user_rusage) noexcept nogil
cdef extern int64_t sys_vfork() noexcept nogil
cdef extern int64_t sys_getcpu(uint64_t user_cpu, uint64_t user_node, uint64_t unused_cache) noexcept nogil
