# Physical frame allocator: see pmm.pxd for the model (two bitmaps, lowest-first).
from libc.stdint cimport uint64_t, int64_t
from tyn.arch.cpu cimport phys_to_virt, memset
from tyn.lib.kprint cimport kputs, kput_hex
from tyn.mm.mm_lock cimport mm_lock, mm_unlock

cdef extern from *:
    int __builtin_ctzll(unsigned long long x) nogil     # one BSF/TZCNT instruction

cdef enum:
    BITS_PER_WORD = 64
    WORD_SHIFT = 6

cdef uint64_t *free_map            # bit set: frame free
cdef uint64_t *alloc_map           # bit set: frame handed out
cdef uint64_t map_words
cdef uint64_t frame_limit          # frames covered by the maps
cdef uint64_t ceiling_frame        # allocations stay below this frame (0 = no limit)
cdef uint64_t lowest_free          # no free frame exists below this one
cdef uint64_t free_frames, allocated_frames, peak_allocated
cdef uint64_t meta_phys, meta_frames
cdef uint64_t double_frees, invalid_frees, regions_dropped
cdef pmm_range regions[PMM_MAX_REGIONS]
cdef size_t region_count
cdef bint ready

# ------------------------------------------------------------ range helpers

cdef inline uint64_t end_of(uint64_t base, uint64_t length) noexcept nogil:
    """base + length, saturating instead of wrapping past 2**64."""
    if length > <uint64_t>0 - 1 - base:
        return <uint64_t>0 - 1
    return base + length

cdef inline uint64_t frames_up(uint64_t addr) noexcept nogil:
    """Frame index of addr rounded up to a frame boundary (saturating)."""
    return (addr >> PAGE_SHIFT) + (1 if (addr & (PAGE_SIZE - 1)) != 0 else 0)

cdef inline uint64_t align_up(uint64_t v, uint64_t align) noexcept nogil:
    return (v + align - 1) & ~(align - 1)

cdef inline uint64_t min_frame(uint64_t a, uint64_t b) noexcept nogil:
    return a if a < b else b

cdef inline uint64_t search_end() noexcept nogil:
    if ceiling_frame != 0 and ceiling_frame < frame_limit:
        return ceiling_frame
    return frame_limit

# ----------------------------------------------------------- bitmap helpers

cdef inline uint64_t word_mask(uint64_t start, uint64_t end, uint64_t w) noexcept nogil:
    """Bits of word w that fall inside frames [start, end)."""
    cdef uint64_t lo = w << WORD_SHIFT
    cdef uint64_t mask = <uint64_t>0 - 1
    if start > lo:
        mask &= (<uint64_t>0 - 1) << (start - lo)
    if end < lo + BITS_PER_WORD:
        mask &= ((<uint64_t>1) << (end - lo)) - 1
    return mask

cdef uint64_t set_bits(uint64_t *bitmap, uint64_t start, uint64_t end) noexcept nogil:
    """Set bits [start, end); returns how many changed."""
    cdef uint64_t w, mask, changed = 0
    if start >= end:
        return 0
    for w in range(start >> WORD_SHIFT, ((end - 1) >> WORD_SHIFT) + 1):
        mask = word_mask(start, end, w)
        changed += popcount64(~bitmap[w] & mask)
        bitmap[w] |= mask
    return changed

cdef uint64_t clear_bits(uint64_t *bitmap, uint64_t start, uint64_t end) noexcept nogil:
    """Clear bits [start, end); returns how many changed."""
    cdef uint64_t w, mask, changed = 0
    if start >= end:
        return 0
    for w in range(start >> WORD_SHIFT, ((end - 1) >> WORD_SHIFT) + 1):
        mask = word_mask(start, end, w)
        changed += popcount64(bitmap[w] & mask)
        bitmap[w] &= ~mask
    return changed

