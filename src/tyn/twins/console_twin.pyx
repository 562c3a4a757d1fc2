# Host face of drivers/serial, lib/kprint and arch/power.
from libc.stdint cimport int64_t, uint64_t
from tyn.drivers.serial cimport serial_init, serial_getc, serial_write
from tyn.lib.kprint cimport kputs, kput_dec, kput_udec, kput_hex_width, format_hex, format_dec
from tyn.arch.power cimport power_exit
from tyn.twins.hostsim cimport host_call_catching_halt

def init() -> bool:
    return serial_init()

def puts(bytes s):
    kputs(s)

def put_dec(long long v):
    kput_dec(v)

def put_udec(unsigned long long v):
    kput_udec(v)

def put_hex(unsigned long long v, int digits=1):
    kput_hex_width(v, digits)

def getc() -> int:
    return serial_getc()

cdef int exit_arg

cdef void call_exit(void *arg) noexcept nogil:
    power_exit(exit_arg)

def exit(int status) -> bool:
    """power_exit(status); returns whether the CPU was halted afterwards."""
    global exit_arg
    exit_arg = status
    return bool(host_call_catching_halt(call_exit, NULL))
