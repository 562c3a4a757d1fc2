# Physical memory: a bitmap allocator of 4 KiB frames.
#
# Two bits per frame, kept in two bitmaps carved out of free RAM at pmm_init:
#   free bit   set = the frame can be handed out
#   alloc bit  set = the frame was handed out by pmm_alloc_* (and may be freed)
# A frame with neither bit is unavailable: a hole, reserved, or the bitmaps.
# That is what lets pmm_free* tell a double free (frame already free) from a
# free of memory the allocator never owned.
#
# Allocation is lowest-address-first (single frames and runs alike), which
# makes the allocator's choices predictable (the host tests rely on that).
# Updates run with interrupts disabled (mm_lock.pxd): safe against preemption
# and interrupt handlers on one CPU (an SMP kernel will need a real lock).
from libc.stdint cimport uint64_t, int64_t

cdef extern from *:
    """
    #include <stdint.h>
    /* Returned by the pmm_alloc_* functions when no suitable frame is free. */
    #define PMM_NO_FRAME ((uint64_t)-1)
    """
    const uint64_t PMM_NO_FRAME

cdef enum:
    PAGE_SHIFT = 12
    PAGE_SIZE = 1 << PAGE_SHIFT
    # Real-mode IVT, BIOS data, EBDA, VGA and option ROMs: never allocated.
    PMM_LOW_MEMORY_END = 0x100000
    PMM_MAX_REGIONS = 64            # usable RAM ranges remembered (for the direct map)

    # Return codes (0 = success).
    PMM_OK = 0
    PMM_ERR_DOUBLE_FREE = -1        # the frame is already free
    PMM_ERR_NOT_ALLOCATED = -2      # the frame was never handed out (hole, reserved, metadata)
    PMM_ERR_OUT_OF_RANGE = -3       # beyond the highest frame the allocator covers
    PMM_ERR_UNALIGNED = -4          # not a frame address
    PMM_ERR_NO_MEMORY = -5          # no place for the allocator's own bitmaps
    PMM_ERR_NOT_READY = -6          # pmm_init has not succeeded
    PMM_ERR_BAD_ARGUMENT = -7

    # pmm_frame_state()
    PMM_FRAME_UNAVAILABLE = 0
    PMM_FRAME_FREE = 1
    PMM_FRAME_ALLOCATED = 2

# A physical address range [base, base + length).
cdef struct pmm_range:
    uint64_t base
    uint64_t length

cdef struct pmm_stats:
    uint64_t frame_limit        # frames 0 .. frame_limit-1 are covered by the bitmaps
    uint64_t free_frames
    uint64_t allocated_frames
    uint64_t peak_allocated_frames  # the most ever allocated at once (the high-water mark)
    uint64_t metadata_frames    # the bitmaps themselves
    uint64_t metadata_phys      # where they live
    uint64_t double_frees
    uint64_t invalid_frees      # never-allocated, out-of-range or unaligned frees
    uint64_t regions_dropped    # ranges beyond PMM_MAX_REGIONS (still managed, not remembered)

# usable: RAM the allocator may hand out; reserved: ranges inside it that it
# must not (kernel image, boot modules, multiboot info).  The low 1 MiB is
# always reserved.  The bitmaps are placed in usable RAM below ceiling (the
# part of RAM the boot page tables map; see pmm_set_ceiling) and outside every
# reserved range.  Returns PMM_OK or PMM_ERR_NO_MEMORY.
cdef extern int pmm_init(const pmm_range *usable, size_t usable_count,
                         const pmm_range *reserved, size_t reserved_count,
                         uint64_t ceiling) noexcept nogil
# After init: make [base, base+length) available (frames beyond the bitmaps'
# coverage are ignored; allocated or metadata frames are left alone).
# Returns the number of frames that became free, or a negative PMM_ERR_*.
cdef extern int64_t pmm_add_region(uint64_t base, uint64_t length) noexcept nogil
# After init: take free frames in [base, base+length) out of use.  Returns
# the number of frames taken, or a negative PMM_ERR_*.  Allocated frames
# inside the range stay allocated (their owner frees them later as usual).
cdef extern int64_t pmm_reserve(uint64_t base, uint64_t length) noexcept nogil
# Allocations only return frames below this physical address (0 = no limit).
cdef extern void pmm_set_ceiling(uint64_t phys_limit) noexcept nogil

cdef extern uint64_t pmm_alloc_frame() noexcept nogil
# count physically contiguous frames starting at a multiple of align_frames
# frames (a power of two; 0 or 1 = any frame).  PMM_NO_FRAME if none.
cdef extern uint64_t pmm_alloc_frames(uint64_t count, uint64_t align_frames) noexcept nogil
cdef extern int pmm_free_frame(uint64_t phys) noexcept nogil
# Frees count frames from phys; all-or-nothing: on any error nothing is freed.
cdef extern int pmm_free_frames(uint64_t phys, uint64_t count) noexcept nogil

cdef extern int pmm_frame_state(uint64_t phys) noexcept nogil
cdef extern uint64_t pmm_free_count() noexcept nogil
cdef extern uint64_t pmm_total_count() noexcept nogil     # free + allocated
cdef extern void pmm_get_stats(pmm_stats *out) noexcept nogil
# The usable ranges given to pmm_init (page-clipped, sorted, overlapping and
# adjacent ones merged), for building the direct map.
cdef extern size_t pmm_region_count() noexcept nogil
cdef extern pmm_range pmm_region(size_t i) noexcept nogil
# Allocate, check and free a few frames; returns the number of problems found.
cdef extern int pmm_self_check() noexcept nogil
