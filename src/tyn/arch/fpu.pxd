from libc.stdint cimport uint64_t

cdef enum:
    FPU_AREA_ALIGN = 64
    FXSAVE_AREA_SIZE = 512
    # XCR0 state components (Intel SDM vol. 1 13.1).
    XSTATE_X87 = 1 << 0
    XSTATE_SSE = 1 << 1
    XSTATE_AVX = 1 << 2
    XSTATE_OPMASK = 1 << 5
    XSTATE_ZMM_HI256 = 1 << 6
    XSTATE_HI16_ZMM = 1 << 7

    FPU_MODE_AUTO = 0
    FPU_MODE_XSAVE = 1
    FPU_MODE_FXSAVE = 2

# Enable the FPU/SSE, and with XSAVE also AVX (mode FPU_MODE_*; auto avoids XSAVE under
# the KVM hypervisor, see fpu.pyx); returns the per-thread area size.
cdef extern uint64_t fpu_init(int mode) noexcept nogil
# An AP: the same CR0/CR4/XCR0 setup fpu_init chose (call after it).
cdef extern void fpu_init_cpu() noexcept nogil
cdef extern uint64_t fpu_area_size() noexcept nogil
cdef extern bint fpu_uses_xsave() noexcept nogil
cdef extern void fpu_save(void *area) noexcept nogil
cdef extern void fpu_restore(const void *area) noexcept nogil
# A fresh thread's state (x87 and MXCSR at their reset values, vector registers zero).
cdef extern void fpu_init_area(void *area) noexcept nogil
# CPUID says we run under KVM.  The PVM-based nested KVM of our build machines runs the
# guest kernel deprivileged and cannot emulate XSAVE, STAC or CLAC: "auto" choices avoid them.
cdef extern bint hypervisor_is_kvm() noexcept nogil
