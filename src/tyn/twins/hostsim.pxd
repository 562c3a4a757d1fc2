# Controls of the simulated machine behind the host build (src/tyn/arch/host/arch_host.c).
from libc.stdint cimport uint16_t, uint64_t

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
