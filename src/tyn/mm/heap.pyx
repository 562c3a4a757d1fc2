# Kernel heap: see heap.pxd for the design.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt, virt_to_phys, memset, memcpy
from tyn.lib.kprint cimport kputs, kput_hex
from tyn.mm.pmm cimport (pmm_alloc_frames, pmm_free_frames, pmm_frame_state, PMM_NO_FRAME, PMM_OK,
                         PMM_FRAME_FREE, PMM_FRAME_ALLOCATED, PAGE_SIZE, PAGE_SHIFT)
from tyn.mm.mm_lock cimport mm_lock, mm_unlock

cdef extern from *:
    int __builtin_clzll(unsigned long long x) nogil

# The first HEAP_HEADER_SIZE bytes of an arena.
cdef struct heap_arena:
    uint64_t check          # HEAP_MAGIC ^ address of the arena
    uint64_t frames
    heap_arena *next
    heap_arena *prev

# Lives in the payload of a free block.
cdef struct free_links:
    heap_block *next
    heap_block *prev

cdef heap_block *bins[HEAP_BINS]
cdef heap_arena *arenas
cdef uint64_t arena_count
cdef uint64_t large_allocations, large_bytes
cdef uint64_t double_frees, invalid_frees, corruptions

# ------------------------------------------------------------------ headers

cdef inline heap_block *block_at(uint64_t addr) noexcept nogil:
    return <heap_block *>addr

cdef inline uint64_t addr_of(const void *p) noexcept nogil:
    return <uint64_t>p

cdef inline heap_block *next_block(heap_block *b) noexcept nogil:
    return block_at(addr_of(b) + b.size)

cdef inline heap_block *prev_block(heap_block *b) noexcept nogil:
    return block_at(addr_of(b) - b.prev_size)

cdef inline void *payload(heap_block *b) noexcept nogil:
    return <void *>(addr_of(b) + HEAP_HEADER_SIZE)

cdef inline free_links *links(heap_block *b) noexcept nogil:
    return <free_links *>payload(b)

cdef inline bint header_valid(const heap_block *b) noexcept nogil:
    return b.check == (HEAP_MAGIC ^ addr_of(b))

cdef inline void write_header(heap_block *b, uint32_t state, uint64_t size, uint64_t prev_size) noexcept nogil:
    b.check = HEAP_MAGIC ^ addr_of(b)
    b.state = state
    b.reserved = 0
    b.size = size
    b.prev_size = prev_size

cdef inline uint64_t block_size_for(size_t request) noexcept nogil:
    cdef uint64_t size = ((request + HEAP_ALIGN - 1) & ~(<uint64_t>HEAP_ALIGN - 1)) + HEAP_HEADER_SIZE
    return size if size >= HEAP_MIN_BLOCK else HEAP_MIN_BLOCK

cdef inline heap_block *arena_first_block(heap_arena *a) noexcept nogil:
    return block_at(addr_of(a) + HEAP_HEADER_SIZE)

cdef inline uint64_t arena_bytes(heap_arena *a) noexcept nogil:
    return a.frames << PAGE_SHIFT

# -------------------------------------------------------------------- bins

cdef inline int bin_index(uint64_t size) noexcept nogil:
    """floor(log2(size)) - 5: bin 0 holds 32..63 bytes, bin 1 64..127, ..."""
    cdef int i = 63 - __builtin_clzll(size) - 5
    if i < 0:
        return 0
    return i if i < HEAP_BINS else HEAP_BINS - 1

cdef void bin_insert(heap_block *b) noexcept nogil:
    cdef int i = bin_index(b.size)
    links(b).prev = NULL
    links(b).next = bins[i]
    if bins[i] != NULL:
        links(bins[i]).prev = b
    bins[i] = b

cdef void bin_remove(heap_block *b) noexcept nogil:
    cdef free_links *l = links(b)
    if l.prev != NULL:
        links(l.prev).next = l.next
    else:
        bins[bin_index(b.size)] = l.next
    if l.next != NULL:
        links(l.next).prev = l.prev

cdef heap_block *bin_take(uint64_t size) noexcept nogil:
    """Remove and return a free block of at least size bytes, or NULL."""
    cdef int i
    cdef heap_block *b
    for i in range(bin_index(size), HEAP_BINS):
        b = bins[i]
        while b != NULL:
            if b.size >= size:
                bin_remove(b)
                return b
            b = links(b).next
    return NULL

# ------------------------------------------------------------------ arenas

