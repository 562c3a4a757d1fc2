# One CPU for now: its cpu_local block, the SYSCALL MSRs, SMEP/SMAP.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport (cpuid, rdmsr, wrmsr, read_cr4, write_cr4, MSR_EFER, MSR_STAR, MSR_LSTAR,
                           MSR_FMASK, MSR_GS_BASE, MSR_KERNEL_GS_BASE, EFER_SCE, CR4_SMEP, CR4_SMAP,
                           RFLAGS_IF, RFLAGS_TF, RFLAGS_DF, RFLAGS_AC)
from tyn.arch.entry cimport cpu_local, syscall_entry
from tyn.arch.gdt cimport gdt_set_kernel_stack, SEL_KERNEL_CODE, SEL_USER_CODE32, SEGMENT_RPL_USER
from tyn.arch.uaccess cimport uaccess_use_smap

cdef enum:
    CPUID_STRUCTURED = 7
    CPUID_EBX_SMEP = 1 << 7
    CPUID_EBX_SMAP = 1 << 20
    STAR_SYSCALL_CS_SHIFT = 32
    STAR_SYSRET_CS_SHIFT = 48

cdef cpu_local boot_cpu
cdef bint smep, smap

cdef void percpu_init(bint allow_smap) noexcept nogil:
    global smep, smap
    cdef uint32_t r[4]
    boot_cpu.self = <uint64_t>&boot_cpu
    # Kernel GS points at cpu_local; user GS starts at 0 and is swapped in on exit.
    wrmsr(MSR_GS_BASE, <uint64_t>&boot_cpu)
    wrmsr(MSR_KERNEL_GS_BASE, 0)
    wrmsr(MSR_STAR, (<uint64_t>SEL_KERNEL_CODE << STAR_SYSCALL_CS_SHIFT)
          | (<uint64_t>(SEL_USER_CODE32 | SEGMENT_RPL_USER) << STAR_SYSRET_CS_SHIFT))
    wrmsr(MSR_LSTAR, <uint64_t>syscall_entry)
    # Entry runs with interrupts off until it is on the kernel stack (shim/entry.S).
    wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC)
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE)
    cpuid(0, 0, r)
    if r[0] >= CPUID_STRUCTURED:
        cpuid(CPUID_STRUCTURED, 0, r)
        smep = (r[1] & CPUID_EBX_SMEP) != 0
        smap = (r[1] & CPUID_EBX_SMAP) != 0 and allow_smap
    if smep:
        write_cr4(read_cr4() | CR4_SMEP)
    if smap:
        uaccess_use_smap()
        write_cr4(read_cr4() | CR4_SMAP)

cdef cpu_local *percpu_this() noexcept nogil:
    return &boot_cpu

cdef void percpu_set_kernel_stack(uint64_t top) noexcept nogil:
    boot_cpu.kernel_rsp = top
    gdt_set_kernel_stack(top)

cdef bint percpu_has_smap() noexcept nogil:
    return smap

cdef bint percpu_has_smep() noexcept nogil:
    return smep
