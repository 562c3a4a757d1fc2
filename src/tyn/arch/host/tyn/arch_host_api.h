/* Test-side controls of the simulated machine (arch_host.c). */
#ifndef TYN_ARCH_HOST_API_H
#define TYN_ARCH_HOST_API_H
#include <stdint.h>
#include <stddef.h>

void host_reset(void);                              /* fresh machine: ports, MSRs, console, layout */
int host_set_phys_memory(uint64_t size);            /* simulated RAM at physical 0..size; 0 on success */
uint64_t host_phys_memory_size(void);
size_t host_console_take(char *out, size_t cap);     /* drain what the kernel wrote to COM1 */
void host_uart_feed(const char *data, size_t n);     /* bytes for the kernel to read from COM1 */
int host_exit_status(void);                         /* last isa-debug-exit write, or -1 */
uint64_t host_halt_count(void);
/* Run fn(arg); returns 1 if it halted the CPU (cpu_halt/cpu_idle), 0 if it returned. */
int host_call_catching_halt(void (*fn)(void *), void *arg);
uint64_t host_port_last_write(uint16_t port);
uint64_t host_invlpg_count(void);
void host_set_rbp(uint64_t rbp);
/* Host memory [base, base+size) counts as user memory for copy_*_user. */
int host_user_window_add(uint64_t base, uint64_t size);
void host_user_windows_clear(void);
/* Make cpuid(leaf) report `bits` of register reg (0..3 = eax..edx) as clear, until host_reset. */
int host_cpuid_clear_bits(uint32_t leaf, int reg, uint32_t bits);
#endif