cdef bint arena_grow() noexcept nogil:
    """Add an arena holding one free block."""
    global arenas, arena_count
    cdef uint64_t phys = pmm_alloc_frames(HEAP_ARENA_FRAMES, 1)
    cdef heap_arena *a
    cdef heap_block *b
    cdef uint64_t usable
    if phys == PMM_NO_FRAME:
        return False
    a = <heap_arena *>phys_to_virt(phys)
    a.check = HEAP_MAGIC ^ addr_of(a)
    a.frames = HEAP_ARENA_FRAMES
    a.prev = NULL
    a.next = arenas
    if arenas != NULL:
        arenas.prev = a
    arenas = a
    arena_count += 1
    usable = arena_bytes(a) - 2 * HEAP_HEADER_SIZE
    b = arena_first_block(a)
    write_header(b, HEAP_STATE_FREE, usable, 0)
    write_header(next_block(b), HEAP_STATE_ARENA_END, 0, usable)
    bin_insert(b)
    return True

cdef void arena_release(heap_arena *a) noexcept nogil:
    global arenas, arena_count
    if a.prev != NULL:
        a.prev.next = a.next
    else:
        arenas = a.next
    if a.next != NULL:
        a.next.prev = a.prev
    arena_count -= 1
    a.check = 0
    pmm_free_frames(virt_to_phys(a), a.frames)

# ---------------------------------------------------- splitting, coalescing

cdef void mark_merged(heap_block *b) noexcept nogil:
    """b's header is now inside a neighbour; a later kfree(b) still reads as a double free."""
    b.state = HEAP_STATE_MERGED

cdef void release_block(heap_block *b) noexcept nogil:
    """Make b free: coalesce with free neighbours, then bin it or return its arena."""
    cdef heap_block *n = next_block(b)
    cdef heap_block *p
    b.state = HEAP_STATE_FREE
    if n.state == HEAP_STATE_FREE:
        bin_remove(n)
        b.size += n.size
        mark_merged(n)
    if b.prev_size != 0:
        p = prev_block(b)
        if p.state == HEAP_STATE_FREE:
            bin_remove(p)
            p.size += b.size
            mark_merged(b)
            b = p
    n = next_block(b)
    n.prev_size = b.size
    if b.prev_size == 0 and n.state == HEAP_STATE_ARENA_END and arena_count > 1:
        arena_release(<heap_arena *>(addr_of(b) - HEAP_HEADER_SIZE))
        return
    bin_insert(b)

cdef void split(heap_block *b, uint64_t size) noexcept nogil:
    """Shrink in-use block b to size bytes, freeing the tail if it can hold a block."""
    cdef heap_block *tail
    cdef uint64_t rest = b.size - size
    if rest < HEAP_MIN_BLOCK:
        return
    b.size = size
    tail = next_block(b)
    write_header(tail, HEAP_STATE_USED, rest, size)
    next_block(tail).prev_size = rest
    release_block(tail)

# -------------------------------------------------------------- validation

cdef int report(const char *what, const void *p, int code) noexcept nogil:
    global double_frees, invalid_frees, corruptions
    if code == HEAP_ERR_DOUBLE_FREE:
        double_frees += 1
    elif code == HEAP_ERR_NOT_HEAP:
        invalid_frees += 1
    else:
        corruptions += 1
    kputs(b"tyn: heap: ")
    kputs(what)
    kputs(b" ")
    kput_hex(addr_of(p))
    kputs(b"\n")
    return code

cdef inline bint frame_readable(uint64_t phys) noexcept nogil:
    """Heap headers live only in frames the pmm manages (free or allocated)."""
    cdef int state = pmm_frame_state(phys)
    return state == PMM_FRAME_ALLOCATED or state == PMM_FRAME_FREE

cdef bint arena_block_consistent(heap_block *b) noexcept nogil:
    """Size sane and boundary tags agree with both neighbours."""
    cdef heap_block *n
    cdef heap_block *p
    if b.size < HEAP_MIN_BLOCK or (b.size & (HEAP_ALIGN - 1)) != 0 or b.size > HEAP_ARENA_FRAMES * PAGE_SIZE:
        return False
    n = next_block(b)
    if not header_valid(n) or n.prev_size != b.size:
        return False
    if b.prev_size != 0:
        if (b.prev_size & (HEAP_ALIGN - 1)) != 0 or b.prev_size > HEAP_ARENA_FRAMES * PAGE_SIZE:
            return False
        p = prev_block(b)
        if not header_valid(p) or p.size != b.prev_size:
            return False
    return True

