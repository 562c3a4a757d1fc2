# Monotonic time from the TSC, calibrated once at boot.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport cpuid, rdtsc
from tyn.drivers.pit cimport pit_measure_tsc_hz, PIT_HZ
from tyn.arch.kvmclock cimport kvmclock_tsc_hz

cdef enum:
    CPUID_TSC_CRYSTAL = 0x15
    CPUID_FREQUENCY = 0x16
    CPUID_HYPERVISOR_BASE = 0x40000000
    CPUID_HYPERVISOR_TIMING = 0x40000010
    CPUID_FEATURES = 1
    CPUID_ECX_HYPERVISOR = 1 << 31
    MHZ = 1000000
    KHZ = 1000
    # Against the PIT: at least 2 ms, until the window's ends are known to 100 ppm, at most 50 ms.
    PIT_CALIBRATION_MIN_TICKS = PIT_HZ // 500
    PIT_CALIBRATION_MAX_TICKS = PIT_HZ // 20
    PIT_CALIBRATION_PPM = 100
    # A measurement whose error bound is above this is taken again (a vCPU descheduled
    # between reading the TSC and the PIT, on a loaded host, widens the bound to tens of
    # percent); the best of the attempts counts.
    PIT_CALIBRATION_ACCEPT_PPM = 1000
    PIT_CALIBRATION_ATTEMPTS = 8

cdef uint64_t frequency
cdef uint64_t boot_tsc
cdef uint64_t calibration_tsc       # TSC ticks spent measuring (0: the frequency was stated)
cdef uint64_t calibration_ppm       # the measurement's error bound

cdef uint64_t tsc_to_ns(uint64_t ticks, uint64_t hz) noexcept nogil:
    """ticks of an hz clock in nanoseconds, without overflowing for centuries of uptime."""
    if hz == 0:
        return 0
    return (ticks // hz) * NSEC_PER_SEC + (ticks % hz) * NSEC_PER_SEC // hz

cdef bint tsc_hypervisor_timing(uint32_t *tsc_khz, uint32_t *apic_bus_khz) noexcept nogil:
    """CPUID 0x40000010 (VMware's timing leaf, which QEMU/KVM also offer): eax = TSC kHz,
    ebx = APIC bus kHz.  False when there is no such leaf."""
    cdef uint32_t r[4]
    cpuid(CPUID_FEATURES, 0, r)
    if not (r[2] & CPUID_ECX_HYPERVISOR):
        return False
    cpuid(CPUID_HYPERVISOR_BASE, 0, r)
    if r[0] < CPUID_HYPERVISOR_TIMING:
        return False
    cpuid(CPUID_HYPERVISOR_TIMING, 0, r)
    tsc_khz[0] = r[0]
    apic_bus_khz[0] = r[1]
    return True

cdef uint64_t measure_against_pit() noexcept nogil:
    """The TSC's Hz against the PIT, measured again while the error bound is too wide;
    sets calibration_tsc/calibration_ppm to the attempt used.  0 if the PIT does not count."""
    global calibration_tsc, calibration_ppm
    cdef uint64_t hz, window, ppm, best_hz = 0
    cdef int attempt
    for attempt in range(PIT_CALIBRATION_ATTEMPTS):
        hz = pit_measure_tsc_hz(PIT_CALIBRATION_MIN_TICKS, PIT_CALIBRATION_MAX_TICKS,
                                PIT_CALIBRATION_PPM, &window, &ppm)
        if hz == 0:
            break
        if best_hz == 0 or ppm < calibration_ppm:
            best_hz, calibration_tsc, calibration_ppm = hz, window, ppm
        if calibration_ppm <= PIT_CALIBRATION_ACCEPT_PPM:
            break
    return best_hz

cdef int tsc_calibrate() noexcept nogil:
    """Find the TSC frequency; returns the TSC_SOURCE_* used.  Stated frequencies come
    first (they cost nothing); a hypervisor's word beats CPUID 15h, which a guest may
    see passed through from a host whose TSC it does not share; the PIT is measured only
    when nothing states the frequency."""
    global frequency, boot_tsc, calibration_tsc
    cdef uint32_t r[4]
    cdef uint32_t max_leaf, tsc_khz = 0, bus_khz = 0
    boot_tsc = rdtsc()
    calibration_tsc = 0
    if tsc_hypervisor_timing(&tsc_khz, &bus_khz) and tsc_khz != 0:
        frequency = <uint64_t>tsc_khz * KHZ
        return TSC_SOURCE_HYPERVISOR
    frequency = kvmclock_tsc_hz()
    if frequency != 0:
        return TSC_SOURCE_KVMCLOCK
    cpuid(0, 0, r)
    max_leaf = r[0]
    if max_leaf >= CPUID_TSC_CRYSTAL:
        cpuid(CPUID_TSC_CRYSTAL, 0, r)      # eax = denominator, ebx = numerator, ecx = crystal Hz
        if r[0] != 0 and r[1] != 0 and r[2] != 0:
            frequency = <uint64_t>r[2] * r[1] // r[0]
            return TSC_SOURCE_CPUID_15H
    frequency = measure_against_pit()
    if frequency != 0:
        return TSC_SOURCE_PIT
    if max_leaf >= CPUID_FREQUENCY:
        cpuid(CPUID_FREQUENCY, 0, r)        # eax = base MHz
        if r[0] != 0:
            frequency = <uint64_t>r[0] * MHZ
            return TSC_SOURCE_CPUID_16H
    return TSC_SOURCE_NONE

cdef uint64_t tsc_calibration_ns() noexcept nogil:
    return tsc_to_ns(calibration_tsc, frequency)

cdef uint64_t tsc_calibration_ppm() noexcept nogil:
    return calibration_ppm

cdef const char *tsc_source_name(int source) noexcept nogil:
    if source == TSC_SOURCE_CPUID_15H: return b"CPUID 15h"
    if source == TSC_SOURCE_HYPERVISOR: return b"hypervisor CPUID 40000010h"
    if source == TSC_SOURCE_KVMCLOCK: return b"kvmclock"
    if source == TSC_SOURCE_PIT: return b"PIT"
    if source == TSC_SOURCE_CPUID_16H: return b"CPUID 16h (nominal)"
    return b"none"

cdef uint64_t tsc_hz() noexcept nogil:
    return frequency

cdef uint64_t tsc_boot_value() noexcept nogil:
    return boot_tsc

cdef uint64_t monotonic_ns() noexcept nogil:
    """Nanoseconds since tsc_calibrate()."""
    return tsc_to_ns(rdtsc() - boot_tsc, frequency)
