# Host face of mm/pmm for tests.
from libc.stdint cimport uint64_t
from libc.stdlib cimport malloc, free
from tyn.mm.pmm cimport *

NO_FRAME = PMM_NO_FRAME
PAGE = PAGE_SIZE
LOW_MEMORY_END = PMM_LOW_MEMORY_END
MAX_REGIONS = PMM_MAX_REGIONS
OK = PMM_OK
ERR_DOUBLE_FREE = PMM_ERR_DOUBLE_FREE
ERR_NOT_ALLOCATED = PMM_ERR_NOT_ALLOCATED
ERR_OUT_OF_RANGE = PMM_ERR_OUT_OF_RANGE
ERR_UNALIGNED = PMM_ERR_UNALIGNED
ERR_NO_MEMORY = PMM_ERR_NO_MEMORY
ERR_NOT_READY = PMM_ERR_NOT_READY
ERR_BAD_ARGUMENT = PMM_ERR_BAD_ARGUMENT
FRAME_UNAVAILABLE = PMM_FRAME_UNAVAILABLE
FRAME_FREE = PMM_FRAME_FREE
FRAME_ALLOCATED = PMM_FRAME_ALLOCATED

cdef pmm_range *to_ranges(ranges):
    cdef pmm_range *out = <pmm_range *>malloc(sizeof(pmm_range) * (len(ranges) + 1))
    for i, (base, length) in enumerate(ranges):
        out[i].base = base
        out[i].length = length
    return out

def init(usable, reserved=(), unsigned long long ceiling=0) -> int:
    """pmm_init over lists of (base, length)."""
    cdef pmm_range *u = to_ranges(usable)
    cdef pmm_range *r = to_ranges(reserved)
    try:
        return pmm_init(u, len(usable), r, len(reserved), ceiling)
    finally:
        free(u)
        free(r)

def add_region(unsigned long long base, unsigned long long length) -> int:
    return pmm_add_region(base, length)

def reserve(unsigned long long base, unsigned long long length) -> int:
    return pmm_reserve(base, length)

def set_ceiling(unsigned long long phys_limit):
    pmm_set_ceiling(phys_limit)

def alloc_frame() -> int:
    return pmm_alloc_frame()

def alloc_frames(unsigned long long count, unsigned long long align_frames=1) -> int:
    return pmm_alloc_frames(count, align_frames)

def free_frame(unsigned long long phys) -> int:
    return pmm_free_frame(phys)

def free_frames(unsigned long long phys, unsigned long long count) -> int:
    return pmm_free_frames(phys, count)

def frame_state(unsigned long long phys) -> int:
    return pmm_frame_state(phys)

def free_count() -> int:
    return pmm_free_count()

def total_count() -> int:
    return pmm_total_count()

def stats() -> dict:
    cdef pmm_stats s
    pmm_get_stats(&s)
    return s

def regions() -> list:
    cdef pmm_range r
    out = []
    for i in range(pmm_region_count()):
        r = pmm_region(i)
        out.append((r.base, r.length))
    return out

def self_check() -> int:
    return pmm_self_check()
