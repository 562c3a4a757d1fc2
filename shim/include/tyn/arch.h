/*
 * The arch layer: the handful of machine operations Cython cannot express.
 * Kernel build: inline asm here.  Host build: src/tyn/arch/host/tyn/arch.h
 * declares the same functions, implemented over simulated hardware.
 */
#ifndef TYN_ARCH_H
#define TYN_ARCH_H

#include <stdint.h>
#include <stddef.h>
#include "tyn/boot_layout.h"

#define TYN_HOST_BUILD 0

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
/* cpuid(leaf, subleaf, out[4] = eax, ebx, ecx, edx) */
static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out) {
    __asm__ volatile("cpuid" : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3]) : "a"(leaf), "c"(subleaf));
}

static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }

/* Descriptor tables: base + limit pointer as the CPU wants it. */
struct __attribute__((packed)) descriptor_pointer { uint16_t limit; uint64_t base; };
static inline void lgdt(uint64_t base, uint16_t limit) {
    struct descriptor_pointer p = { limit, base };
    __asm__ volatile("lgdt %0" :: "m"(p));
}
static inline void lidt(uint64_t base, uint16_t limit) {
    struct descriptor_pointer p = { limit, base };
    __asm__ volatile("lidt %0" :: "m"(p));
}
static inline void ltr(uint16_t selector) { __asm__ volatile("ltr %0" :: "r"(selector)); }
/* Reload CS (far return) and the data segment registers after lgdt. */
void reload_segments(uint16_t code_selector, uint16_t data_selector);

static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline uint64_t read_rflags(void) { uint64_t v; __asm__ volatile("pushfq; popq %0" : "=r"(v)); return v; }
static inline void cpu_halt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* Atomically enable interrupts and halt: no wakeup is lost between them. */
static inline void cpu_idle(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause"); }
/* Atomically store v into *p and return what was there (XCHG with memory is always locked). */
static inline uint32_t atomic_xchg(volatile uint32_t *p, uint32_t v) {
    __asm__ volatile("xchgl %0, %1" : "+r"(v), "+m"(*p) :: "memory");
    return v;
}
/* A store no earlier access may pass (x86 stores are release stores; this stops the compiler). */
static inline void atomic_store_release(volatile uint32_t *p, uint32_t v) {
    __asm__ volatile("movl %1, %0" : "=m"(*p) : "r"(v) : "memory");
}
/* Loads from this CPU's block at GS base (tyn/cpu_local.h offsets). */
static inline uint64_t gs_read64(uint64_t offset) {
    uint64_t v;
    __asm__ volatile("movq %%gs:(%1), %0" : "=r"(v) : "r"(offset));
    return v;
}
static inline uint32_t gs_read32(uint64_t offset) {
    uint32_t v;
    __asm__ volatile("movl %%gs:(%1), %0" : "=r"(v) : "r"(offset));
    return v;
}
static inline uint64_t read_rbp(void) { uint64_t v; __asm__ volatile("mov %%rbp, %0" : "=r"(v)); return v; }
static inline void compiler_barrier(void) { __asm__ volatile("" ::: "memory"); }
/* Orders earlier stores (an LVT write) before a WRMSR that is not serializing (TSC deadline). */
static inline void memory_fence(void) { __asm__ volatile("mfence" ::: "memory"); }

/* FPU/SSE/AVX state (per thread, saved on context switch). */
static inline void xsave64(void *area, uint64_t mask) {
    __asm__ volatile("xsave64 (%0)" :: "r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32)) : "memory");
}
static inline void xrstor64(const void *area, uint64_t mask) {
    __asm__ volatile("xrstor64 (%0)" :: "r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32)) : "memory");
}
static inline void fxsave64(void *area) { __asm__ volatile("fxsave64 (%0)" :: "r"(area) : "memory"); }
static inline void fxrstor64(const void *area) { __asm__ volatile("fxrstor64 (%0)" :: "r"(area) : "memory"); }
static inline void xsetbv(uint32_t index, uint64_t v) {
    __asm__ volatile("xsetbv" :: "c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
/* Reset the x87 unit (control word 0x37F).  MXCSR is left alone: it is 0x1F80 from CPU
 * reset, and ldmxcsr from memory trips a KVM emulation failure under nested virtualisation. */
static inline void fpu_reset(void) { __asm__ volatile("fninit"); }
static inline void swapgs(void) { __asm__ volatile("swapgs" ::: "memory"); }

/* Memory-mapped I/O with volatile access. */
static inline uint32_t mmio_read32(uint64_t addr) { return *(volatile uint32_t *)addr; }
static inline void mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static inline uint8_t mmio_read8(uint64_t addr) { return *(volatile uint8_t *)addr; }
static inline void mmio_write8(uint64_t addr, uint8_t v) { *(volatile uint8_t *)addr = v; }
static inline uint16_t mmio_read16(uint64_t addr) { return *(volatile uint16_t *)addr; }
static inline void mmio_write16(uint64_t addr, uint16_t v) { *(volatile uint16_t *)addr = v; }

/* The direct map: all physical memory at PHYS_MAP_BASE. */
static inline void *phys_to_virt(uint64_t pa) { return (void *)(pa + PHYS_MAP_BASE); }
static inline uint64_t virt_to_phys(const void *va) {
    uint64_t v = (uint64_t)va;
    return v >= KERNEL_VMA_BASE ? v - KERNEL_VMA_BASE : v - PHYS_MAP_BASE;
}

/* Linker-script symbols (addresses only). */
extern char kernel_phys_start[], kernel_phys_end[];
extern char kernel_text_start[], kernel_text_end[];
extern char kernel_rodata_start[], kernel_rodata_end[];
extern char kernel_data_start[], kernel_data_end[];
extern char kernel_end[];
extern char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];
static inline uint64_t linker_symbol(const char *sym) { return (uint64_t)sym; }

/* memcpy-class primitives (shim/mem.c). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
