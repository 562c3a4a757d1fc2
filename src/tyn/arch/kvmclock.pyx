# KVM's paravirtual clock, used only to learn the TSC frequency: KVM writes its own
# TSC-to-nanoseconds scale into a page we name by MSR; we read it once and switch it off.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport cpuid, wrmsr, virt_to_phys, compiler_barrier
from tyn.arch.fpu cimport hypervisor_is_kvm

cdef enum:
    NSEC_PER_SEC = 1000000000
    PVCLOCK_ALIGN = 32              # the struct must not cross a page: align it to its size
    PVCLOCK_READ_TRIES = 1000

cdef uint8_t area[2 * PVCLOCK_ALIGN]

cdef uint64_t kvmclock_scale_to_hz(uint32_t mul, int shift) noexcept nogil:
    cdef uint64_t hz
    if mul == 0 or shift > 31 or shift < -31:
        return 0
    hz = ((<uint64_t>NSEC_PER_SEC) << 32) // mul
    if shift >= 0:
        return hz >> shift
    return hz << (-shift)

cdef uint64_t kvmclock_tsc_hz() noexcept nogil:
    cdef uint32_t r[4]
    cdef uint64_t va = (<uint64_t>&area[0] + PVCLOCK_ALIGN - 1) & ~(<uint64_t>PVCLOCK_ALIGN - 1)
    cdef volatile pvclock_vcpu_time_info *info = <volatile pvclock_vcpu_time_info *>va
    cdef uint32_t version, mul = 0
    cdef int shift = 0, tries
    if not hypervisor_is_kvm():
        return 0
    cpuid(CPUID_KVM_FEATURES, 0, r)
    if not (r[0] & KVM_FEATURE_CLOCKSOURCE2):
        return 0
    info.version = 0
    info.tsc_to_system_mul = 0
    # KVM fills the struct before this vCPU runs again.
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, virt_to_phys(<const void *>va) | KVM_SYSTEM_TIME_ENABLE)
    for tries in range(PVCLOCK_READ_TRIES):
        version = info.version
        compiler_barrier()
        mul = info.tsc_to_system_mul
        shift = info.tsc_shift
        compiler_barrier()
        if version != 0 and not (version & 1) and version == info.version:
            break
        mul = 0
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0)       # KVM must stop writing into our memory
    return kvmclock_scale_to_hz(mul, shift)