cdef uint64_t find_bit(const uint64_t *bitmap, uint64_t start, uint64_t end, bint want_set) noexcept nogil:
    """First frame in [start, end) whose bit equals want_set, or end."""
    cdef uint64_t w, x, f
    if start >= end:
        return end
    w = start >> WORD_SHIFT
    x = bitmap[w] if want_set else ~bitmap[w]
    x &= (<uint64_t>0 - 1) << (start & (BITS_PER_WORD - 1))
    while True:
        if x != 0:
            f = (w << WORD_SHIFT) + <uint64_t>__builtin_ctzll(x)
            return f if f < end else end
        w += 1
        if (w << WORD_SHIFT) >= end:
            return end
        x = bitmap[w] if want_set else ~bitmap[w]

cdef inline uint64_t popcount64(uint64_t x) noexcept nogil:
    """Set bits in x.  Not __builtin_popcountll: without -mpopcnt GCC calls libgcc for it."""
    x = x - ((x >> 1) & <uint64_t>0x5555555555555555)
    x = (x & <uint64_t>0x3333333333333333) + ((x >> 2) & <uint64_t>0x3333333333333333)
    x = (x + (x >> 4)) & <uint64_t>0x0F0F0F0F0F0F0F0F
    return (x * <uint64_t>0x0101010101010101) >> 56

cdef inline bint bit_is_set(const uint64_t *bitmap, uint64_t f) noexcept nogil:
    return (bitmap[f >> WORD_SHIFT] >> (f & (BITS_PER_WORD - 1))) & 1

# -------------------------------------------------------------------- init

cdef void reset_state() noexcept nogil:
    global free_map, alloc_map, map_words, frame_limit, ceiling_frame, lowest_free
    global free_frames, allocated_frames, meta_phys, meta_frames, peak_allocated
    global double_frees, invalid_frees, regions_dropped, region_count, ready
    free_map = NULL
    alloc_map = NULL
    map_words = frame_limit = ceiling_frame = lowest_free = 0
    free_frames = allocated_frames = meta_phys = meta_frames = peak_allocated = 0
    double_frees = invalid_frees = regions_dropped = 0
    region_count = 0
    ready = False

cdef bint overlaps_reserved(uint64_t first, uint64_t end, const pmm_range *reserved, size_t n,
                            uint64_t *reserved_end) noexcept nogil:
    """Whether frames [first, end) meet a reserved range; if so *reserved_end is its end frame."""
    cdef size_t i
    cdef uint64_t rs, re
    for i in range(n):
        rs = reserved[i].base >> PAGE_SHIFT
        re = frames_up(end_of(reserved[i].base, reserved[i].length))
        if first < re and rs < end:
            reserved_end[0] = re
            return True
    return False

cdef uint64_t place_metadata(const pmm_range *usable, size_t n, const pmm_range *reserved,
                             size_t n_reserved, uint64_t frames_needed) noexcept nogil:
    """Lowest frame where frames_needed free frames fit outside every reservation, or 0."""
    cdef size_t i
    cdef uint64_t first, end, skip_to
    for i in range(n):
        first = frames_up(usable[i].base)
        end = end_of(usable[i].base, usable[i].length) >> PAGE_SHIFT
        if first < PMM_LOW_MEMORY_END >> PAGE_SHIFT:
            first = PMM_LOW_MEMORY_END >> PAGE_SHIFT
        if ceiling_frame != 0 and end > ceiling_frame:
            end = ceiling_frame
        while first < end and frames_needed <= end - first:
            if not overlaps_reserved(first, first + frames_needed, reserved, n_reserved, &skip_to):
                return first
            first = skip_to
    return 0

cdef void remember_region(uint64_t base, uint64_t end) noexcept nogil:
    """Add [base, end) to the sorted list of RAM ranges, merging overlapping and adjacent ones
    (so the direct map can use 2 MiB pages across firmware's arbitrary splits)."""
    global region_count, regions_dropped
    cdef size_t i = 0, j, k, absorbed
    cdef uint64_t next_end
    while i < region_count and regions[i].base + regions[i].length < base:
        i += 1
    if i < region_count and regions[i].base <= end:
        if regions[i].base < base:
            base = regions[i].base
        j = i
        while j < region_count and regions[j].base <= end:
            next_end = regions[j].base + regions[j].length
            if next_end > end:
                end = next_end
            j += 1
        absorbed = j - i - 1            # regions after i swallowed by the merge
        regions[i].base = base
        regions[i].length = end - base
        for k in range(i + 1, region_count - absorbed):
            regions[k] = regions[k + absorbed]
        region_count -= absorbed
        return
    if region_count == PMM_MAX_REGIONS:
        regions_dropped += 1
        return
    k = region_count
    while k > i:
        regions[k] = regions[k - 1]
        k -= 1
    regions[i].base = base
    regions[i].length = end - base
    region_count += 1

