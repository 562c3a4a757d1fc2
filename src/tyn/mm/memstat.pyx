# The profile's memory line: the allocator's totals beside what each owner holds.
from libc.stdint cimport uint64_t
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.lib.kprofile cimport profile_enabled
from tyn.mm.pmm cimport pmm_get_stats, pmm_stats, PAGE_SIZE
from tyn.mm.heap cimport heap_get_stats, heap_stats
from tyn.mm.paging cimport paging_table_frames, paging_spare_tables
from tyn.mm.kstack cimport kstack_live_count
from tyn.mm.oom cimport oom_kill_count
from tyn.fs.tmpfs cimport tmpfs_frames_in_use
from tyn.proc.task cimport process
from tyn.mm.vma cimport mm_space
from tyn.proc.process cimport process_for_each

cdef enum:
    KIB = 1024

cdef uint64_t boot_ram, boot_kernel, boot_rootfs

cdef void memstat_set_boot(uint64_t ram_bytes, uint64_t kernel_bytes, uint64_t rootfs_bytes) noexcept nogil:
    global boot_ram, boot_kernel, boot_rootfs
    boot_ram = ram_bytes
    boot_kernel = kernel_bytes
    boot_rootfs = rootfs_bytes

cdef void field(const char *key, uint64_t value) noexcept nogil:
    kputs(b" ")
    kputs(key)
    kputs(b" ")
    kput_udec(value)

cdef void add_user_pages(process *p, void *ctx) noexcept nogil:
    (<uint64_t *>ctx)[0] += p.mm.mapped_pages

cdef void memstat_report(const mm_space *exiting) noexcept nogil:
    cdef pmm_stats pmm
    cdef heap_stats heap
    cdef uint64_t user_pages = 0
    if not profile_enabled():
        return
    pmm_get_stats(&pmm)
    heap_get_stats(&heap)
    process_for_each(add_user_pages, &user_pages)     # live processes only
    if exiting != NULL:
        user_pages += exiting.mapped_pages
    kputs(b"tyn: profile: memory")
    field(b"ram_kib", boot_ram // KIB)
    field(b"kernel_kib", boot_kernel // KIB)
    field(b"rootfs_kib", boot_rootfs // KIB)
    field(b"pmm_bitmaps_kib", pmm.metadata_frames * PAGE_SIZE // KIB)
    field(b"frames_kib", (pmm.free_frames + pmm.allocated_frames) * PAGE_SIZE // KIB)
    field(b"allocated_kib", pmm.allocated_frames * PAGE_SIZE // KIB)
    field(b"peak_allocated_kib", pmm.peak_allocated_frames * PAGE_SIZE // KIB)
    field(b"free_kib", pmm.free_frames * PAGE_SIZE // KIB)
    field(b"user_kib", user_pages * PAGE_SIZE // KIB)
    field(b"page_tables_kib", paging_table_frames() * PAGE_SIZE // KIB)
    field(b"spare_tables_kib", paging_spare_tables() * PAGE_SIZE // KIB)
    field(b"heap_kib", (heap.arena_bytes + heap.large_bytes) // KIB)
    field(b"heap_used_kib", (heap.used_bytes + heap.large_bytes) // KIB)
    field(b"tmpfs_kib", tmpfs_frames_in_use() * PAGE_SIZE // KIB)
    field(b"kernel_stacks", kstack_live_count())
    field(b"oom_kills", oom_kill_count())
    kputs(b"\n")
