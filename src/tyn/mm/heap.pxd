# The kernel heap: kmalloc/kfree/kcalloc/krealloc, 16-byte aligned.
#
# Small blocks live in arenas of HEAP_ARENA_FRAMES contiguous frames from the
# pmm, reached through the direct map.  Every block starts with a 32-byte
# header (heap_block) whose `check` is HEAP_MAGIC xor the header's own address,
# so a stray pointer, a copied header or a stale one is recognised.  Blocks
# are split on allocation and coalesced with both neighbours on free (boundary
# tags: each header knows the previous block's size), so no two free blocks
# are ever adjacent; an arena that becomes entirely free goes back to the pmm
# (except the last one).  Free blocks sit in power-of-two size bins.
# Requests above HEAP_LARGE_THRESHOLD get their own frames straight from the pmm.
#
# kfree never corrupts silently: a double free, a pointer the heap did not
# hand out, or a damaged header is reported on the console, counted, and
# returned as a HEAP_ERR_* code; the heap is left unchanged.
# Entry points run with interrupts disabled (mm_lock.pxd), like the pmm's.
from libc.stdint cimport uint32_t, uint64_t

cdef extern from *:
    """
    #include <stdint.h>
    #define HEAP_MAGIC ((uint64_t)0x7061656874796e21ULL)   /* "!nytheap" */
    """
    const uint64_t HEAP_MAGIC

cdef enum:
    HEAP_ALIGN = 16
    HEAP_HEADER_SIZE = 32               # sizeof(heap_block); keeps payloads 16-aligned
    HEAP_MIN_BLOCK = 48                 # header + room for the free-list links
    HEAP_ARENA_FRAMES = 16              # 64 KiB arenas
    HEAP_LARGE_THRESHOLD = 32768        # larger requests get whole frames
    HEAP_BINS = 16
    HEAP_MAX_REQUEST = 1 << 30          # anything larger is refused outright

    # heap_block.state: readable in a memory dump.
    HEAP_STATE_FREE = 0x45455246        # "FREE"
    HEAP_STATE_USED = 0x44455355        # "USED"
    HEAP_STATE_LARGE = 0x4752414C       # "LARG": a whole-frame allocation
    HEAP_STATE_MERGED = 0x4752454D      # "MERG": absorbed into a neighbour by coalescing
    HEAP_STATE_ARENA_END = 0x20444E45   # "END ": sentinel closing an arena

    # kfree / heap results (0 = success).
    HEAP_OK = 0
    HEAP_ERR_DOUBLE_FREE = -1
    HEAP_ERR_NOT_HEAP = -2              # not a pointer kmalloc returned
    HEAP_ERR_CORRUPT = -3               # header or neighbour damaged

cdef struct heap_block:
    uint64_t check          # HEAP_MAGIC ^ address of this header
    uint32_t state
    uint32_t reserved
    uint64_t size           # whole block in bytes, header included
    uint64_t prev_size      # size of the block before it in the arena (0 = first)

cdef struct heap_stats:
    uint64_t arenas
    uint64_t arena_bytes
    uint64_t used_blocks
    uint64_t used_bytes         # arena blocks in use, headers included
    uint64_t free_blocks
    uint64_t free_bytes
    uint64_t largest_free       # largest free arena block (payload bytes)
    uint64_t large_allocations
    uint64_t large_bytes
    uint64_t double_frees
    uint64_t invalid_frees
    uint64_t corruptions

# Forget all heap state (the kernel's globals start zeroed, so this is only
# needed to start over, e.g. in tests after re-initialising the pmm).
cdef extern void heap_init() noexcept nogil
# NULL when size is 0 or memory is exhausted.
cdef extern void *kmalloc(size_t size) noexcept nogil
cdef extern void *kcalloc(size_t count, size_t size) noexcept nogil
# krealloc(NULL, n) = kmalloc(n); krealloc(p, 0) frees p and returns NULL.
# On failure returns NULL and p stays valid and unchanged.
cdef extern void *krealloc(void *p, size_t size) noexcept nogil
# HEAP_OK (also for NULL) or a HEAP_ERR_* code (reported on the console).
cdef extern int kfree(void *p) noexcept nogil
# Bytes usable at p (>= what was asked for), or 0 if p is not a live allocation.
cdef extern size_t heap_usable_size(const void *p) noexcept nogil
cdef extern void heap_get_stats(heap_stats *out) noexcept nogil
# Walk every arena and free list; returns the number of inconsistencies (0 = healthy).
cdef extern int heap_check() noexcept nogil
# Allocate, write, resize and free a few blocks; returns the number of problems.
cdef extern int heap_self_check() noexcept nogil
