# Monotonic time from the TSC, calibrated once at boot.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport cpuid, rdtsc, cpu_relax
from tyn.drivers.pit cimport pit_measure_tsc_hz, PIT_HZ

cdef enum:
    CPUID_TSC_CRYSTAL = 0x15
    CPUID_FREQUENCY = 0x16
    CPUID_HYPERVISOR_BASE = 0x40000000
    CPUID_HYPERVISOR_TIMING = 0x40000010
    CPUID_FEATURES = 1
    CPUID_ECX_HYPERVISOR = 1 << 31
    MHZ = 1000000
    KHZ = 1000
    PIT_CALIBRATION_TICKS = PIT_HZ // 20     # 50 ms

cdef uint64_t frequency
cdef uint64_t boot_tsc

cdef uint64_t tsc_to_ns(uint64_t ticks, uint64_t hz) noexcept nogil:
    """ticks of an hz clock in nanoseconds, without overflowing for centuries of uptime."""
    if hz == 0:
        return 0
    return (ticks // hz) * NSEC_PER_SEC + (ticks % hz) * NSEC_PER_SEC // hz

cdef int tsc_calibrate() noexcept nogil:
    """Find the TSC frequency; returns the TSC_SOURCE_* used."""
    global frequency, boot_tsc
    cdef uint32_t r[4]
    cdef uint32_t max_leaf
    boot_tsc = rdtsc()
    cpuid(0, 0, r)
    max_leaf = r[0]
    if max_leaf >= CPUID_TSC_CRYSTAL:
        cpuid(CPUID_TSC_CRYSTAL, 0, r)      # eax = denominator, ebx = numerator, ecx = crystal Hz
        if r[0] != 0 and r[1] != 0 and r[2] != 0:
            frequency = <uint64_t>r[2] * r[1] // r[0]
            return TSC_SOURCE_CPUID_15H
    cpuid(CPUID_FEATURES, 0, r)
    if r[2] & CPUID_ECX_HYPERVISOR:
        cpuid(CPUID_HYPERVISOR_BASE, 0, r)
        if r[0] >= CPUID_HYPERVISOR_TIMING:
            cpuid(CPUID_HYPERVISOR_TIMING, 0, r)    # eax = TSC kHz
            if r[0] != 0:
                frequency = <uint64_t>r[0] * KHZ
                return TSC_SOURCE_HYPERVISOR
    frequency = pit_measure_tsc_hz(PIT_CALIBRATION_TICKS)
    if frequency != 0:
        return TSC_SOURCE_PIT
    if max_leaf >= CPUID_FREQUENCY:
        cpuid(CPUID_FREQUENCY, 0, r)        # eax = base MHz
        if r[0] != 0:
            frequency = <uint64_t>r[0] * MHZ
            return TSC_SOURCE_CPUID_16H
    return TSC_SOURCE_NONE

cdef const char *tsc_source_name(int source) noexcept nogil:
    if source == TSC_SOURCE_CPUID_15H: return b"CPUID 15h"
    if source == TSC_SOURCE_HYPERVISOR: return b"hypervisor CPUID 40000010h"
    if source == TSC_SOURCE_PIT: return b"PIT"
    if source == TSC_SOURCE_CPUID_16H: return b"CPUID 16h (nominal)"
    return b"none"

cdef uint64_t tsc_hz() noexcept nogil:
    return frequency

cdef uint64_t monotonic_ns() noexcept nogil:
    """Nanoseconds since tsc_calibrate()."""
    return tsc_to_ns(rdtsc() - boot_tsc, frequency)

cdef void tsc_busy_wait_ns(uint64_t ns) noexcept nogil:
    cdef uint64_t end = monotonic_ns() + ns
    while monotonic_ns() < end:
        cpu_relax()
