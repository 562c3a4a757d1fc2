from libc.stdint cimport int64_t, uint64_t

cdef extern int64_t sys_clock_gettime(uint64_t clock, uint64_t user_ts) noexcept nogil
cdef extern int64_t sys_clock_getres(uint64_t clock, uint64_t user_ts) noexcept nogil
cdef extern int64_t sys_gettimeofday(uint64_t user_tv, uint64_t user_tz) noexcept nogil
# time(2): the wall-clock seconds (and into *tloc when tloc is not 0); -EFAULT.
cdef extern int64_t sys_time(uint64_t user_tloc) noexcept nogil
cdef extern int64_t sys_nanosleep(uint64_t user_req, uint64_t user_rem) noexcept nogil
cdef extern int64_t sys_clock_nanosleep(uint64_t clock, uint64_t flags, uint64_t user_req,
                                        uint64_t user_rem) noexcept nogil
