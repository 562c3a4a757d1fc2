from libc.stdint cimport int64_t, uint64_t

cdef extern int64_t sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout,
                              uint64_t uaddr2, uint64_t val3) noexcept nogil
# Wake up to `count` waiters on a user address of the current process (thread exit's clear-tid).
cdef extern int futex_wake_address(uint64_t uaddr, int count) noexcept nogil
