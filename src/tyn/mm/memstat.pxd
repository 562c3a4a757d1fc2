# Where the memory went: the `profile=1` memory line, printed when init exits (its pages
# are still mapped then, so the line shows the working set at its end and the high-water
# mark of the whole run).
from libc.stdint cimport uint64_t
from tyn.mm.vma cimport mm_space

# The boot's fixed costs, from kmain: usable RAM, the kernel image, the root filesystem.
cdef extern void memstat_set_boot(uint64_t ram_bytes, uint64_t kernel_bytes, uint64_t rootfs_bytes) noexcept nogil
# One console line `tyn: profile: memory KEY VALUE ...` (KiB unless the key says otherwise)
# when profiling; exiting: an address space that process_for_each no longer visits (init's).
cdef extern void memstat_report(const mm_space *exiting) noexcept nogil
