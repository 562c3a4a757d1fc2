# The arch layer (shim/include/tyn/arch.h; host build: src/tyn/arch/host/tyn/arch.h).
# The only way kernel Cython touches the machine.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "tyn/arch.h" nogil:
    const int TYN_HOST_BUILD
    const uint64_t KERNEL_VMA_BASE
    const uint64_t PHYS_MAP_BASE
    const uint64_t BOOT_IDENTITY_LIMIT

    void outb(uint16_t port, uint8_t v)
    void outw(uint16_t port, uint16_t v)
    void outl(uint16_t port, uint32_t v)
    uint8_t inb(uint16_t port)
    uint16_t inw(uint16_t port)
    uint32_t inl(uint16_t port)
    uint64_t rdmsr(uint32_t msr)
    void wrmsr(uint32_t msr, uint64_t v)
    uint64_t rdtsc()
    void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out)
    uint64_t read_cr0()
    uint64_t read_cr2()
    uint64_t read_cr3()
    uint64_t read_cr4()
    void write_cr0(uint64_t v)
    void write_cr3(uint64_t v)
    void write_cr4(uint64_t v)
    void invlpg(uint64_t va)
    void lgdt(uint64_t base, uint16_t limit)
    void lidt(uint64_t base, uint16_t limit)
    void ltr(uint16_t selector)
    void reload_segments(uint16_t code_selector, uint16_t data_selector)
    void irq_enable()
    void irq_disable()
    uint64_t read_rflags()
    void cpu_halt()
    void cpu_idle()
    void cpu_relax()
    uint32_t atomic_xchg(volatile uint32_t *p, uint32_t v)
    void atomic_store_release(volatile uint32_t *p, uint32_t v)
    uint64_t gs_read64(uint64_t offset)
    uint32_t gs_read32(uint64_t offset)
    uint64_t read_rbp()
    void compiler_barrier()
    void memory_fence()
    void xsave64(void *area, uint64_t mask)
    void xrstor64(const void *area, uint64_t mask)
    void fxsave64(void *area)
    void fxrstor64(const void *area)
    void xsetbv(uint32_t index, uint64_t v)
    void fpu_reset()
    uint32_t mmio_read32(uint64_t addr)
    void mmio_write32(uint64_t addr, uint32_t v)
    uint8_t mmio_read8(uint64_t addr)
    void mmio_write8(uint64_t addr, uint8_t v)
    uint16_t mmio_read16(uint64_t addr)
    void mmio_write16(uint64_t addr, uint16_t v)
    void *phys_to_virt(uint64_t pa)
    uint64_t virt_to_phys(const void *va)

    char kernel_phys_start[]
    char kernel_phys_end[]
    char kernel_text_start[]
    char kernel_text_end[]
    char kernel_rodata_start[]
    char kernel_rodata_end[]
    char kernel_data_start[]
    char kernel_data_end[]
    char kernel_end[]
    char boot_stack_guard[]
    char boot_stack_bottom[]
    char boot_stack_top[]
    uint64_t linker_symbol(const char *sym)

    void *memcpy(void *dst, const void *src, size_t n)
    void *memmove(void *dst, const void *src, size_t n)
    void *memset(void *dst, int c, size_t n)
    int memcmp(const void *a, const void *b, size_t n)

# Architectural constants (Intel SDM names).
cdef enum:
    RFLAGS_IF = 1 << 9
    CR0_WP = 1 << 16
    CR4_PGE = 1 << 7
    CR4_OSFXSR = 1 << 9
    CR4_SMEP = 1 << 20
    CR4_SMAP = 1 << 21
    CR0_MP = 1 << 1
    CR0_EM = 1 << 2
    CR0_TS = 1 << 3
    CR4_OSXMMEXCPT = 1 << 10
    CR4_OSXSAVE = 1 << 18
    MSR_EFER = 0xC0000080
    MSR_STAR = 0xC0000081
    MSR_LSTAR = 0xC0000082
    MSR_FMASK = 0xC0000084
    MSR_FS_BASE = 0xC0000100
    MSR_GS_BASE = 0xC0000101
    MSR_KERNEL_GS_BASE = 0xC0000102
    EFER_SCE = 1 << 0
    EFER_NXE = 1 << 11
    RFLAGS_TF = 1 << 8
    RFLAGS_DF = 1 << 10
    RFLAGS_AC = 1 << 18
    RFLAGS_RESERVED_1 = 1 << 1
    XCR0 = 0
