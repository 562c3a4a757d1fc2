from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.entry cimport cpu_local

cdef enum:
    NR_CPUS = 64                # CPUs the kernel keeps state for (Linux's CONFIG_NR_CPUS)

# Per-CPU state (GS base) and the SYSCALL machinery (STAR/LSTAR/FMASK, EFER.SCE),
# plus SMEP/SMAP where the CPU has them.  CPU 0 is the boot CPU; the others are
# numbered in the order arch/smp starts them.
# GS base of the boot CPU, first thing in kmain: percpu_cpu_index() works from then on.
cdef extern void percpu_early_init() noexcept nogil
# The boot CPU: decides SMEP/SMAP (allow_smap) for every CPU, then as percpu_init_cpu.
cdef extern void percpu_init(bint allow_smap) noexcept nogil
# The calling CPU becomes CPU `cpu` (GS base), with the boot CPU's SYSCALL MSRs and SMEP/SMAP.
cdef extern void percpu_init_cpu(uint32_t cpu, uint32_t apic_id) noexcept nogil
# The calling CPU's block, and its index (0 = boot CPU).
cdef extern cpu_local *percpu_this() noexcept nogil
cdef extern uint32_t percpu_cpu_index() noexcept nogil
cdef extern cpu_local *percpu_of(uint32_t cpu) noexcept nogil
# The kernel stack top used on entry from user mode (syscall and interrupts), this CPU.
cdef extern void percpu_set_kernel_stack(uint64_t top) noexcept nogil
cdef extern bint percpu_has_smap() noexcept nogil
cdef extern bint percpu_has_smep() noexcept nogil
