from libc.stdint cimport uint64_t

cdef enum:
    NSEC_PER_SEC = 1000000000
    # Where the TSC frequency came from.
    TSC_SOURCE_NONE = 0
    TSC_SOURCE_CPUID_15H = 1      # crystal clock ratio: exact
    TSC_SOURCE_HYPERVISOR = 2     # CPUID 0x40000010 (VMware/KVM timing leaf): exact
    TSC_SOURCE_PIT = 3            # measured against the 8254
    TSC_SOURCE_CPUID_16H = 4      # nominal base frequency: approximate

cdef extern int tsc_calibrate() noexcept nogil
cdef extern uint64_t tsc_hz() noexcept nogil
cdef extern const char *tsc_source_name(int source) noexcept nogil
cdef extern uint64_t tsc_to_ns(uint64_t ticks, uint64_t hz) noexcept nogil
cdef extern uint64_t monotonic_ns() noexcept nogil
cdef extern void tsc_busy_wait_ns(uint64_t ns) noexcept nogil
