# A byte ring for pipes and stream sockets: a power-of-two buffer with free-running 64-bit
# head (bytes consumed) and tail (bytes produced) counters, so used = tail - head.
#
# User copies go segment by segment, a segment ending at the next 4 KiB boundary of the
# ring (Linux's pipe buffers are pages): a fault keeps the segments before it and drops
# the faulting one, so a copy returns the bytes moved before the fault, or -EFAULT when
# none were.  buf arguments are user addresses when user is true, else kernel pointers.
from libc.stdint cimport uint8_t, uint64_t, int64_t

cdef enum:
    BYTERING_SEGMENT = 4096

cdef struct bytering:
    uint8_t *buf
    uint64_t cap                # a power of two, a multiple of BYTERING_SEGMENT
    uint64_t head
    uint64_t tail

# 0, or -ENOMEM.
cdef extern int64_t bytering_init(bytering *r, uint64_t cap) noexcept nogil
# Free the buffer (r stays usable as an empty ring of capacity 0).
cdef extern void bytering_free(bytering *r) noexcept nogil
cdef extern uint64_t bytering_used(const bytering *r) noexcept nogil
cdef extern uint64_t bytering_room(const bytering *r) noexcept nogil
# Append n bytes (n <= room) from src: bytes appended, or -EFAULT (nothing appended).
cdef extern int64_t bytering_put(bytering *r, uint64_t src, uint64_t n, bint user) noexcept nogil
# Copy n bytes (off + n <= used) starting off bytes after head to dst without consuming:
# bytes copied, or -EFAULT.
cdef extern int64_t bytering_get(const bytering *r, uint64_t off, uint64_t dst, uint64_t n, bint user) noexcept nogil
# Drop n bytes (n <= used) from the head.
cdef extern void bytering_consume(bytering *r, uint64_t n) noexcept nogil
