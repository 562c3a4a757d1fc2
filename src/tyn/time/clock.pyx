# The kernel tick and time since boot.
#
# The tick is the local APIC timer: in TSC-deadline mode when the CPU has it (no
# calibration: the deadline is in TSC ticks, re-armed on each tick), else periodic with
# its input clock measured against the TSC.  Either way one interrupt is proved before
# the tick is relied on.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.lapic cimport (lapic_init, lapic_eoi, lapic_timer_calibrate, lapic_timer_oneshot,
                            lapic_timer_periodic, lapic_is_x2apic, legacy_pic_disable,
                            lapic_has_tsc_deadline, lapic_timer_deadline_mode, lapic_timer_set_deadline)
from tyn.arch.cpu cimport irq_enable, irq_disable, cpu_relax, rdtsc
from tyn.arch.panic cimport panic
from tyn.arch.trap cimport trap_set_handler, VECTOR_TIMER
from tyn.arch.trapframe cimport trap_frame
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.arch.tsc cimport monotonic_ns, tsc_hz
from tyn.proc.sched cimport sched_tick
from tyn.time.ktimer cimport ktimer_run

cdef enum:
    KHZ = 1000
    NS_PER_US = 1000
    PROOF_DELAY_HZ = 10000          # the proving interrupt comes 100 us after arming
    PROOF_TIMEOUT_NS = 100000000    # a timer that stays silent this long is broken

cdef volatile uint64_t ticks
cdef uint32_t tick_hz
cdef bint deadline_mode
cdef uint64_t period_tsc            # deadline mode: TSC ticks per tick
cdef uint64_t next_deadline

cdef void arm_next_deadline() noexcept nogil:
    """Keep the deadlines on a fixed grid; after a long stall, restart it from now."""
    global next_deadline
    cdef uint64_t now = rdtsc()
    next_deadline += period_tsc
    if next_deadline <= now:
        next_deadline = now + period_tsc
    lapic_timer_set_deadline(next_deadline)

cdef void clock_tick(trap_frame *frame) noexcept nogil:
    global ticks
    ticks += 1
    if deadline_mode:
        arm_next_deadline()
    lapic_eoi()
    ktimer_run(monotonic_ns())
    sched_tick(monotonic_ns())

cdef uint64_t prove_interrupt(uint64_t timer_hz) noexcept nogil:
    """One interrupt 100 us after arming, to prove vector, handler and EOI before relying
    on them; returns the ns from arming to delivery.  Deadline mode re-arms itself in
    clock_tick, so the periodic tick then just continues."""
    global next_deadline
    cdef uint64_t start = ticks, t0 = monotonic_ns()
    if deadline_mode:
        next_deadline = rdtsc() + tsc_hz() // PROOF_DELAY_HZ - period_tsc
        arm_next_deadline()
    else:
        lapic_timer_oneshot(<uint32_t>(timer_hz // PROOF_DELAY_HZ), VECTOR_TIMER)
    irq_enable()
    while ticks == start:
        if monotonic_ns() - t0 > PROOF_TIMEOUT_NS:
            irq_disable()
            panic(b"the local APIC timer raised no interrupt within 100 ms")
        cpu_relax()
    irq_disable()
    return monotonic_ns() - t0

cdef bint clock_init(uint32_t hz, uint64_t xapic_mmio) noexcept nogil:
    global tick_hz, deadline_mode, period_tsc
    cdef uint64_t timer_hz = 0, window_ns = 0, proof_ns
    legacy_pic_disable()
    if not lapic_init(xapic_mmio):
        kputs(b"tyn: no local APIC: no timer interrupts\n")
        return False
    tick_hz = hz
    trap_set_handler(VECTOR_TIMER, clock_tick)
    deadline_mode = lapic_has_tsc_deadline() and tsc_hz() != 0
    if deadline_mode:
        period_tsc = tsc_hz() // hz
        lapic_timer_deadline_mode(VECTOR_TIMER)
    else:
        timer_hz = lapic_timer_calibrate(&window_ns)
        if timer_hz == 0:
            kputs(b"tyn: local APIC timer: input clock unknown (no TSC frequency): no timer interrupts\n")
            return False
    proof_ns = prove_interrupt(timer_hz)
    if not deadline_mode:
        lapic_timer_periodic(timer_hz, hz, VECTOR_TIMER)
    kputs(b"tyn: local APIC timer (")
    kputs(b"x2APIC" if lapic_is_x2apic() else b"xAPIC")
    if deadline_mode:
        kputs(b") TSC deadline")
    else:
        kputs(b") ")
        kput_udec(timer_hz // KHZ)
        if window_ns:
            kputs(b" kHz input (against the TSC in ")
            kput_udec(window_ns // NS_PER_US)
            kputs(b" us)")
        else:
            kputs(b" kHz input (hypervisor CPUID 40000010h)")
    kputs(b", tick ")
    kput_udec(hz)
    kputs(b" Hz, first interrupt after ")
    kput_udec(proof_ns // NS_PER_US)
    kputs(b" us\n")
    return True

cdef uint64_t clock_ticks() noexcept nogil:
    return ticks

cdef uint32_t clock_hz() noexcept nogil:
    return tick_hz
