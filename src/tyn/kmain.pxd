from libc.stdint cimport uint64_t

# Called from shim/boot.S (kernel_entry64) on the boot stack.
cdef extern void kmain(uint64_t multiboot_magic, uint64_t multiboot_info_phys) noexcept nogil
