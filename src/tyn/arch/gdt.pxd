from libc.stdint cimport uint16_t, uint32_t, uint64_t

# Segment selectors.  The order kernel code, kernel data, user code32, user data,
# user code64 is the one SYSCALL/SYSRET (STAR) requires.
cdef enum:
    SEL_KERNEL_CODE = 0x08
    SEL_KERNEL_DATA = 0x10
    SEL_USER_CODE32 = 0x18
    SEL_USER_DATA = 0x20
    SEL_USER_CODE = 0x28
    SEL_TSS = 0x30
    SEGMENT_RPL_USER = 3
    GDT_ENTRIES = 8             # the TSS descriptor takes two
    # Interrupt stack table slots (TSS.IST1..3): exceptions that must not use a possibly bad stack.
    IST_DOUBLE_FAULT = 1
    IST_NMI = 2
    IST_MACHINE_CHECK = 3
    IST_STACKS = 3

cdef packed struct tss64:
    uint32_t reserved0
    uint64_t rsp[3]
    uint64_t reserved1
    uint64_t ist[7]
    uint64_t reserved2
    uint16_t reserved3
    uint16_t iomap_base

# Each CPU has its own GDT and TSS (the TSS holds that CPU's stacks; a busy TSS cannot
# be shared).  The descriptors are the same everywhere except the TSS base.
cdef struct cpu_descriptors:
    uint64_t gdt[GDT_ENTRIES]
    tss64 tss

# Build CPU `cpu`'s GDT and TSS and load them on the calling CPU (which must be `cpu`).
# ist_tops[i] is the top of the stack for IST slot i + 1.
cdef extern void gdt_init_cpu(int cpu, const uint64_t *ist_tops) noexcept nogil
# The boot CPU's (cpu 0).
cdef extern void gdt_init(const uint64_t *ist_tops) noexcept nogil
# The stack CPU `cpu` switches to on an interrupt from user mode (TSS.RSP0).
cdef extern void gdt_set_kernel_stack(int cpu, uint64_t rsp0) noexcept nogil
# The boot CPU's GDT entry `index`.
cdef extern uint64_t gdt_descriptor(int index) noexcept nogil
