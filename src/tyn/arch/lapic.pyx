# The local APIC: its timer drives the kernel tick.  x2APIC (MSRs) when the
# CPU has it, else xAPIC (MMIO, e.g. TCG's default CPUs).
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport cpuid, rdmsr, wrmsr, mmio_read32, mmio_write32, outb
from tyn.arch.tsc cimport tsc_busy_wait_ns, NSEC_PER_SEC
from tyn.arch.trap cimport VECTOR_SPURIOUS

cdef enum:
    CALIBRATION_NS = 10000000       # 10 ms of TSC time
    PIC_MASTER_DATA = 0x21
    PIC_SLAVE_DATA = 0xA1
    PIC_MASK_ALL = 0xFF
    TIMER_COUNT_MAX = 0xFFFFFFFF

cdef bint x2apic
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
    global x2apic, mmio_base
    cdef uint32_t r[4]
    cdef uint64_t base
    cpuid(1, 0, r)
    if not (r[3] & CPUID_EDX_APIC):
        return False
    x2apic = (r[2] & CPUID_ECX_X2APIC) != 0
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

cdef void lapic_eoi() noexcept nogil:
    write_reg(LAPIC_EOI, 0)

cdef uint64_t lapic_timer_start(uint32_t hz, int vector) noexcept nogil:
    """Calibrate the APIC timer against the TSC, then run it periodically at hz."""
    cdef uint64_t counted, timer_hz
    write_reg(LAPIC_TIMER_DIVIDE, LAPIC_TIMER_DIVIDE_BY_16)
    write_reg(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | <uint32_t>vector)
    write_reg(LAPIC_TIMER_INITIAL, TIMER_COUNT_MAX)
    tsc_busy_wait_ns(CALIBRATION_NS)
    counted = <uint64_t>TIMER_COUNT_MAX - read_reg(LAPIC_TIMER_CURRENT)
    write_reg(LAPIC_TIMER_INITIAL, 0)
    timer_hz = counted * (NSEC_PER_SEC // CALIBRATION_NS)
    write_reg(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | <uint32_t>vector)
    write_reg(LAPIC_TIMER_INITIAL, <uint32_t>(timer_hz // hz if timer_hz // hz > 0 else 1))
    return timer_hz
