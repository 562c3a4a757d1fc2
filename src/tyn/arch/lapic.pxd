from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.trap cimport trap_handler

cdef enum:
    MSR_IA32_APIC_BASE = 0x1B
    APIC_BASE_X2APIC_ENABLE = 1 << 10
    APIC_BASE_GLOBAL_ENABLE = 1 << 11
    APIC_BASE_ADDRESS_MASK = 0xFFFFFF000
    MSR_X2APIC_FIRST = 0x800        # x2APIC register r is MSR 0x800 + (r >> 4)
    CPUID_ECX_X2APIC = 1 << 21
    CPUID_EDX_APIC = 1 << 9
    # Register offsets (Intel SDM vol. 3 table 11-1).
    LAPIC_ID = 0x20
    LAPIC_TPR = 0x80
    LAPIC_EOI = 0xB0
    LAPIC_SVR = 0xF0
    LAPIC_LVT_TIMER = 0x320
    LAPIC_TIMER_INITIAL = 0x380
    LAPIC_TIMER_CURRENT = 0x390
    LAPIC_TIMER_DIVIDE = 0x3E0
    LAPIC_SVR_ENABLE = 1 << 8
    LAPIC_LVT_MASKED = 1 << 16
    LAPIC_TIMER_PERIODIC = 1 << 17
    LAPIC_TIMER_DIVIDE_BY_16 = 0x3
    LAPIC_TIMER_DIVISOR = 16

# Enable the local APIC.  xapic_mmio: the virtual address of the xAPIC page, used
# only when the CPU has no x2APIC.  Returns False if there is no APIC.
cdef extern bint lapic_init(uint64_t xapic_mmio) noexcept nogil
cdef extern bint lapic_is_x2apic() noexcept nogil
cdef extern uint64_t lapic_xapic_phys() noexcept nogil
cdef extern void lapic_eoi() noexcept nogil
# Periodic timer interrupts at `hz` on `vector`; returns the timer's input clock in Hz.
cdef extern uint64_t lapic_timer_start(uint32_t hz, int vector) noexcept nogil
cdef extern void legacy_pic_disable() noexcept nogil
