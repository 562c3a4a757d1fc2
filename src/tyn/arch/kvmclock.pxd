from libc.stdint cimport int8_t, uint8_t, uint32_t, uint64_t

cdef enum:
    CPUID_KVM_FEATURES = 0x40000001
    KVM_FEATURE_CLOCKSOURCE2 = 1 << 3
    MSR_KVM_SYSTEM_TIME_NEW = 0x4B564D01
    KVM_SYSTEM_TIME_ENABLE = 1

# Linux's struct pvclock_vcpu_time_info (arch/x86/include/asm/pvclock-abi.h).
cdef packed struct pvclock_vcpu_time_info:
    uint32_t version
    uint32_t pad0
    uint64_t tsc_timestamp
    uint64_t system_time
    uint32_t tsc_to_system_mul
    int8_t tsc_shift
    uint8_t flags
    uint8_t pad[2]

# The TSC frequency KVM's paravirtual clock states (its TSC-to-ns scale), or 0 when this
# is not KVM or it offers no kvmclock.
cdef extern uint64_t kvmclock_tsc_hz() noexcept nogil
# Hz from a pvclock scale: ns = ((tsc << shift, or >> -shift) * mul) >> 32.
cdef extern uint64_t kvmclock_scale_to_hz(uint32_t mul, int shift) noexcept nogil
