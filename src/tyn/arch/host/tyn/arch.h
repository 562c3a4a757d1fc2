/*
 * Host build of the arch layer: the same API as shim/include/tyn/arch.h,
 * implemented in arch_host.c over simulated hardware so kernel modules run
 * inside pytest.  tyn/arch_host_api.h is how tests drive the simulation.
 */
#ifndef TYN_ARCH_H
#define TYN_ARCH_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "tyn/boot_layout.h"

#define TYN_HOST_BUILD 1

void outb(uint16_t port, uint8_t v);
void outw(uint16_t port, uint16_t v);
void outl(uint16_t port, uint32_t v);
uint8_t inb(uint16_t port);
uint16_t inw(uint16_t port);
uint32_t inl(uint16_t port);
uint64_t rdmsr(uint32_t msr);
void wrmsr(uint32_t msr, uint64_t v);
uint64_t rdtsc(void);
void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out);
uint64_t read_cr0(void);
uint64_t read_cr2(void);
uint64_t read_cr3(void);
uint64_t read_cr4(void);
void write_cr0(uint64_t v);
void write_cr3(uint64_t v);
void write_cr4(uint64_t v);
void invlpg(uint64_t va);
void lgdt(uint64_t base, uint16_t limit);
void lidt(uint64_t base, uint16_t limit);
void ltr(uint16_t selector);
void reload_segments(uint16_t code_selector, uint16_t data_selector);
void irq_enable(void);
void irq_disable(void);
uint64_t read_rflags(void);
void cpu_halt(void);
void cpu_idle(void);
static inline void cpu_relax(void) {}
static inline uint32_t atomic_xchg(volatile uint32_t *p, uint32_t v) {
    return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
static inline void atomic_store_release(volatile uint32_t *p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
/* GS base is per host thread (each thread a simulated CPU; set by wrmsr(MSR_GS_BASE));
 * reads through a zero base read as 0 (the boot CPU before its block is set). */
uint64_t gs_read64(uint64_t offset);
uint32_t gs_read32(uint64_t offset);
uint64_t read_rbp(void);
static inline void compiler_barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void memory_fence(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline uint32_t mmio_read32(uint64_t addr) { return *(volatile uint32_t *)addr; }
static inline void mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static inline uint8_t mmio_read8(uint64_t addr) { return *(volatile uint8_t *)addr; }
static inline void mmio_write8(uint64_t addr, uint8_t v) { *(volatile uint8_t *)addr = v; }
static inline uint16_t mmio_read16(uint64_t addr) { return *(volatile uint16_t *)addr; }
static inline void mmio_write16(uint64_t addr, uint16_t v) { *(volatile uint16_t *)addr = v; }
void xsave64(void *area, uint64_t mask);
void xrstor64(const void *area, uint64_t mask);
void fxsave64(void *area);
void fxrstor64(const void *area);
void xsetbv(uint32_t index, uint64_t v);
static inline void fpu_reset(void) {}
static inline void swapgs(void) {}
void *phys_to_virt(uint64_t pa);
uint64_t virt_to_phys(const void *va);

/* The kernel image layout, settable by tests (the linker provides it in the kernel). */
struct host_kernel_layout {
    uint64_t phys_start, phys_end, text_start, text_end, rodata_start, rodata_end,
             data_start, data_end, end, stack_guard, stack_bottom, stack_top;
};
extern struct host_kernel_layout host_layout;
#define kernel_phys_start   ((char *)host_layout.phys_start)
#define kernel_phys_end     ((char *)host_layout.phys_end)
#define kernel_text_start   ((char *)host_layout.text_start)
#define kernel_text_end     ((char *)host_layout.text_end)
#define kernel_rodata_start ((char *)host_layout.rodata_start)
#define kernel_rodata_end   ((char *)host_layout.rodata_end)
#define kernel_data_start   ((char *)host_layout.data_start)
#define kernel_data_end     ((char *)host_layout.data_end)
#define kernel_end          ((char *)host_layout.end)
#define boot_stack_guard    ((char *)host_layout.stack_guard)
#define boot_stack_bottom   ((char *)host_layout.stack_bottom)
#define boot_stack_top      ((char *)host_layout.stack_top)
static inline uint64_t linker_symbol(const char *sym) { return (uint64_t)sym; }

#include "tyn/arch_host_api.h"
#endif
