# The GDT and the TSS of each CPU: flat 64-bit segments for kernel and user, and the
# interrupt stack table that gives double fault and NMI known-good stacks.
from libc.stdint cimport uint16_t, uint64_t
from tyn.arch.cpu cimport lgdt, ltr, reload_segments, memset
from tyn.arch.percpu cimport NR_CPUS

cdef enum:
    # Descriptor access byte (bits 40..47) and flags (bits 52..55), Intel SDM vol. 3 3.4.5.
    ACCESS_ACCESSED = 1 << 0
    ACCESS_RW = 1 << 1
    ACCESS_EXECUTABLE = 1 << 3
    ACCESS_CODE_DATA = 1 << 4
    ACCESS_DPL_USER = 3 << 5
    ACCESS_PRESENT = 1 << 7
    ACCESS_TSS_AVAILABLE = 0x9
    FLAG_LONG_MODE = 1 << 1
    FLAG_SIZE_32 = 1 << 2
    FLAG_GRANULARITY_4K = 1 << 3
    LIMIT_MAX = 0xFFFFF

cdef cpu_descriptors descriptors[NR_CPUS]

cdef uint64_t segment(uint64_t access, uint64_t flags) noexcept nogil:
    """A flat (base 0, 4 GiB limit) segment descriptor."""
    return ((LIMIT_MAX & 0xFFFF) | ((<uint64_t>LIMIT_MAX >> 16) << 48)
            | ((access | ACCESS_PRESENT | ACCESS_CODE_DATA | ACCESS_ACCESSED) << 40) | (flags << 52))

cdef void gdt_init(const uint64_t *ist_tops) noexcept nogil:
    gdt_init_cpu(0, ist_tops)

cdef void gdt_init_cpu(int cpu, const uint64_t *ist_tops) noexcept nogil:
    cdef uint64_t *gdt = descriptors[cpu].gdt
    cdef tss64 *tss = &descriptors[cpu].tss
    cdef uint64_t base = <uint64_t>tss
    cdef uint64_t limit = sizeof(tss64) - 1
    cdef int i
    gdt[0] = 0
    gdt[SEL_KERNEL_CODE >> 3] = segment(ACCESS_EXECUTABLE | ACCESS_RW, FLAG_LONG_MODE | FLAG_GRANULARITY_4K)
    gdt[SEL_KERNEL_DATA >> 3] = segment(ACCESS_RW, FLAG_SIZE_32 | FLAG_GRANULARITY_4K)
    gdt[SEL_USER_CODE32 >> 3] = segment(ACCESS_EXECUTABLE | ACCESS_RW | ACCESS_DPL_USER,
                                        FLAG_SIZE_32 | FLAG_GRANULARITY_4K)
    gdt[SEL_USER_DATA >> 3] = segment(ACCESS_RW | ACCESS_DPL_USER, FLAG_SIZE_32 | FLAG_GRANULARITY_4K)
    gdt[SEL_USER_CODE >> 3] = segment(ACCESS_EXECUTABLE | ACCESS_RW | ACCESS_DPL_USER,
                                      FLAG_LONG_MODE | FLAG_GRANULARITY_4K)
    memset(tss, 0, sizeof(tss64))
    for i in range(IST_STACKS):
        tss.ist[i] = ist_tops[i]
    tss.iomap_base = sizeof(tss64)     # no I/O permission bitmap: user mode gets no ports
    # A 16-byte system descriptor: the low half like a segment, the high half base[63:32].
    gdt[SEL_TSS >> 3] = ((limit & 0xFFFF) | ((base & 0xFFFFFF) << 16)
                         | (<uint64_t>(ACCESS_TSS_AVAILABLE | ACCESS_PRESENT) << 40)
                         | (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56))
    gdt[(SEL_TSS >> 3) + 1] = base >> 32
    lgdt(<uint64_t>&gdt[0], sizeof(descriptors[cpu].gdt) - 1)
    reload_segments(SEL_KERNEL_CODE, SEL_KERNEL_DATA)
    ltr(SEL_TSS)

cdef void gdt_set_kernel_stack(int cpu, uint64_t rsp0) noexcept nogil:
    descriptors[cpu].tss.rsp[0] = rsp0

cdef uint64_t gdt_descriptor(int index) noexcept nogil:
    return descriptors[0].gdt[index]
