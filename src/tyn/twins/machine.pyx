# The simulated machine, for tests: console, UART input, exit status, RAM.
from libc.stdlib cimport malloc, free
from tyn.twins.hostsim cimport *
from tyn.lib.crng cimport crng_init

def reset():
    """A fresh machine, as kmain starts one: the random generator (and its lock, which TCP's
    ISN key and getrandom take) before anything else."""
    host_reset()
    crng_init()

def set_phys_memory(unsigned long long size):
    if host_set_phys_memory(size) != 0:
        raise MemoryError(f"cannot simulate {size} bytes of RAM")

def console() -> bytes:
    """Everything written to COM1 since the last call, its line ends (CR LF: the kernel's
    messages and the tty's ONLCR) as LF; console_raw() gives the bytes as sent."""
    return console_raw().replace(b"\r\n", b"\n")

def console_raw() -> bytes:
    """Everything written to COM1 since the last call, byte for byte."""
    cdef size_t cap = 1 << 20
    cdef char *buf = <char *>malloc(cap)
    try:
        n = host_console_take(buf, cap)
        return buf[:n]
    finally:
        free(buf)

def feed_uart(bytes data):
    host_uart_feed(data, len(data))

def exit_status():
    return host_exit_status()

def halt_count():
    return host_halt_count()

def port_last_write(int port):
    return host_port_last_write(port)

def invlpg_count():
    return host_invlpg_count()

from tyn.arch.cpu cimport phys_to_virt
from libc.string cimport memcpy as c_memcpy

def write_phys(unsigned long long address, bytes data):
    """Store bytes in simulated RAM at a physical address."""
    if address + len(data) > host_phys_memory_size():
        raise ValueError("outside simulated RAM")
    c_memcpy(phys_to_virt(address), <const char *>data, len(data))

def read_phys(unsigned long long address, size_t length) -> bytes:
    if address + length > host_phys_memory_size():
        raise ValueError("outside simulated RAM")
    return (<char *>phys_to_virt(address))[:length]

def hide_cpuid_bits(unsigned int leaf, int reg, unsigned int bits):
    """Make CPUID leaf report bits of register reg (0..3 = eax..edx) clear, until reset()."""
    if host_cpuid_clear_bits(leaf, reg, bits) != 0:
        raise ValueError("bad register or too many CPUID masks")

def set_kernel_layout(**addresses):
    """Set the host build's linker symbols: text_start=... stands for kernel_text_start, etc."""
    global host_layout
    cdef dict fields = host_layout
    for name, value in addresses.items():
        if name not in fields:
            raise KeyError(name)
        fields[name] = value
    host_layout = fields

def kernel_layout() -> dict:
    return host_layout
