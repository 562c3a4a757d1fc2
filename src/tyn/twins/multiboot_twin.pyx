# Host face of boot/multiboot: parse an info block placed in simulated RAM.
from tyn.boot.multiboot cimport boot_info, multiboot_parse

cdef boot_info info

def parse(unsigned long long magic, unsigned long long info_phys):
    """Returns (status, [(base, length)...], usable_bytes, highest_address, cmdline)."""
    status = multiboot_parse(magic, info_phys, &info)
    regions = [(info.regions[i].base, info.regions[i].length) for i in range(info.region_count)]
    return status, regions, info.usable_bytes, info.highest_address, <bytes>info.cmdline[:info.cmdline_length]