cdef int pmm_init(const pmm_range *usable, size_t usable_count,
                  const pmm_range *reserved, size_t reserved_count,
                  uint64_t ceiling) noexcept nogil:
    global free_map, alloc_map, map_words, frame_limit, lowest_free, free_frames
    global meta_phys, meta_frames, regions_dropped, region_count, ready
    cdef size_t i
    cdef uint64_t first, end, meta_first
    reset_state()
    pmm_set_ceiling(ceiling)
    for i in range(usable_count):
        end = end_of(usable[i].base, usable[i].length) >> PAGE_SHIFT
        if end > frames_up(usable[i].base) and end > frame_limit:
            frame_limit = end
    if frame_limit == 0:
        kputs(b"tyn: pmm: no usable memory\n")
        return PMM_ERR_NO_MEMORY
    map_words = (frame_limit + BITS_PER_WORD - 1) >> WORD_SHIFT
    meta_frames = frames_up(2 * map_words * 8)
    meta_first = place_metadata(usable, usable_count, reserved, reserved_count, meta_frames)
    if meta_first == 0:
        kputs(b"tyn: pmm: no room for the frame bitmaps\n")
        reset_state()
        return PMM_ERR_NO_MEMORY
    meta_phys = meta_first << PAGE_SHIFT
    free_map = <uint64_t *>phys_to_virt(meta_phys)
    alloc_map = free_map + map_words
    memset(free_map, 0, 2 * map_words * 8)

    for i in range(usable_count):
        first = frames_up(usable[i].base)
        end = end_of(usable[i].base, usable[i].length) >> PAGE_SHIFT
        if first >= end:
            continue
        remember_region(first << PAGE_SHIFT, end << PAGE_SHIFT)
        free_frames += set_bits(free_map, first, end)
    free_frames -= clear_bits(free_map, 0, min_frame(PMM_LOW_MEMORY_END >> PAGE_SHIFT, frame_limit))
    for i in range(reserved_count):
        first = reserved[i].base >> PAGE_SHIFT
        end = frames_up(end_of(reserved[i].base, reserved[i].length))
        free_frames -= clear_bits(free_map, first, min_frame(end, frame_limit))
    free_frames -= clear_bits(free_map, meta_first, meta_first + meta_frames)
    ready = True
    return PMM_OK

cdef int64_t add_region_locked(uint64_t base, uint64_t length) noexcept nogil:
    global free_frames
    cdef uint64_t first, end, w, mask, fresh, meta_first, added = 0
    if not ready:
        return PMM_ERR_NOT_READY
    first = frames_up(base)
    end = end_of(base, length) >> PAGE_SHIFT
    if end > frame_limit:
        end = frame_limit
    if first >= end:
        return 0
    for w in range(first >> WORD_SHIFT, ((end - 1) >> WORD_SHIFT) + 1):
        mask = word_mask(first, end, w)
        fresh = mask & ~free_map[w] & ~alloc_map[w]
        added += popcount64(fresh)
        free_map[w] |= fresh
    meta_first = meta_phys >> PAGE_SHIFT
    added -= clear_bits(free_map, meta_first, meta_first + meta_frames)
    free_frames += added
    lowest_free_update(first)
    return <int64_t>added

cdef inline void lowest_free_update(uint64_t f) noexcept nogil:
    global lowest_free
    if f < lowest_free:
        lowest_free = f

cdef int64_t reserve_locked(uint64_t base, uint64_t length) noexcept nogil:
    global free_frames
    cdef uint64_t first, end, taken
    if not ready:
        return PMM_ERR_NOT_READY
    first = base >> PAGE_SHIFT
    end = frames_up(end_of(base, length))
    if end > frame_limit:
        end = frame_limit
    taken = clear_bits(free_map, first, end)
    free_frames -= taken
    return <int64_t>taken

