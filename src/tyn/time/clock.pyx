# The kernel tick and time since boot.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.lapic cimport lapic_init, lapic_eoi, lapic_timer_start, lapic_is_x2apic, legacy_pic_disable
from tyn.arch.trap cimport trap_set_handler, VECTOR_TIMER
from tyn.arch.trapframe cimport trap_frame
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.arch.tsc cimport monotonic_ns
from tyn.proc.sched cimport sched_tick
from tyn.time.ktimer cimport ktimer_run

cdef enum:
    KHZ = 1000

cdef volatile uint64_t ticks
cdef uint32_t tick_hz

cdef void clock_tick(trap_frame *frame) noexcept nogil:
    global ticks
    ticks += 1
    lapic_eoi()
    ktimer_run(monotonic_ns())
    sched_tick(monotonic_ns())

cdef bint clock_init(uint32_t hz, uint64_t xapic_mmio) noexcept nogil:
    global tick_hz
    cdef uint64_t timer_hz
    legacy_pic_disable()
    if not lapic_init(xapic_mmio):
        kputs(b"tyn: no local APIC: no timer interrupts\n")
        return False
    tick_hz = hz
    trap_set_handler(VECTOR_TIMER, clock_tick)
    timer_hz = lapic_timer_start(hz, VECTOR_TIMER)
    kputs(b"tyn: local APIC timer (")
    kputs(b"x2APIC" if lapic_is_x2apic() else b"xAPIC")
    kputs(b") ")
    kput_udec(timer_hz // KHZ)
    kputs(b" kHz input, tick ")
    kput_udec(hz)
    kputs(b" Hz\n")
    return True

cdef uint64_t clock_ticks() noexcept nogil:
    return ticks

cdef uint32_t clock_hz() noexcept nogil:
    return tick_hz
