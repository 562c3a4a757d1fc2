# What the (multiboot v1) boot loader tells us: memory map, command line.
from libc.stdint cimport uint32_t, uint64_t

cdef enum:
    MULTIBOOT_BOOTLOADER_MAGIC = 0x2BADB002
    MULTIBOOT_INFO_MEMORY = 1 << 0
    MULTIBOOT_INFO_CMDLINE = 1 << 2
    MULTIBOOT_INFO_MODS = 1 << 3
    MULTIBOOT_INFO_MEM_MAP = 1 << 6
    MULTIBOOT_MEMORY_AVAILABLE = 1
    BOOT_MAX_REGIONS = 64
    BOOT_CMDLINE_MAX = 4096

cdef packed struct multiboot_info:
    uint32_t flags
    uint32_t mem_lower
    uint32_t mem_upper
    uint32_t boot_device
    uint32_t cmdline
    uint32_t mods_count
    uint32_t mods_addr
    uint32_t syms[4]
    uint32_t mmap_length
    uint32_t mmap_addr

cdef packed struct multiboot_mmap_entry:
    uint32_t size               # of the rest of the entry (not counting this field)
    uint64_t addr
    uint64_t len
    uint32_t type

cdef struct memory_region:
    uint64_t base
    uint64_t length

# Parsed boot information, copied out of the loader's memory so that memory can be reused.
cdef struct boot_info:
    int region_count
    memory_region regions[BOOT_MAX_REGIONS]    # usable RAM, sorted, page-aligned inwards
    uint64_t usable_bytes
    uint64_t highest_address
    uint64_t info_phys, info_end                # the loader's structures, to keep until copied
    char cmdline[BOOT_CMDLINE_MAX]
    uint64_t cmdline_length

# Returns 0, or a negative code with a one-line explanation printed.
cdef extern int multiboot_parse(uint64_t magic, uint64_t info_phys, boot_info *out) noexcept nogil