cdef void pmm_set_ceiling(uint64_t phys_limit) noexcept nogil:
    global ceiling_frame
    ceiling_frame = phys_limit >> PAGE_SHIFT

# -------------------------------------------------------------- allocation

cdef uint64_t alloc_frames_locked(uint64_t count, uint64_t align_frames) noexcept nogil:
    global lowest_free, free_frames, allocated_frames, peak_allocated
    cdef uint64_t end, candidate, used, f
    if not ready or count == 0:
        return PMM_NO_FRAME
    if align_frames == 0:
        align_frames = 1
    if (align_frames & (align_frames - 1)) != 0:
        return PMM_NO_FRAME
    end = search_end()
    f = find_bit(free_map, lowest_free, end, True)
    lowest_free = f        # nothing free in between
    while True:
        candidate = align_up(f, align_frames)
        if candidate < f or candidate >= end or count > end - candidate:
            return PMM_NO_FRAME
        used = find_bit(free_map, candidate, candidate + count, False)
        if used == candidate + count:
            break
        f = find_bit(free_map, used + 1, end, True)
    clear_bits(free_map, candidate, candidate + count)
    set_bits(alloc_map, candidate, candidate + count)
    free_frames -= count
    allocated_frames += count
    if allocated_frames > peak_allocated:
        peak_allocated = allocated_frames
    return candidate << PAGE_SHIFT

cdef uint64_t alloc_one_locked() noexcept nogil:
    """alloc_frames_locked(1, 1) in a few steps: page faults call it for every page."""
    global lowest_free, free_frames, allocated_frames, peak_allocated
    cdef uint64_t end, f
    if not ready:
        return PMM_NO_FRAME
    end = search_end()
    f = find_bit(free_map, lowest_free, end, True)
    lowest_free = f
    if f >= end:
        return PMM_NO_FRAME
    free_map[f >> WORD_SHIFT] &= ~((<uint64_t>1) << (f & (BITS_PER_WORD - 1)))
    alloc_map[f >> WORD_SHIFT] |= (<uint64_t>1) << (f & (BITS_PER_WORD - 1))
    free_frames -= 1
    allocated_frames += 1
    if allocated_frames > peak_allocated:
        peak_allocated = allocated_frames
    return f << PAGE_SHIFT

cdef uint64_t pmm_alloc_frame() noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef uint64_t result = alloc_one_locked()
    mm_unlock(irq)
    return result

cdef int report_bad_free(const char *what, uint64_t phys, int code) noexcept nogil:
    """One console line per bad free, and a count; the caller returns code."""
    global double_frees, invalid_frees
    if code == PMM_ERR_DOUBLE_FREE:
        double_frees += 1
    else:
        invalid_frees += 1
    kputs(b"tyn: pmm: ")
    kputs(what)
    kputs(b" at ")
    kput_hex(phys)
    kputs(b"\n")
    return code

cdef int free_frames_locked(uint64_t phys, uint64_t count) noexcept nogil:
    global free_frames, allocated_frames
    cdef uint64_t first, bad
    if not ready:
        return PMM_ERR_NOT_READY
    if count == 0:
        return PMM_ERR_BAD_ARGUMENT
    if (phys & (PAGE_SIZE - 1)) != 0:
        return report_bad_free(b"free of an unaligned frame address", phys, PMM_ERR_UNALIGNED)
    first = phys >> PAGE_SHIFT
    if first >= frame_limit or count > frame_limit - first:
        return report_bad_free(b"free beyond managed memory", phys, PMM_ERR_OUT_OF_RANGE)
    # Check every frame before changing any: a bad free changes nothing.
    bad = find_bit(free_map, first, first + count, True)
    if bad != first + count:
        return report_bad_free(b"double free of frame", bad << PAGE_SHIFT, PMM_ERR_DOUBLE_FREE)
    bad = find_bit(alloc_map, first, first + count, False)
    if bad != first + count:
        return report_bad_free(b"free of a never-allocated frame", bad << PAGE_SHIFT,
                               PMM_ERR_NOT_ALLOCATED)
    clear_bits(alloc_map, first, first + count)
    set_bits(free_map, first, first + count)
    free_frames += count
    allocated_frames -= count
    lowest_free_update(first)
    return PMM_OK

