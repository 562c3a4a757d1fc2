from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.trap cimport trap_handler

cdef enum:
    MSR_IA32_APIC_BASE = 0x1B
    APIC_BASE_X2APIC_ENABLE = 1 << 10
    APIC_BASE_GLOBAL_ENABLE = 1 << 11
    APIC_BASE_ADDRESS_MASK = 0xFFFFFF000
    MSR_X2APIC_FIRST = 0x800        # x2APIC register r is MSR 0x800 + (r >> 4)
    CPUID_ECX_X2APIC = 1 << 21
    CPUID_ECX_TSC_DEADLINE = 1 << 24
    MSR_IA32_TSC_DEADLINE = 0x6E0
    CPUID_EDX_APIC = 1 << 9
    # Register offsets (Intel SDM vol. 3 table 11-1).
    LAPIC_ID = 0x20
    LAPIC_ID_SHIFT = 24             # xAPIC: the ID is bits 31..24
    LAPIC_ICR_LOW = 0x300
    LAPIC_ICR_HIGH = 0x310
    LAPIC_ICR_DEST_SHIFT = 24       # xAPIC: destination in ICR bits 63..56
    X2APIC_ICR_DEST_SHIFT = 32      # x2APIC: the 64-bit ICR MSR, destination in bits 63..32
    # ICR low word (SDM vol. 3 11.6.1): delivery mode, level, trigger, status.
    APIC_DM_INIT = 5 << 8
    APIC_DM_STARTUP = 6 << 8
    APIC_DM_FIXED = 0
    APIC_ICR_BUSY = 1 << 12         # delivery status: send pending (xAPIC only)
    APIC_INT_ASSERT = 1 << 14
    APIC_INT_LEVELTRIG = 1 << 15
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
    LAPIC_TIMER_TSC_DEADLINE = 2 << 17
    LAPIC_TIMER_DIVIDE_BY_16 = 0x3
    LAPIC_TIMER_DIVISOR = 16

# Enable the local APIC.  xapic_mmio: the virtual address of the xAPIC page, used
# only when the CPU has no x2APIC.  Returns False if there is no APIC.
cdef extern bint lapic_init(uint64_t xapic_mmio) noexcept nogil
cdef extern bint lapic_is_x2apic() noexcept nogil
# Enable the calling CPU's local APIC in the mode lapic_init chose (an AP, after lapic_init
# ran on the boot CPU); its timer masked, dividing by 16.
cdef extern void lapic_enable_this_cpu() noexcept nogil
# The calling CPU's local APIC ID.
cdef extern uint32_t lapic_id() noexcept nogil
# Send an IPI (ICR low word `command`: delivery mode, vector...) to the CPU with this APIC
# ID; False if the xAPIC still says "send pending" after timeout_ns.
cdef extern bint lapic_send_ipi(uint32_t apic_id, uint32_t command, uint64_t timeout_ns) noexcept nogil
cdef extern uint64_t lapic_xapic_phys() noexcept nogil
cdef extern void lapic_eoi() noexcept nogil
# The timer's input clock in Hz (divide by 16), from the hypervisor's timing leaf or
# measured against the TSC (*window_ns: how long that took; 0 when stated).  The timer is
# left stopped.  0 when neither is possible.
cdef extern uint64_t lapic_timer_calibrate(uint64_t *window_ns) noexcept nogil
# One interrupt on `vector` after `count` input clocks.
cdef extern void lapic_timer_oneshot(uint32_t count, int vector) noexcept nogil
# Periodic interrupts at `hz` on `vector`, given the input clock.
cdef extern void legacy_pic_disable() noexcept nogil
# TSC-deadline mode (CPUID.1:ECX[24]): the timer fires when the TSC reaches the value
# written to IA32_TSC_DEADLINE, so it needs no calibration of its own.
cdef extern bint lapic_has_tsc_deadline() noexcept nogil
cdef extern void lapic_timer_deadline_mode(int vector) noexcept nogil
cdef extern void lapic_timer_set_deadline(uint64_t tsc) noexcept nogil
