# net_lock (see netlock.pxd).
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport read_rflags, irq_disable, irq_enable, RFLAGS_IF


cdef uint64_t net_lock_acquire() noexcept nogil:
    cdef uint64_t flags = read_rflags()
    irq_disable()
    return flags


cdef void net_lock_release(uint64_t flags) noexcept nogil:
    if flags & RFLAGS_IF:
        irq_enable()
