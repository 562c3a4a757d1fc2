from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.trapframe cimport trap_frame

cdef enum:
    CLOCK_DEFAULT_HZ = 100
    CLOCK_MAX_HZ = 10000

# The kernel tick: the local APIC timer interrupt at clock_hz().
cdef extern bint clock_init(uint32_t hz, uint64_t xapic_mmio) noexcept nogil
cdef extern uint64_t clock_ticks() noexcept nogil
cdef extern uint32_t clock_hz() noexcept nogil
cdef extern void clock_tick(trap_frame *frame) noexcept nogil
