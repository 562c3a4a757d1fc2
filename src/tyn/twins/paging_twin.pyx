# Host face of mm/paging for tests.
from libc.stdint cimport uint64_t
from tyn.mm.paging cimport *

PRESENT = PTE_PRESENT
WRITE = PTE_WRITE
USER = PTE_USER
PWT = PTE_PWT
PCD = PTE_PCD
HUGE = PTE_HUGE
GLOBAL = PTE_GLOBAL
NX = PTE_NX
ADDR_MASK = PTE_ADDR_MASK
NOT_MAPPED = PAGING_NOT_MAPPED
HUGE_PAGE = HUGE_PAGE_SIZE
MMIO_BASE = MMIO_VIRT_BASE
KSTACK_BASE = KSTACK_VIRT_BASE
OK = PAGING_OK
ERR_NO_MEMORY = PAGING_ERR_NO_MEMORY
ERR_ALREADY_MAPPED = PAGING_ERR_ALREADY_MAPPED
ERR_NOT_MAPPED = PAGING_ERR_NOT_MAPPED
ERR_UNALIGNED = PAGING_ERR_UNALIGNED
ERR_BAD_ADDRESS = PAGING_ERR_BAD_ADDRESS
ERR_HUGE_CONFLICT = PAGING_ERR_HUGE_CONFLICT
ERR_USER_KERNEL = PAGING_ERR_USER_KERNEL
ERR_NOT_READY = PAGING_ERR_NOT_READY

def new_root() -> int:
    return paging_new_root()

def map(unsigned long long root, unsigned long long va, unsigned long long pa, unsigned long long flags) -> int:
    return paging_map(root, va, pa, flags)

def map_huge(unsigned long long root, unsigned long long va, unsigned long long pa,
             unsigned long long flags) -> int:
    return paging_map_huge(root, va, pa, flags)

def unmap(unsigned long long root, unsigned long long va) -> int:
    return paging_unmap(root, va)

def unmap_huge(unsigned long long root, unsigned long long va) -> int:
    return paging_unmap_huge(root, va)

def translate(unsigned long long root, unsigned long long va):
    """(physical address, leaf flags), or None if unmapped."""
    cdef uint64_t flags = 0
    cdef uint64_t pa = paging_translate(root, va, &flags)
    return None if pa == PAGING_NOT_MAPPED else (pa, flags)

def detect_cpu_features():
    paging_detect_cpu_features()

def nx_supported() -> bool:
    return paging_nx_supported()

def init_kernel_space() -> int:
    return paging_init_kernel_space()

def kernel_root() -> int:
    return paging_kernel_root()

def map_direct(unsigned long long phys, unsigned long long length) -> int:
    return paging_map_direct(phys, length)

def map_mmio(unsigned long long phys, unsigned long long size) -> int:
    return paging_map_mmio(phys, size)

def self_check() -> int:
    return paging_self_check()

def spare_tables() -> int:
    return paging_spare_tables()

# ---------------------------------------------------- range visits that free frames

from tyn.mm.pmm cimport pmm_frame_state, pmm_free_frame, PMM_FRAME_FREE

cdef enum:
    RELEASE_RECORD_MAX = 4096

cdef struct release_record:
    uint64_t frames[RELEASE_RECORD_MAX]
    uint64_t count
    uint64_t freed_early        # frames released earlier in this visit already back in the pmm
    bint immediate              # free at once (what unmapping did before the gather)

cdef release_record record

cdef bint release_frame_visitor(void *ctx, uint64_t va, uint64_t *entry) noexcept nogil:
    """Like vma's release_visitor for frames with one owner: clear the entry and free the
    frame; checks that no frame released earlier in this visit is free yet."""
    cdef release_record *r = <release_record *>ctx
    cdef uint64_t frame = entry[0] & PTE_ADDR_MASK
    cdef uint64_t i
    for i in range(r.count):
        if pmm_frame_state(r.frames[i]) == PMM_FRAME_FREE:
            r.freed_early += 1
    entry[0] = 0
    if r.count < RELEASE_RECORD_MAX:
        r.frames[r.count] = frame
        r.count += 1
    if r.immediate:
        pmm_free_frame(frame)
    else:
        paging_free_after_flush(frame)
    return True

def visit_release(unsigned long long root, unsigned long long start, unsigned long long end,
                  bint immediate=False):
    """Release every page of [start, end) through paging_visit; returns (frames released,
    times a frame released earlier in the visit was already free during it, frames)."""
    record.count = 0
    record.freed_early = 0
    record.immediate = immediate
    paging_visit(root, start, end, release_frame_visitor, &record)
    return record.count, record.freed_early, [record.frames[i] for i in range(record.count)]

def frames_freed_after_flush() -> int:
    return paging_frames_freed_after_flush()
