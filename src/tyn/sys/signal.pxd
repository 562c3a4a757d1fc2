from libc.stdint cimport int64_t, uint64_t

cdef extern int64_t sys_rt_sigaction(uint64_t sig, uint64_t user_act, uint64_t user_old, uint64_t size) noexcept nogil
cdef extern int64_t sys_rt_sigprocmask(uint64_t how, uint64_t user_set, uint64_t user_old, uint64_t size) noexcept nogil
cdef extern int64_t sys_sigaltstack(uint64_t user_ss, uint64_t user_old) noexcept nogil
