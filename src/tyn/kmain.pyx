# The kernel's main line: bring up each subsystem in order, then idle.
from libc.stdint cimport uint64_t
from tyn.drivers.serial cimport serial_init
from tyn.lib.kprint cimport kputs
from tyn.arch.power cimport power_exit

cdef extern from "tyn/version.h":
    const char *TYN_VERSION_STRING
    const char *TYN_BUILD_VARIANT

cdef void kmain(uint64_t multiboot_magic, uint64_t multiboot_info_phys) noexcept nogil:
    serial_init()
    kputs(b"Tyn ")
    kputs(TYN_VERSION_STRING)
    kputs(b" (")
    kputs(TYN_BUILD_VARIANT)
    kputs(b") booting\n")
    power_exit(0)
