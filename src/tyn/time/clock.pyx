# The kernel tick and time since boot.
#
# The timer is the local APIC timer, one-shot, armed for the next thing due (see
# clock.pxd): in TSC-deadline mode when the CPU has it (no calibration: the deadline is
# in TSC ticks), else one-shot counts of its input clock measured against the TSC.
# Either way one interrupt is proved before the timer is relied on.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.lapic cimport (lapic_init, lapic_eoi, lapic_timer_calibrate, lapic_timer_oneshot,
                            lapic_is_x2apic, legacy_pic_disable,
                            lapic_has_tsc_deadline, lapic_timer_deadline_mode, lapic_timer_set_deadline)
from tyn.arch.cpu cimport irq_enable, irq_disable, cpu_relax, rdtsc, read_rflags, RFLAGS_IF
from tyn.arch.panic cimport panic
from tyn.arch.trap cimport trap_set_handler, VECTOR_TIMER
from tyn.arch.trapframe cimport trap_frame
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.arch.tsc cimport monotonic_ns, tsc_hz
from tyn.arch.percpu cimport percpu_cpu_index, NR_CPUS
from tyn.proc.sched cimport sched_tick, sched_next_deadline
from tyn.time.ktimer cimport ktimer_run, ktimer_next_deadline

cdef enum:
    KHZ = 1000
    NS_PER_US = 1000
    PROOF_DELAY_NS = 100000         # the proving interrupt comes 100 us after arming
    ONESHOT_MAX_NS = 50000000       # one-shot mode re-arms at least every 50 ms (32-bit count)
    TIMER_COUNT_LIMIT = 0xFFFFFFFF
    PROOF_TIMEOUT_NS = 100000000    # a timer that stays silent this long is broken

cdef volatile uint64_t ticks
cdef uint32_t tick_hz
cdef bint ready
cdef bint deadline_mode
cdef uint64_t timer_hz              # one-shot mode: the timer's input clock
# Per CPU (each CPU arms its own local APIC timer; only that CPU touches its slot, with
# interrupts off): when its timer will fire (monotonic ns); 0: disarmed.
cdef uint64_t armed_ns[NR_CPUS]

cdef inline uint64_t ns_to_cycles(uint64_t ns, uint64_t hz) noexcept nogil:
    return (ns // NSEC_PER_SEC_CLOCK) * hz + (ns % NSEC_PER_SEC_CLOCK) * hz // NSEC_PER_SEC_CLOCK

cdef void program(uint64_t deadline_ns) noexcept nogil:
    """Arm the one-shot timer for deadline_ns (interrupts disabled)."""
    cdef uint64_t tsc = rdtsc()
    cdef uint64_t now = monotonic_ns()
    cdef uint64_t delta = deadline_ns - now if deadline_ns > now else 0
    cdef uint64_t count
    if deadline_mode:
        lapic_timer_set_deadline(tsc + ns_to_cycles(delta, tsc_hz()) + 1)    # never early
    else:
        # A 32-bit count: far deadlines fire early and are re-armed from clock_tick.
        if delta > ONESHOT_MAX_NS:
            delta = ONESHOT_MAX_NS
            deadline_ns = now + delta
        count = ns_to_cycles(delta, timer_hz) + 1                           # never early
        lapic_timer_oneshot(<uint32_t>(count if count <= TIMER_COUNT_LIMIT else TIMER_COUNT_LIMIT),
                            VECTOR_TIMER)
    armed_ns[percpu_cpu_index()] = deadline_ns if deadline_ns != 0 else 1

cdef void clock_request(uint64_t deadline_ns) noexcept nogil:
    cdef uint64_t flags = read_rflags()
    cdef uint64_t armed
    irq_disable()
    armed = armed_ns[percpu_cpu_index()]
    if ready and deadline_ns != 0 and (armed == 0 or deadline_ns < armed):
        program(deadline_ns)
    if flags & RFLAGS_IF:
        irq_enable()

cdef inline uint64_t earliest(uint64_t a, uint64_t b) noexcept nogil:
    """The earlier of two deadlines, 0 meaning none."""
    if a == 0:
        return b
    if b == 0 or a < b:
        return a
    return b

cdef void clock_tick(trap_frame *frame) noexcept nogil:
    global ticks
    cdef uint64_t now
    ticks += 1
    armed_ns[percpu_cpu_index()] = 0
    lapic_eoi()
    now = monotonic_ns()
    ktimer_run(now)
    sched_tick(now)
    clock_request(earliest(ktimer_next_deadline(), sched_next_deadline()))

cdef uint64_t prove_interrupt() noexcept nogil:
    """One interrupt 100 us after arming, to prove vector, handler and EOI before relying
    on them; returns the ns from arming to delivery."""
    cdef uint64_t start = ticks, t0 = monotonic_ns()
    program(t0 + PROOF_DELAY_NS)
    irq_enable()
    while ticks == start:
        if monotonic_ns() - t0 > PROOF_TIMEOUT_NS:
            irq_disable()
            panic(b"the local APIC timer raised no interrupt within 100 ms")
        cpu_relax()
    irq_disable()
    return monotonic_ns() - t0

cdef bint clock_init(uint32_t hz, uint64_t xapic_mmio) noexcept nogil:
    global tick_hz, deadline_mode, timer_hz, ready
    cdef uint64_t window_ns = 0, proof_ns
    legacy_pic_disable()
    if not lapic_init(xapic_mmio):
        kputs(b"tyn: no local APIC: no timer interrupts\n")
        return False
    tick_hz = hz
    trap_set_handler(VECTOR_TIMER, clock_tick)
    deadline_mode = lapic_has_tsc_deadline() and tsc_hz() != 0
    if deadline_mode:
        lapic_timer_deadline_mode(VECTOR_TIMER)
    else:
        timer_hz = lapic_timer_calibrate(&window_ns)
        if timer_hz == 0:
            kputs(b"tyn: local APIC timer: input clock unknown (no TSC frequency): no timer interrupts\n")
            return False
    ready = True
    proof_ns = prove_interrupt()
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
    kputs(b", one-shot, time slice ")
    kput_udec(NSEC_PER_SEC_CLOCK // hz // NS_PER_US)
    kputs(b" us (")
    kput_udec(hz)
    kputs(b" Hz), first interrupt after ")
    kput_udec(proof_ns // NS_PER_US)
    kputs(b" us\n")
    return True

cdef void clock_init_cpu() noexcept nogil:
    """An AP's local APIC timer, set up as the boot CPU's (after its proof in arch/smp)."""
    armed_ns[percpu_cpu_index()] = 0
    if deadline_mode:
        lapic_timer_deadline_mode(VECTOR_TIMER)

cdef bint clock_uses_tsc_deadline() noexcept nogil:
    return deadline_mode

cdef uint64_t clock_timer_hz() noexcept nogil:
    return timer_hz

cdef uint64_t clock_slice_ns() noexcept nogil:
    return NSEC_PER_SEC_CLOCK // tick_hz if tick_hz != 0 else NSEC_PER_SEC_CLOCK // CLOCK_DEFAULT_HZ
