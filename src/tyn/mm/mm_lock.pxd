# The memory manager's lock on one CPU: interrupts off around every update of
# shared allocator state, so a timer preemption or an interrupt handler never
# sees a half-done change.  Nests (each level restores what it found).
# Inline helpers only (no .pyx): compiled into each user, nothing to link.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport read_rflags, irq_disable, irq_enable, RFLAGS_IF

cdef inline uint64_t mm_lock() noexcept nogil:
    cdef uint64_t flags = read_rflags()
    irq_disable()
    return flags

cdef inline void mm_unlock(uint64_t flags) noexcept nogil:
    if (flags & RFLAGS_IF) != 0:
        irq_enable()
