/* Simulated hardware behind the host build of the arch layer (see tyn/arch.h). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tyn/arch.h"
#include "tyn/ksyms.h"
#include "tyn/trapframe.h"
#include "tyn/initfs.h"

#define COM1 0x3F8
#define UART_LSR_THR_EMPTY 0x20
#define HALT_CONSOLE_TAIL 2000    /* console bytes shown when a halt cannot be caught */
#define UART_LSR_DATA_READY 0x01
#define UART_LCR_DLAB 0x80
#define DEBUG_EXIT_PORT 0xF4
#define CONSOLE_CAP (1 << 20)
#define MSR_SLOTS 64
#define RFLAGS_IF (1 << 9)

struct host_kernel_layout host_layout;
const uint64_t ksyms_count = 0;
/* The boot image patches this in the kernel; on the host it stays empty (no root filesystem). */
struct initfs_descriptor initfs_descriptor;
const struct ksym ksyms_table[1];
const uint64_t trap_stub_table[256];

static uint8_t *phys_mem;
static uint64_t phys_size;
static uint64_t port_value[65536];
static char console[CONSOLE_CAP];
static size_t console_len;
static char rx[4096];
static size_t rx_head, rx_tail;
static int exit_status = -1;
static uint64_t halts, invlpgs;
/* Each host thread is a simulated CPU with its own GS base. */
#define HOST_MSR_GS_BASE 0xC0000101
static __thread uint64_t gs_base;
static uint32_t msr_key[MSR_SLOTS];
static uint64_t msr_val[MSR_SLOTS];
static uint64_t cr0, cr2, cr3, cr4, rflags, fake_rbp;
static jmp_buf *halt_catcher;
/* CPUID bits a test hides (e.g. NX), per leaf and register (0..3 = eax..edx). */
#define CPUID_MASK_SLOTS 8
static struct { uint32_t leaf; int reg; uint32_t bits; } cpuid_masks[CPUID_MASK_SLOTS];
static int cpuid_mask_count;

void host_reset(void) {
    memset(port_value, 0, sizeof port_value);
    console_len = 0;
    rx_head = rx_tail = 0;
    exit_status = -1;
    halts = invlpgs = 0;
    gs_base = 0;
    memset(msr_key, 0, sizeof msr_key);
    cr0 = cr2 = cr3 = cr4 = rflags = fake_rbp = 0;
    memset(&host_layout, 0, sizeof host_layout);
    cpuid_mask_count = 0;
}

int host_set_phys_memory(uint64_t size) {
    free(phys_mem);
    phys_mem = calloc(1, size);
    phys_size = phys_mem ? size : 0;
    return phys_mem ? 0 : -1;
}
uint64_t host_phys_memory_size(void) { return phys_size; }

void *phys_to_virt(uint64_t pa) {
    if (pa >= phys_size) {
        fprintf(stderr, "host arch: physical address %#llx outside simulated RAM (%#llx)\n",
                (unsigned long long)pa, (unsigned long long)phys_size);
        abort();
    }
    return phys_mem + pa;
}
uint64_t virt_to_phys(const void *va) { return (uint64_t)((const uint8_t *)va - phys_mem); }

size_t host_console_take(char *out, size_t cap) {
    size_t n = console_len < cap ? console_len : cap;
    memcpy(out, console, n);
    memmove(console, console + n, console_len - n);
    console_len -= n;
    return n;
}
void host_uart_feed(const char *data, size_t n) {
    for (size_t i = 0; i < n && rx_tail - rx_head < sizeof rx; i++)
        rx[rx_tail++ % sizeof rx] = data[i];
}
int host_exit_status(void) { return exit_status; }
uint64_t host_halt_count(void) { return halts; }
uint64_t host_port_last_write(uint16_t port) { return port_value[port]; }
uint64_t host_invlpg_count(void) { return invlpgs; }
void host_set_rbp(uint64_t rbp) { fake_rbp = rbp; }

static int uart_dlab(void) { return (port_value[COM1 + 3] & UART_LCR_DLAB) != 0; }

