# Sequence-number arithmetic modulo 2**32 (RFC 9293 §3.4): a < b when b is ahead of a
# by less than 2**31.
from libc.stdint cimport int32_t, uint32_t

cdef inline bint seq_lt(uint32_t a, uint32_t b) noexcept nogil:
    return <int32_t>(a - b) < 0

cdef inline bint seq_le(uint32_t a, uint32_t b) noexcept nogil:
    return <int32_t>(a - b) <= 0

cdef inline bint seq_gt(uint32_t a, uint32_t b) noexcept nogil:
    return <int32_t>(a - b) > 0

cdef inline bint seq_ge(uint32_t a, uint32_t b) noexcept nogil:
    return <int32_t>(a - b) >= 0

# lo <= x < hi
cdef inline bint seq_in(uint32_t x, uint32_t lo, uint32_t hi) noexcept nogil:
    return seq_le(lo, x) and seq_lt(x, hi)

cdef inline uint32_t seq_max(uint32_t a, uint32_t b) noexcept nogil:
    return b if seq_lt(a, b) else a

cdef inline uint32_t seq_min(uint32_t a, uint32_t b) noexcept nogil:
    return a if seq_lt(a, b) else b
