# Each CPU's cpu_local block (GS base), the SYSCALL MSRs, SMEP/SMAP.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport (cpuid, rdmsr, wrmsr, read_cr4, write_cr4, gs_read64, gs_read32,
                           MSR_EFER, MSR_STAR, MSR_LSTAR,
                           MSR_FMASK, MSR_GS_BASE, MSR_KERNEL_GS_BASE, EFER_SCE, CR4_SMEP, CR4_SMAP,
                           RFLAGS_IF, RFLAGS_TF, RFLAGS_DF, RFLAGS_AC)
from tyn.arch.entry cimport cpu_local, syscall_entry, CPU_LOCAL_SELF, CPU_LOCAL_CPU_INDEX
from tyn.arch.gdt cimport gdt_set_kernel_stack, SEL_KERNEL_CODE, SEL_USER_CODE32, SEGMENT_RPL_USER
from tyn.arch.uaccess cimport uaccess_use_smap

cdef enum:
    CPUID_STRUCTURED = 7
    CPUID_EBX_SMEP = 1 << 7
    CPUID_EBX_SMAP = 1 << 20
    STAR_SYSCALL_CS_SHIFT = 32
    STAR_SYSRET_CS_SHIFT = 48

# cpus[i] belongs to CPU i: only that CPU writes it (the boot CPU fills it before the CPU starts).
cdef cpu_local cpus[NR_CPUS]
cdef bint smep, smap

cdef void set_gs_base(uint32_t cpu) noexcept nogil:
    cpus[cpu].self = <uint64_t>&cpus[cpu]
    cpus[cpu].cpu_index = cpu
    # Kernel GS points at cpu_local; user GS starts at 0 and is swapped in on exit.
    wrmsr(MSR_GS_BASE, <uint64_t>&cpus[cpu])
    wrmsr(MSR_KERNEL_GS_BASE, 0)

cdef void percpu_early_init() noexcept nogil:
    set_gs_base(0)

cdef void percpu_init(bint allow_smap) noexcept nogil:
    global smep, smap
    cdef uint32_t r[4]
    cpuid(0, 0, r)
    if r[0] >= CPUID_STRUCTURED:
        cpuid(CPUID_STRUCTURED, 0, r)
        smep = (r[1] & CPUID_EBX_SMEP) != 0
        smap = (r[1] & CPUID_EBX_SMAP) != 0 and allow_smap
    if smap:
        uaccess_use_smap()
    percpu_init_cpu(0, cpus[0].apic_id)

cdef void percpu_init_cpu(uint32_t cpu, uint32_t apic_id) noexcept nogil:
    set_gs_base(cpu)
    cpus[cpu].apic_id = apic_id
    wrmsr(MSR_STAR, (<uint64_t>SEL_KERNEL_CODE << STAR_SYSCALL_CS_SHIFT)
          | (<uint64_t>(SEL_USER_CODE32 | SEGMENT_RPL_USER) << STAR_SYSRET_CS_SHIFT))
    wrmsr(MSR_LSTAR, <uint64_t>syscall_entry)
    # Entry runs with interrupts off until it is on the kernel stack (shim/entry.S).
    wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC)
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE)
    if smep:
        write_cr4(read_cr4() | CR4_SMEP)
    if smap:
        write_cr4(read_cr4() | CR4_SMAP)

cdef cpu_local *percpu_this() noexcept nogil:
    cdef cpu_local *self = <cpu_local *>gs_read64(CPU_LOCAL_SELF)
    return self if self != NULL else &cpus[0]       # host tests that never set GS

cdef uint32_t percpu_cpu_index() noexcept nogil:
    return gs_read32(CPU_LOCAL_CPU_INDEX)

cdef cpu_local *percpu_of(uint32_t cpu) noexcept nogil:
    return &cpus[cpu]

cdef void percpu_set_kernel_stack(uint64_t top) noexcept nogil:
    cdef cpu_local *this = percpu_this()
    this.kernel_rsp = top
    gdt_set_kernel_stack(this.cpu_index, top)

cdef bint percpu_has_smap() noexcept nogil:
    return smap

cdef bint percpu_has_smep() noexcept nogil:
    return smep