cdef heap_block *live_block(const void *ptr, int *code) noexcept nogil:
    """The header of a live allocation at ptr, or NULL with *code set (and reported)."""
    cdef uint64_t addr = addr_of(ptr)
    cdef uint64_t phys
    cdef heap_block *b
    if (addr & (HEAP_ALIGN - 1)) != 0 or addr < HEAP_HEADER_SIZE:
        code[0] = report(b"free of a non-heap pointer", ptr, HEAP_ERR_NOT_HEAP)
        return NULL
    phys = virt_to_phys(<void *>(addr - HEAP_HEADER_SIZE))
    # Only read the header where reading cannot fault: frames of the direct map the pmm manages.
    if phys + HEAP_HEADER_SIZE < phys or not frame_readable(phys) \
            or not frame_readable(phys + HEAP_HEADER_SIZE - 1) \
            or phys_to_virt(phys) != <void *>(addr - HEAP_HEADER_SIZE):
        code[0] = report(b"free of a non-heap pointer", ptr, HEAP_ERR_NOT_HEAP)
        return NULL
    b = block_at(addr - HEAP_HEADER_SIZE)
    if not header_valid(b):
        code[0] = report(b"free of a non-heap pointer", ptr, HEAP_ERR_NOT_HEAP)
        return NULL
    if b.state == HEAP_STATE_FREE or b.state == HEAP_STATE_MERGED:
        code[0] = report(b"double free of", ptr, HEAP_ERR_DOUBLE_FREE)
        return NULL
    if b.state == HEAP_STATE_USED:
        if pmm_frame_state(phys) != PMM_FRAME_ALLOCATED or not arena_block_consistent(b):
            code[0] = report(b"corrupted block at", ptr, HEAP_ERR_CORRUPT)
            return NULL
        code[0] = HEAP_OK
        return b
    if b.state == HEAP_STATE_LARGE:
        if (phys & (PAGE_SIZE - 1)) != 0 or b.size == 0 or (b.size & (PAGE_SIZE - 1)) != 0:
            code[0] = report(b"corrupted block at", ptr, HEAP_ERR_CORRUPT)
            return NULL
        if pmm_frame_state(phys) != PMM_FRAME_ALLOCATED:
            # Frames already back with the pmm: a stale pointer to a freed large block.
            code[0] = report(b"double free of", ptr, HEAP_ERR_DOUBLE_FREE)
            return NULL
        code[0] = HEAP_OK
        return b
    code[0] = report(b"free of a non-heap pointer", ptr, HEAP_ERR_NOT_HEAP)
    return NULL

# --------------------------------------------------------------------- API

cdef void heap_init() noexcept nogil:
    global arenas, arena_count, large_allocations, large_bytes
    global double_frees, invalid_frees, corruptions
    cdef int i
    for i in range(HEAP_BINS):
        bins[i] = NULL
    arenas = NULL
    arena_count = large_allocations = large_bytes = 0
    double_frees = invalid_frees = corruptions = 0

cdef void *large_alloc(size_t size) noexcept nogil:
    global large_allocations, large_bytes
    cdef uint64_t frames = (size + HEAP_HEADER_SIZE + PAGE_SIZE - 1) >> PAGE_SHIFT
    cdef uint64_t phys = pmm_alloc_frames(frames, 1)
    cdef heap_block *b
    if phys == PMM_NO_FRAME:
        return NULL
    b = <heap_block *>phys_to_virt(phys)
    write_header(b, HEAP_STATE_LARGE, frames << PAGE_SHIFT, 0)
    large_allocations += 1
    large_bytes += b.size
    return payload(b)

cdef void * kmalloc_locked(size_t size) noexcept nogil:
    cdef uint64_t need
    cdef heap_block *b
    if size == 0 or size > HEAP_MAX_REQUEST:
        return NULL
    if size > HEAP_LARGE_THRESHOLD:
        return large_alloc(size)
    need = block_size_for(size)
    b = bin_take(need)
    if b == NULL:
        if not arena_grow():
            return NULL
        b = bin_take(need)
    b.state = HEAP_STATE_USED
    split(b, need)
    return payload(b)

cdef void *kcalloc(size_t count, size_t size) noexcept nogil:
    cdef void *p
    if size != 0 and count > HEAP_MAX_REQUEST // size:
        return NULL
    p = kmalloc(count * size)
    if p != NULL:
        memset(p, 0, count * size)
    return p

