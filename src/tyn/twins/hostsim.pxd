# Controls of the simulated machine behind the host build (src/tyn/arch/host/arch_host.c).
from libc.stdint cimport uint16_t, uint32_t, uint64_t

cdef extern from "tyn/arch_host_api.h" nogil:
    void host_reset()
    int host_set_phys_memory(uint64_t size)
    uint64_t host_phys_memory_size()
    size_t host_console_take(char *out, size_t cap)
    void host_uart_feed(const char *data, size_t n)
    int host_exit_status()
    uint64_t host_halt_count()
    int host_call_catching_halt(void (*fn)(void *) noexcept nogil, void *arg)
    uint64_t host_port_last_write(uint16_t port)
    uint64_t host_invlpg_count()
    void host_set_rbp(uint64_t rbp)
    int host_cpuid_clear_bits(uint32_t leaf, int reg, uint32_t bits)

# The kernel image layout the host build's linker symbols come from (tyn/arch.h).
cdef extern from "tyn/arch.h" nogil:
    struct host_kernel_layout:
        uint64_t phys_start, phys_end, text_start, text_end, rodata_start, rodata_end
        uint64_t data_start, data_end, end, stack_guard, stack_bottom, stack_top
    host_kernel_layout host_layout
    int host_user_window_add(uint64_t base, uint64_t size)
    void host_user_windows_clear()
