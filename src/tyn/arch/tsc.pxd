from libc.stdint cimport uint32_t, uint64_t

cdef enum:
    NSEC_PER_SEC = 1000000000
    # Where the TSC frequency came from.
    TSC_SOURCE_NONE = 0
    TSC_SOURCE_CPUID_15H = 1      # crystal clock ratio: exact
    TSC_SOURCE_HYPERVISOR = 2     # CPUID 0x40000010 (VMware/KVM timing leaf): exact
    TSC_SOURCE_PIT = 3            # measured against the 8254
    TSC_SOURCE_CPUID_16H = 4      # nominal base frequency: approximate
    TSC_SOURCE_KVMCLOCK = 5       # KVM's pvclock scale: exact

cdef extern int tsc_calibrate() noexcept nogil
cdef extern uint64_t tsc_hz() noexcept nogil
# CPUID 0x40000010 (hypervisor timing leaf): TSC and APIC bus kHz; False without it.
cdef extern bint tsc_hypervisor_timing(uint32_t *tsc_khz, uint32_t *apic_bus_khz) noexcept nogil
# How long tsc_calibrate() spent measuring (0 when the frequency was stated).
cdef extern uint64_t tsc_calibration_ns() noexcept nogil
cdef extern uint64_t tsc_calibration_ppm() noexcept nogil
cdef extern const char *tsc_source_name(int source) noexcept nogil
cdef extern uint64_t tsc_to_ns(uint64_t ticks, uint64_t hz) noexcept nogil
cdef extern uint64_t monotonic_ns() noexcept nogil
# The TSC reading at monotonic time 0 (the vDSO computes monotonic_ns from it).
cdef extern uint64_t tsc_boot_value() noexcept nogil
