# User FPU/SSE/AVX state.
#
# XSAVE (x87, SSE, AVX, AVX-512 state) where the CPU has it; FXSAVE (x87 and SSE;
# AVX then stays disabled, and CPUID tells user programs so via OSXSAVE) otherwise.
# "auto" also picks FXSAVE under a KVM hypervisor: the PVM-based nested KVM on our
# build machines traps XSAVE in the guest kernel and cannot emulate it (the VM dies
# with a KVM internal error).  fpu=xsave on the command line overrides.  The kernel itself never touches these registers
# (-mgeneral-regs-only), so a thread's state only needs saving when the CPU
# switches to another thread: sched.pyx calls fpu_save/fpu_restore there.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport (cpuid, read_cr0, write_cr0, read_cr4, write_cr4, xsave64, xrstor64,
                           fxsave64, fxrstor64, xsetbv, fpu_reset, memcpy, CR0_MP, CR0_EM, CR0_TS,
                           CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE, XCR0)

cdef enum:
    CPUID_FEATURES = 1
    CPUID_ECX_XSAVE = 1 << 26
    CPUID_XSAVE_LEAF = 0xD
    CPUID_HYPERVISOR_BASE = 0x40000000
    KVM_SIGNATURE_EBX = 0x4B4D564B      # "KVMK"
    KVM_SIGNATURE_ECX = 0x564B4D56      # "VMKV"
    KVM_SIGNATURE_EDX = 0x0000004D      # "M\0\0\0"
    FPU_TEMPLATE_MAX = 8192

cdef bint use_xsave
cdef uint64_t xcr0
cdef uint64_t area_size
# The reset state, captured once at boot, copied into every new thread.
cdef char template[FPU_TEMPLATE_MAX]

cdef void *aligned_template() noexcept nogil:
    return <void *>((<uint64_t>&template[0] + FPU_AREA_ALIGN - 1) & ~(<uint64_t>FPU_AREA_ALIGN - 1))

cdef bint hypervisor_is_kvm() noexcept nogil:
    cdef uint32_t r[4]
    cpuid(CPUID_HYPERVISOR_BASE, 0, r)
    return r[1] == KVM_SIGNATURE_EBX and r[2] == KVM_SIGNATURE_ECX and r[3] == KVM_SIGNATURE_EDX

cdef void fpu_init_cpu() noexcept nogil:
    """The calling CPU (an AP) gets the FPU setup fpu_init chose on the boot CPU."""
    write_cr0((read_cr0() | CR0_MP) & ~(<uint64_t>(CR0_EM | CR0_TS)))
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT)
    if use_xsave:
        write_cr4(read_cr4() | CR4_OSXSAVE)
        xsetbv(XCR0, xcr0)
    fpu_reset()

cdef uint64_t fpu_init(int mode) noexcept nogil:
    global use_xsave, xcr0, area_size
    cdef uint32_t r[4]
    cdef uint64_t supported
    write_cr0((read_cr0() | CR0_MP) & ~(<uint64_t>(CR0_EM | CR0_TS)))
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT)
    cpuid(CPUID_FEATURES, 0, r)
    use_xsave = (r[2] & CPUID_ECX_XSAVE) != 0 and mode != FPU_MODE_FXSAVE
    if mode == FPU_MODE_AUTO and hypervisor_is_kvm():
        use_xsave = False
    area_size = FXSAVE_AREA_SIZE
    if use_xsave:
        write_cr4(read_cr4() | CR4_OSXSAVE)
        cpuid(CPUID_XSAVE_LEAF, 0, r)
        supported = r[0] | (<uint64_t>r[3] << 32)
        xcr0 = supported & (XSTATE_X87 | XSTATE_SSE | XSTATE_AVX | XSTATE_OPMASK | XSTATE_ZMM_HI256
                            | XSTATE_HI16_ZMM)
        xsetbv(XCR0, xcr0)
        cpuid(CPUID_XSAVE_LEAF, 0, r)       # ebx: area size for the components now enabled
        area_size = r[1]
        if area_size + FPU_AREA_ALIGN > FPU_TEMPLATE_MAX:
            use_xsave = False
            xcr0 = XSTATE_X87 | XSTATE_SSE
            xsetbv(XCR0, xcr0)
            area_size = FXSAVE_AREA_SIZE
    fpu_reset()
    fpu_save(aligned_template())
    return area_size

cdef uint64_t fpu_area_size() noexcept nogil:
    return area_size

cdef bint fpu_uses_xsave() noexcept nogil:
    return use_xsave

cdef void fpu_save(void *area) noexcept nogil:
    if use_xsave:
        xsave64(area, xcr0)
    else:
        fxsave64(area)

cdef void fpu_restore(const void *area) noexcept nogil:
    if use_xsave:
        xrstor64(area, xcr0)
    else:
        fxrstor64(area)

cdef void fpu_init_area(void *area) noexcept nogil:
    memcpy(area, aligned_template(), area_size)