cdef int pmm_free_frame(uint64_t phys) noexcept nogil:
    return pmm_free_frames(phys, 1)

# ------------------------------------------------------------------ queries

cdef int pmm_frame_state(uint64_t phys) noexcept nogil:
    cdef uint64_t f = phys >> PAGE_SHIFT
    if not ready or f >= frame_limit:
        return PMM_FRAME_UNAVAILABLE
    if bit_is_set(free_map, f):
        return PMM_FRAME_FREE
    if bit_is_set(alloc_map, f):
        return PMM_FRAME_ALLOCATED
    return PMM_FRAME_UNAVAILABLE

cdef uint64_t pmm_free_count() noexcept nogil:
    return free_frames

cdef uint64_t pmm_total_count() noexcept nogil:
    return free_frames + allocated_frames

cdef void pmm_get_stats(pmm_stats *out) noexcept nogil:
    out.frame_limit = frame_limit
    out.free_frames = free_frames
    out.allocated_frames = allocated_frames
    out.peak_allocated_frames = peak_allocated
    out.metadata_frames = meta_frames
    out.metadata_phys = meta_phys
    out.double_frees = double_frees
    out.invalid_frees = invalid_frees
    out.regions_dropped = regions_dropped

cdef size_t pmm_region_count() noexcept nogil:
    return region_count

cdef pmm_range pmm_region(size_t i) noexcept nogil:
    cdef pmm_range r
    r.base = 0
    r.length = 0
    if i < region_count:
        r = regions[i]
    return r

# --------------------------------------------------------------- self-check

cdef enum:
    SELF_CHECK_FRAMES = 4
    SELF_CHECK_PATTERN = 0x5A

cdef int pmm_self_check() noexcept nogil:
    """Allocate single frames and an aligned run, write through the direct map, free all."""
    cdef uint64_t frames[SELF_CHECK_FRAMES]
    cdef uint64_t run, before = free_frames
    cdef int problems = 0, i
    cdef unsigned char *p
    for i in range(SELF_CHECK_FRAMES):
        frames[i] = pmm_alloc_frame()
        if frames[i] == PMM_NO_FRAME or pmm_frame_state(frames[i]) != PMM_FRAME_ALLOCATED:
            problems += 1
            frames[i] = PMM_NO_FRAME
            continue
        p = <unsigned char *>phys_to_virt(frames[i])
        memset(p, SELF_CHECK_PATTERN + i, PAGE_SIZE)
    for i in range(SELF_CHECK_FRAMES):
        if frames[i] != PMM_NO_FRAME:
            p = <unsigned char *>phys_to_virt(frames[i])
            if p[0] != SELF_CHECK_PATTERN + i or p[PAGE_SIZE - 1] != SELF_CHECK_PATTERN + i:
                problems += 1
    run = pmm_alloc_frames(SELF_CHECK_FRAMES, SELF_CHECK_FRAMES)
    if run == PMM_NO_FRAME or (run >> PAGE_SHIFT) % SELF_CHECK_FRAMES != 0:
        problems += 1
    elif pmm_free_frames(run, SELF_CHECK_FRAMES) != PMM_OK:
        problems += 1
    for i in range(SELF_CHECK_FRAMES):
        if frames[i] != PMM_NO_FRAME and pmm_free_frame(frames[i]) != PMM_OK:
            problems += 1
    if free_frames != before:
        problems += 1
    return problems

# ------------------------------------------------ locked entry points (mm_lock.pxd)

cdef uint64_t pmm_alloc_frames(uint64_t count, uint64_t align_frames) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef uint64_t result = alloc_frames_locked(count, align_frames)
    mm_unlock(irq)
    return result

cdef int pmm_free_frames(uint64_t phys, uint64_t count) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef int result = free_frames_locked(phys, count)
    mm_unlock(irq)
    return result

cdef int64_t pmm_add_region(uint64_t base, uint64_t length) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef int64_t result = add_region_locked(base, length)
    mm_unlock(irq)
    return result

cdef int64_t pmm_reserve(uint64_t base, uint64_t length) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef int64_t result = reserve_locked(base, length)
    mm_unlock(irq)
    return result