cdef int kfree_locked(void *p) noexcept nogil:
    global large_allocations, large_bytes
    cdef int code
    cdef heap_block *b
    if p == NULL:
        return HEAP_OK
    b = live_block(p, &code)
    if b == NULL:
        return code
    if b.state == HEAP_STATE_LARGE:
        large_allocations -= 1
        large_bytes -= b.size
        b.state = HEAP_STATE_FREE
        if pmm_free_frames(virt_to_phys(b), b.size >> PAGE_SHIFT) != PMM_OK:
            return report(b"pmm refused the frames of", p, HEAP_ERR_CORRUPT)
        return HEAP_OK
    release_block(b)
    return HEAP_OK

cdef size_t usable_size(heap_block *b) noexcept nogil:
    return b.size - HEAP_HEADER_SIZE

cdef bint grow_in_place(heap_block *b, uint64_t need) noexcept nogil:
    """Extend arena block b to need bytes by absorbing a free successor."""
    cdef heap_block *n = next_block(b)
    if n.state != HEAP_STATE_FREE or b.size + n.size < need:
        return False
    bin_remove(n)
    b.size += n.size
    mark_merged(n)
    next_block(b).prev_size = b.size
    split(b, need)
    return True

cdef void * krealloc_locked(void *p, size_t size) noexcept nogil:
    cdef int code
    cdef heap_block *b
    cdef uint64_t need, keep
    cdef void *q
    if p == NULL:
        return kmalloc(size)
    if size == 0:
        kfree(p)
        return NULL
    if size > HEAP_MAX_REQUEST:
        return NULL
    b = live_block(p, &code)
    if b == NULL:
        return NULL
    if b.state == HEAP_STATE_USED and size <= HEAP_LARGE_THRESHOLD:
        need = block_size_for(size)
        if need <= b.size:
            split(b, need)
            return p
        if grow_in_place(b, need):
            return p
    elif b.state == HEAP_STATE_LARGE and size <= usable_size(b) and size > HEAP_LARGE_THRESHOLD:
        return p
    q = kmalloc(size)
    if q == NULL:
        return NULL
    keep = usable_size(b)
    memcpy(q, p, keep if keep < size else size)
    kfree(p)
    return q

cdef size_t usable_size_locked(const void *p) noexcept nogil:
    """Quiet lookup: no report for invalid pointers (it is a query, not a free)."""
    cdef uint64_t addr = addr_of(p), phys
    cdef heap_block *b
    if p == NULL or (addr & (HEAP_ALIGN - 1)) != 0 or addr < HEAP_HEADER_SIZE:
        return 0
    phys = virt_to_phys(<void *>(addr - HEAP_HEADER_SIZE))
    if pmm_frame_state(phys) != PMM_FRAME_ALLOCATED or \
            pmm_frame_state(phys + HEAP_HEADER_SIZE - 1) != PMM_FRAME_ALLOCATED or \
            phys_to_virt(phys) != <void *>(addr - HEAP_HEADER_SIZE):
        return 0
    b = block_at(addr - HEAP_HEADER_SIZE)
    if not header_valid(b) or (b.state != HEAP_STATE_USED and b.state != HEAP_STATE_LARGE):
        return 0
    return usable_size(b)

# ------------------------------------------------------- statistics, checks

cdef void heap_get_stats(heap_stats *out) noexcept nogil:
    cdef heap_arena *a = arenas
    cdef heap_block *b
    cdef uint64_t end
    memset(out, 0, sizeof(heap_stats))
    while a != NULL:
        out.arenas += 1
        out.arena_bytes += arena_bytes(a)
        b = arena_first_block(a)
        end = addr_of(a) + arena_bytes(a) - HEAP_HEADER_SIZE
        # Bounded walk: a damaged size must not send it off the arena (heap_check reports those).
        while addr_of(b) < end and header_valid(b) and b.size >= HEAP_MIN_BLOCK:
            if b.state == HEAP_STATE_FREE:
                out.free_blocks += 1
                out.free_bytes += b.size
                if b.size - HEAP_HEADER_SIZE > out.largest_free:
                    out.largest_free = b.size - HEAP_HEADER_SIZE
            else:
                out.used_blocks += 1
                out.used_bytes += b.size
            b = next_block(b)
        a = a.next
    out.large_allocations = large_allocations
    out.large_bytes = large_bytes
    out.double_frees = double_frees
    out.invalid_frees = invalid_frees
    out.corruptions = corruptions

