# Multiboot v1 information -> boot_info (usable RAM regions, command line).
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt
from tyn.lib.kprint cimport kputs, kput_hex

cdef enum:
    PAGE_SIZE = 4096
    MMAP_ENTRY_SIZE_FIELD = 4
    ASCII_SPACE = 32

cdef void add_region(boot_info *out, uint64_t base, uint64_t length) noexcept nogil:
    """Insert [base, base+length) shrunk to whole pages, keeping regions sorted and merged."""
    cdef uint64_t start = (base + PAGE_SIZE - 1) & ~(<uint64_t>PAGE_SIZE - 1)
    cdef uint64_t end = (base + length) & ~(<uint64_t>PAGE_SIZE - 1)
    cdef int i, j
    if length == 0 or base + length < base or end <= start:
        return
    if out.region_count >= BOOT_MAX_REGIONS:
        kputs(b"tyn: too many memory map entries; ignoring RAM at ")
        kput_hex(start)
        kputs(b"\n")
        return
    i = 0
    while i < out.region_count and out.regions[i].base < start:
        i += 1
    j = out.region_count
    while j > i:
        out.regions[j] = out.regions[j - 1]
        j -= 1
    out.regions[i].base = start
    out.regions[i].length = end - start
    out.region_count += 1
    # Merge overlapping or touching neighbours (loaders may report overlaps).
    i = 0
    while i + 1 < out.region_count:
        if out.regions[i].base + out.regions[i].length >= out.regions[i + 1].base:
            end = out.regions[i + 1].base + out.regions[i + 1].length
            if end > out.regions[i].base + out.regions[i].length:
                out.regions[i].length = end - out.regions[i].base
            for j in range(i + 1, out.region_count - 1):
                out.regions[j] = out.regions[j + 1]
            out.region_count -= 1
        else:
            i += 1

cdef int multiboot_parse(uint64_t magic, uint64_t info_phys, boot_info *out) noexcept nogil:
    cdef multiboot_info *info
    cdef multiboot_mmap_entry *entry
    cdef uint64_t at, end
    cdef const char *text
    cdef int i
    out.region_count = 0
    out.usable_bytes = 0
    out.highest_address = 0
    out.cmdline_length = 0
    out.cmdline[0] = 0
    if magic != MULTIBOOT_BOOTLOADER_MAGIC:
        kputs(b"tyn: not started by a multiboot loader (magic ")
        kput_hex(magic)
        kputs(b")\n")
        return -1
    info = <multiboot_info *>phys_to_virt(info_phys)
    out.info_phys = info_phys
    out.info_end = info_phys + sizeof(multiboot_info)
    if info.flags & MULTIBOOT_INFO_MEM_MAP:
        at = info.mmap_addr
        end = at + info.mmap_length
        while at + MMAP_ENTRY_SIZE_FIELD <= end:
            entry = <multiboot_mmap_entry *>phys_to_virt(at)
            if entry.size < sizeof(multiboot_mmap_entry) - MMAP_ENTRY_SIZE_FIELD:
                break
            if entry.type == MULTIBOOT_MEMORY_AVAILABLE:
                add_region(out, entry.addr, entry.len)
            at += entry.size + MMAP_ENTRY_SIZE_FIELD
    elif info.flags & MULTIBOOT_INFO_MEMORY:
        # No map: mem_upper KiB of RAM from 1 MiB (the loader's minimum guarantee).
        add_region(out, 0x100000, <uint64_t>info.mem_upper * 1024)
    else:
        kputs(b"tyn: the boot loader gave no memory information\n")
        return -2
    for i in range(out.region_count):
        out.usable_bytes += out.regions[i].length
        if out.regions[i].base + out.regions[i].length > out.highest_address:
            out.highest_address = out.regions[i].base + out.regions[i].length
    if info.flags & MULTIBOOT_INFO_CMDLINE and info.cmdline != 0:
        # Loaders put the kernel image's path first (like argv[0]): drop it.
        text = <const char *>phys_to_virt(info.cmdline)
        while text[0] != 0 and text[0] != ASCII_SPACE:
            text += 1
        while text[0] == ASCII_SPACE:
            text += 1
        while text[out.cmdline_length] != 0 and out.cmdline_length < BOOT_CMDLINE_MAX - 1:
            out.cmdline[out.cmdline_length] = text[out.cmdline_length]
            out.cmdline_length += 1
        out.cmdline[out.cmdline_length] = 0
    return 0
