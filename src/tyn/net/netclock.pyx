# The stack's clock (see netclock.pxd).  Under net_lock.
from libc.stdint cimport uint64_t

cdef uint64_t last_ns
cdef netclock_source_fn source


cdef uint64_t netclock_now_ns() noexcept nogil:
    if source != NULL:
        netclock_advance(source())
    return last_ns


cdef void netclock_advance(uint64_t now_ns) noexcept nogil:
    global last_ns
    if now_ns > last_ns:
        last_ns = now_ns


cdef void netclock_set_source(netclock_source_fn fn) noexcept nogil:
    global source
    source = fn


cdef void netclock_reset() noexcept nogil:
    global last_ns, source
    last_ns = 0
    source = NULL