void outb(uint16_t port, uint8_t v) {
    if (port == COM1 && !uart_dlab()) {
        if (console_len < CONSOLE_CAP)
            console[console_len++] = (char)v;
        return;
    }
    port_value[port] = v;
}
void outw(uint16_t port, uint16_t v) { port_value[port] = v; }
void outl(uint16_t port, uint32_t v) {
    port_value[port] = v;
    if (port == DEBUG_EXIT_PORT)
        exit_status = (int)v;
}
uint8_t inb(uint16_t port) {
    if (port == COM1 + 5)
        return UART_LSR_THR_EMPTY | (rx_head != rx_tail ? UART_LSR_DATA_READY : 0);
    if (port == COM1 && !uart_dlab())
        return rx_head != rx_tail ? (uint8_t)rx[rx_head++ % sizeof rx] : 0;
    return (uint8_t)port_value[port];
}
uint16_t inw(uint16_t port) { return (uint16_t)port_value[port]; }
uint32_t inl(uint16_t port) { return (uint32_t)port_value[port]; }

uint64_t rdmsr(uint32_t msr) {
    for (int i = 0; i < MSR_SLOTS; i++)
        if (msr_key[i] == msr)
            return msr_val[i];
    return 0;
}
uint64_t gs_read64(uint64_t offset) { return gs_base ? *(uint64_t *)(gs_base + offset) : 0; }
uint32_t gs_read32(uint64_t offset) { return gs_base ? *(uint32_t *)(gs_base + offset) : 0; }

void wrmsr(uint32_t msr, uint64_t v) {
    if (msr == HOST_MSR_GS_BASE)
        gs_base = v;
    for (int i = 0; i < MSR_SLOTS; i++)
        if (msr_key[i] == msr || msr_key[i] == 0) {
            msr_key[i] = msr;
            msr_val[i] = v;
            return;
        }
}
uint64_t rdtsc(void) { return __builtin_ia32_rdtsc(); }
void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out) {
    __asm__ volatile("cpuid" : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3]) : "a"(leaf), "c"(subleaf));
    for (int i = 0; i < cpuid_mask_count; i++)
        if (cpuid_masks[i].leaf == leaf)
            out[cpuid_masks[i].reg] &= ~cpuid_masks[i].bits;
}
int host_cpuid_clear_bits(uint32_t leaf, int reg, uint32_t bits) {
    if (reg < 0 || reg > 3 || cpuid_mask_count == CPUID_MASK_SLOTS)
        return -1;
    cpuid_masks[cpuid_mask_count].leaf = leaf;
    cpuid_masks[cpuid_mask_count].reg = reg;
    cpuid_masks[cpuid_mask_count].bits = bits;
    cpuid_mask_count++;
    return 0;
}
uint64_t read_cr0(void) { return cr0; }
uint64_t read_cr2(void) { return cr2; }
uint64_t read_cr3(void) { return cr3; }
uint64_t read_cr4(void) { return cr4; }
void write_cr0(uint64_t v) { cr0 = v; }
void write_cr3(uint64_t v) { cr3 = v; }
void write_cr4(uint64_t v) { cr4 = v; }
void invlpg(uint64_t va) { (void)va; invlpgs++; }
void lgdt(uint64_t base, uint16_t limit) { (void)base; (void)limit; }
void lidt(uint64_t base, uint16_t limit) { (void)base; (void)limit; }
void ltr(uint16_t selector) { (void)selector; }
void reload_segments(uint16_t c, uint16_t d) { (void)c; (void)d; }
void irq_enable(void) { rflags |= RFLAGS_IF; }
void irq_disable(void) { rflags &= ~(uint64_t)RFLAGS_IF; }
uint64_t read_rflags(void) { return rflags; }
uint64_t read_rbp(void) { return fake_rbp; }

