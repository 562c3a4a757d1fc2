# The local APIC: its timer drives the kernel tick.  x2APIC (MSRs) when the
# CPU has it, else xAPIC (MMIO, e.g. TCG's default CPUs).
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport cpuid, rdmsr, wrmsr, mmio_read32, mmio_write32, outb, rdtsc, memory_fence
from tyn.arch.tsc cimport tsc_hz, tsc_hypervisor_timing, tsc_to_ns, NSEC_PER_SEC
from tyn.arch.trap cimport VECTOR_SPURIOUS

cdef enum:
    # Against the TSC: until the window's ends are known to 0.1% (the tick only paces
    # scheduling and timer checks; time itself comes from the TSC), at most 10 ms.
    CALIBRATION_MAX_NS = 10000000
    CALIBRATION_PPM = 1000
    PPM = 1000000
    KHZ = 1000
    PIC_MASTER_DATA = 0x21
    PIC_SLAVE_DATA = 0xA1
    PIC_MASK_ALL = 0xFF
    TIMER_COUNT_MAX = 0xFFFFFFFF

cdef bint x2apic
cdef bint tsc_deadline
cdef uint64_t mmio_base

cdef uint32_t read_reg(uint32_t reg) noexcept nogil:
    if x2apic:
        return <uint32_t>rdmsr(MSR_X2APIC_FIRST + (reg >> 4))
    return mmio_read32(mmio_base + reg)

cdef void write_reg(uint32_t reg, uint32_t value) noexcept nogil:
    if x2apic:
        wrmsr(MSR_X2APIC_FIRST + (reg >> 4), value)
    else:
        mmio_write32(mmio_base + reg, value)

cdef uint64_t lapic_xapic_phys() noexcept nogil:
    return rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDRESS_MASK

cdef bint lapic_is_x2apic() noexcept nogil:
    return x2apic

cdef void legacy_pic_disable() noexcept nogil:
    """Mask every 8259 line: interrupts come through the APICs only."""
    outb(PIC_MASTER_DATA, PIC_MASK_ALL)
    outb(PIC_SLAVE_DATA, PIC_MASK_ALL)

cdef bint lapic_init(uint64_t xapic_mmio) noexcept nogil:
    global x2apic, mmio_base, tsc_deadline
    cdef uint32_t r[4]
    cdef uint64_t base
    cpuid(1, 0, r)
    if not (r[3] & CPUID_EDX_APIC):
        return False
    x2apic = (r[2] & CPUID_ECX_X2APIC) != 0
    tsc_deadline = (r[2] & CPUID_ECX_TSC_DEADLINE) != 0
    mmio_base = xapic_mmio
    base = rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_GLOBAL_ENABLE
    if x2apic:
        base |= APIC_BASE_X2APIC_ENABLE
    elif xapic_mmio == 0:
        return False
    wrmsr(MSR_IA32_APIC_BASE, base)
    write_reg(LAPIC_TPR, 0)
    write_reg(LAPIC_SVR, LAPIC_SVR_ENABLE | VECTOR_SPURIOUS)
    return True

cdef void lapic_enable_this_cpu() noexcept nogil:
    cdef uint64_t base = rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_GLOBAL_ENABLE
    if x2apic:
        base |= APIC_BASE_X2APIC_ENABLE
    wrmsr(MSR_IA32_APIC_BASE, base)
    write_reg(LAPIC_TPR, 0)
    write_reg(LAPIC_SVR, LAPIC_SVR_ENABLE | VECTOR_SPURIOUS)
    write_reg(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED)
    write_reg(LAPIC_TIMER_DIVIDE, LAPIC_TIMER_DIVIDE_BY_16)

cdef uint32_t lapic_id() noexcept nogil:
    if x2apic:
        return read_reg(LAPIC_ID)
    return read_reg(LAPIC_ID) >> LAPIC_ID_SHIFT

cdef bint lapic_send_ipi(uint32_t apic_id, uint32_t command, uint64_t timeout_ns) noexcept nogil:
    cdef uint64_t start, limit
    if x2apic:
        # One MSR write; x2APIC has no delivery status to wait for.
        wrmsr(MSR_X2APIC_FIRST + (LAPIC_ICR_LOW >> 4), (<uint64_t>apic_id << X2APIC_ICR_DEST_SHIFT) | command)
        return True
    write_reg(LAPIC_ICR_HIGH, apic_id << LAPIC_ICR_DEST_SHIFT)
    write_reg(LAPIC_ICR_LOW, command)           # this write sends it
    start = rdtsc()
    limit = timeout_ns * (tsc_hz() // 1000000) // 1000
    while read_reg(LAPIC_ICR_LOW) & APIC_ICR_BUSY:
        if rdtsc() - start > limit:
            return False
    return True

cdef bint lapic_has_tsc_deadline() noexcept nogil:
    return tsc_deadline

cdef void lapic_eoi() noexcept nogil:
    write_reg(LAPIC_EOI, 0)

cdef uint64_t lapic_timer_calibrate(uint64_t *window_ns) noexcept nogil:
    """The timer's input clock in Hz (after the divider): stated by the hypervisor's timing
    leaf, else counted against the TSC, each reading bracketed by two TSC reads."""
    cdef uint32_t tsc_khz = 0, bus_khz = 0, first, current
    cdef uint64_t s0, e0, s1, e1, span, slack, limit
    window_ns[0] = 0
    write_reg(LAPIC_TIMER_DIVIDE, LAPIC_TIMER_DIVIDE_BY_16)
    if tsc_hypervisor_timing(&tsc_khz, &bus_khz) and bus_khz != 0:
        return <uint64_t>bus_khz * KHZ // LAPIC_TIMER_DIVISOR
    if tsc_hz() == 0:
        return 0
    write_reg(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED)
    write_reg(LAPIC_TIMER_INITIAL, TIMER_COUNT_MAX)
    read_reg(LAPIC_TIMER_CURRENT)           # once first: TCG translates the path here
    s0 = rdtsc()
    first = read_reg(LAPIC_TIMER_CURRENT)
    e0 = rdtsc()
    limit = tsc_hz() // (NSEC_PER_SEC // CALIBRATION_MAX_NS)
    while True:
        s1 = rdtsc()
        current = read_reg(LAPIC_TIMER_CURRENT)
        e1 = rdtsc()
        span = (s1 + e1) // 2 - (s0 + e0) // 2
        slack = ((e0 - s0) + (e1 - s1)) // 2
        if slack * PPM <= span * CALIBRATION_PPM or span >= limit:
            break
    write_reg(LAPIC_TIMER_INITIAL, 0)
    window_ns[0] = tsc_to_ns(span, tsc_hz())
    return <uint64_t>(first - current) * tsc_hz() // span

cdef void lapic_timer_oneshot(uint32_t count, int vector) noexcept nogil:
    write_reg(LAPIC_LVT_TIMER, <uint32_t>vector)        # mode bits 0: one-shot
    write_reg(LAPIC_TIMER_INITIAL, count if count > 0 else 1)

cdef void lapic_timer_deadline_mode(int vector) noexcept nogil:
    write_reg(LAPIC_LVT_TIMER, LAPIC_TIMER_TSC_DEADLINE | <uint32_t>vector)
    memory_fence()                  # the mode must be set before the first deadline (SDM 10.5.4.1)

cdef void lapic_timer_set_deadline(uint64_t tsc) noexcept nogil:
    wrmsr(MSR_IA32_TSC_DEADLINE, tsc if tsc != 0 else 1)    # 0 would disarm it
