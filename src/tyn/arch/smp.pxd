from libc.stdint cimport uint32_t, uint64_t

# Start every CPU the ACPI MADT lists (INIT/SIPI/SIPI through shim/smp_trampoline.S),
# give each its own GDT/TSS, IST and kernel stacks, per-CPU block, IDT, local APIC (timer
# proved once), FPU and SYSCALL setup, check the TSC across CPUs, and leave each AP idle
# (sti; hlt).  The boot CPU waits for each with a timeout: a CPU that does not answer is
# reported and skipped.  One console line for the CPUs, one for the TSC.  Call after
# start_processes (FPU, per-CPU, clock) on the boot CPU.
cdef extern void smp_init() noexcept nogil
# CPUs running (1 + the APs that came up).
cdef extern uint32_t smp_cpus_online() noexcept nogil
# Whether the TSC check found the CPUs' TSCs in sync; the largest backwards step seen.
cdef extern bint smp_tsc_in_sync() noexcept nogil
cdef extern uint64_t smp_tsc_max_warp() noexcept nogil
# shim/smp_trampoline.S calls this on each AP, on its own stack, with the kernel's tables.
cdef extern void smp_ap_main(uint32_t cpu) noexcept nogil
