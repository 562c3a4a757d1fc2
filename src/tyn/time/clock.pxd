from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.trapframe cimport trap_frame

cdef enum:
    CLOCK_DEFAULT_HZ = 100
    CLOCK_MAX_HZ = 10000
    NSEC_PER_SEC_CLOCK = 1000000000

# The timer interrupt (local APIC timer, one-shot): it fires only when something is due --
# the earliest kernel timer (time/ktimer), sleeper deadline or, while other threads wait
# for the CPU, the end of the running thread's time slice (clock_slice_ns()).  An idle CPU
# with nothing armed takes no timer interrupts at all.
cdef extern bint clock_init(uint32_t hz, uint64_t xapic_mmio) noexcept nogil
# A time slice: 1/hz (hz= on the command line).
cdef extern uint64_t clock_slice_ns() noexcept nogil
# The boot CPU's timer setup, for the APs (arch/smp): TSC-deadline mode, else the one-shot
# input clock in Hz (0 when clock_init found no usable timer).
# An AP: its local APIC timer in the boot CPU's mode, ready for clock_request.
cdef extern void clock_init_cpu() noexcept nogil
cdef extern bint clock_uses_tsc_deadline() noexcept nogil
cdef extern uint64_t clock_timer_hz() noexcept nogil
# Make the timer fire at or before deadline_ns (monotonic ns); 0 asks for nothing.
cdef extern void clock_request(uint64_t deadline_ns) noexcept nogil
cdef extern void clock_tick(trap_frame *frame) noexcept nogil