void cpu_halt(void) {
    halts++;
    if (halt_catcher)
        longjmp(*halt_catcher, 1);
    fprintf(stderr, "host arch: the kernel halted the CPU outside host_call_catching_halt\n");
    /* The reason is on the console (a panic report): show its end before dying. */
    size_t shown = console_len < HALT_CONSOLE_TAIL ? console_len : HALT_CONSOLE_TAIL;
    fprintf(stderr, "host arch: console tail:\n%.*s\n", (int)shown, console + console_len - shown);
    abort();
}
void cpu_idle(void) { irq_enable(); cpu_halt(); }

int host_call_catching_halt(void (*fn)(void *), void *arg) {
    jmp_buf here, *outer = halt_catcher;
    int halted = 0;
    if (setjmp(here) == 0) {
        halt_catcher = &here;
        fn(arg);
    } else {
        halted = 1;
    }
    halt_catcher = outer;
    return halted;
}

/* ---- user memory (uaccess.h): tests register host buffers as "user" windows. */
#include "tyn/uaccess.h"
#define USER_WINDOWS 16
#define HOST_EFAULT 14
#define HOST_ENAMETOOLONG 36
static struct { uint64_t base, size; } user_windows[USER_WINDOWS];

int host_user_window_add(uint64_t base, uint64_t size) {
    for (int i = 0; i < USER_WINDOWS; i++)
        if (user_windows[i].size == 0) {
            user_windows[i].base = base;
            user_windows[i].size = size;
            return 0;
        }
    return -1;
}
void host_user_windows_clear(void) { memset(user_windows, 0, sizeof user_windows); }

static int user_range_ok(uint64_t addr, size_t n) {
    if (addr + n < addr)
        return 0;
    for (int i = 0; i < USER_WINDOWS; i++)
        if (user_windows[i].size && addr >= user_windows[i].base &&
            addr + n <= user_windows[i].base + user_windows[i].size)
            return 1;
    return n == 0;
}
int64_t copy_from_user(void *dst, uint64_t src, size_t n) {
    if (!user_range_ok(src, n)) return -HOST_EFAULT;
    memcpy(dst, (const void *)src, n);
    return 0;
}
int64_t copy_to_user(uint64_t dst, const void *src, size_t n) {
    if (!user_range_ok(dst, n)) return -HOST_EFAULT;
    memcpy((void *)dst, src, n);
    return 0;
}
int64_t clear_user(uint64_t dst, size_t n) {
    if (!user_range_ok(dst, n)) return -HOST_EFAULT;
    memset((void *)dst, 0, n);
    return 0;
}
int64_t strncpy_from_user(char *dst, uint64_t src, size_t max) {
    for (size_t i = 0; i < max; i++) {
        if (!user_range_ok(src + i, 1)) return -HOST_EFAULT;
        dst[i] = ((const char *)src)[i];
        if (dst[i] == 0) return (int64_t)i;
    }
    return -HOST_ENAMETOOLONG;
}

/* ---- FPU state, entry points: the host never runs user code; these only need to exist. */
#include "tyn/cpu_local.h"
char uaccess_begin[1], uaccess_end[1], uaccess_fault[1];
uint8_t uaccess_smap;
void xsave64(void *area, uint64_t mask) { (void)area; (void)mask; }
void xrstor64(const void *area, uint64_t mask) { (void)area; (void)mask; }
void fxsave64(void *area) { (void)area; }
void fxrstor64(const void *area) { (void)area; }
void xsetbv(uint32_t index, uint64_t v) { (void)index; (void)v; }
void syscall_entry(void) { abort(); }
void thread_first_return(void) { abort(); }
void context_switch(uint64_t *save_rsp, uint64_t load_rsp) { (void)save_rsp; (void)load_rsp; abort(); }
#include "tyn/smp_trampoline.h"
const char smp_trampoline_start[16], smp_trampoline_end[1];
void smp_ap_entry64(void) { abort(); }

/* The host build has no vDSO image (tyn.build.kernel embeds it in the kernel): an empty one. */
__asm__(".section .rodata\n.globl vdso_image_start\n.globl vdso_image_end\n"
        "vdso_image_start:\nvdso_image_end:\n.previous");