cdef int check_locked() noexcept nogil:
    cdef heap_arena *a = arenas
    cdef heap_arena *prev_arena = NULL
    cdef heap_block *b
    cdef heap_block *prev_blk
    cdef uint64_t end, walked_free = 0, binned_free = 0, arenas_seen = 0
    cdef int problems = 0, i
    cdef bint prev_free
    while a != NULL:
        arenas_seen += 1
        if a.check != (HEAP_MAGIC ^ addr_of(a)) or a.prev != prev_arena or a.frames == 0:
            return problems + 1          # cannot trust the list any further
        end = addr_of(a) + arena_bytes(a) - HEAP_HEADER_SIZE
        b = arena_first_block(a)
        prev_free = False
        prev_blk = NULL
        while addr_of(b) < end:
            if not header_valid(b) or (b.state != HEAP_STATE_FREE and b.state != HEAP_STATE_USED) \
                    or b.size < HEAP_MIN_BLOCK or (b.size & (HEAP_ALIGN - 1)) != 0 \
                    or b.prev_size != (prev_blk.size if prev_blk != NULL else 0):
                problems += 1
                break
            if b.state == HEAP_STATE_FREE:
                walked_free += 1
                if prev_free:
                    problems += 1        # two adjacent free blocks: a missed coalesce
                prev_free = True
            else:
                prev_free = False
            prev_blk = b
            b = next_block(b)
        if addr_of(b) != end or not header_valid(b) or b.state != HEAP_STATE_ARENA_END \
                or (prev_blk != NULL and b.prev_size != prev_blk.size):
            problems += 1
        if prev_free and prev_blk != NULL and prev_blk.prev_size == 0 and arena_count > 1:
            problems += 1                # an entirely free arena should have gone back
        prev_arena = a
        a = a.next
    if arenas_seen != arena_count:
        problems += 1
    for i in range(HEAP_BINS):
        b = bins[i]
        prev_blk = NULL
        while b != NULL:
            binned_free += 1
            if not header_valid(b) or b.state != HEAP_STATE_FREE or bin_index(b.size) != i \
                    or links(b).prev != prev_blk:
                return problems + 1
            prev_blk = b
            b = links(b).next
    if binned_free != walked_free:
        problems += 1
    return problems

cdef enum:
    SELF_CHECK_BLOCKS = 8

cdef int heap_self_check() noexcept nogil:
    cdef void *blocks[SELF_CHECK_BLOCKS]
    cdef unsigned char *p
    cdef size_t size
    cdef int problems = 0, i
    for i in range(SELF_CHECK_BLOCKS):
        size = <size_t>(24 << (2 * i))         # 24 B .. 384 KiB: arena and large blocks
        blocks[i] = kmalloc(size)
        if blocks[i] == NULL or (addr_of(blocks[i]) & (HEAP_ALIGN - 1)) != 0:
            problems += 1
            blocks[i] = NULL
            continue
        memset(blocks[i], i + 1, size)
    blocks[0] = krealloc(blocks[0], 4000)      # moves or grows; first 24 bytes must survive
    if blocks[0] == NULL:
        problems += 1
    else:
        p = <unsigned char *>blocks[0]
        if p[0] != 1 or p[23] != 1:
            problems += 1
    for i in range(1, SELF_CHECK_BLOCKS):
        if blocks[i] != NULL:
            p = <unsigned char *>blocks[i]
            size = <size_t>(24 << (2 * i))
            if p[0] != i + 1 or p[size - 1] != i + 1:
                problems += 1
    problems += heap_check()
    for i in range(SELF_CHECK_BLOCKS):
        if kfree(blocks[i]) != HEAP_OK:
            problems += 1
    problems += heap_check()
    return problems

# ------------------------------------------------ locked entry points (mm_lock.pxd)

cdef void *kmalloc(size_t size) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef void *result = kmalloc_locked(size)
    mm_unlock(irq)
    return result

cdef int kfree(void *p) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef int result = kfree_locked(p)
    mm_unlock(irq)
    return result

cdef void *krealloc(void *p, size_t size) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef void *result = krealloc_locked(p, size)
    mm_unlock(irq)
    return result

cdef size_t heap_usable_size(const void *p) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef size_t result = usable_size_locked(p)
    mm_unlock(irq)
    return result

cdef int heap_check() noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef int result = check_locked()
    mm_unlock(irq)
    return result
