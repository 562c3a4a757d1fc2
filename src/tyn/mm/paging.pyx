# 4-level page tables and the kernel address space: see paging.pxd.
from libc.stdint cimport uint32_t, uint64_t
from tyn.mm.tlb cimport tlb_shootdown
from tyn.arch.cpu cimport (phys_to_virt, memset, cpuid, read_cr3, write_cr3, invlpg, linker_symbol,
                           KERNEL_VMA_BASE, PHYS_MAP_BASE, kernel_text_start, kernel_text_end,
                           kernel_rodata_start, kernel_rodata_end, kernel_data_start, kernel_data_end,
                           kernel_end, boot_stack_guard, boot_stack_top)
from tyn.lib.kprint cimport kputs, kput_hex, kput_dec
from tyn.mm.pmm cimport (pmm_alloc_frame, pmm_free_frame, pmm_set_ceiling, pmm_total_count,
                         pmm_region_count, pmm_region, pmm_range, PMM_NO_FRAME, PMM_LOW_MEMORY_END,
                         PAGE_SIZE, PAGE_SHIFT)
from tyn.mm.mm_lock cimport mm_lock, mm_unlock
from tyn.arch.percpu cimport percpu_cpu_index, NR_CPUS

cdef enum:
    LEVEL_PT = 1        # entries map 4 KiB pages
    LEVEL_PD = 2        # entries map 2 MiB pages or point to a PT
    LEVEL_PDPT = 3      # entries map 1 GiB pages (never created here) or point to a PD
    LEVEL_PML4 = 4
    INDEX_BITS = 9
    GATHER_FRAMES = 64      # frames one range visit holds back before it flushes and frees them
    GATHER_HEADROOM = 3     # what one leaf can add: its page and the PT and PD it empties
    GATHER_TABLE_TAG = 1    # low bit of a gathered frame: a page table (frames are page aligned)

cdef uint64_t kernel_root
cdef uint64_t mmio_used            # bytes of the MMIO window handed out
cdef bint features_known
cdef uint64_t nx_mask              # PTE_NX if the CPU has it, else 0

# ------------------------------------------------------------------ helpers

cdef inline uint64_t *table_at(uint64_t entry_or_phys) noexcept nogil:
    return <uint64_t *>phys_to_virt(entry_or_phys & PTE_ADDR_MASK)

cdef inline int index_at(uint64_t va, int level) noexcept nogil:
    return <int>((va >> (PAGE_SHIFT + INDEX_BITS * (level - 1))) & (PT_ENTRIES - 1))

cdef inline uint64_t level_page_size(int level) noexcept nogil:
    return (<uint64_t>1) << (PAGE_SHIFT + INDEX_BITS * (level - 1))

cdef inline bint canonical(uint64_t va) noexcept nogil:
    """Bits 63..47 all equal (SDM 3.3.7.1)."""
    cdef uint64_t top = va >> 47
    return top == 0 or top == 0x1FFFF

cdef inline bint kernel_half(uint64_t va) noexcept nogil:
    return (va >> 63) != 0

cdef inline uint64_t page_align_up(uint64_t v) noexcept nogil:
    return (v + PAGE_SIZE - 1) & ~(<uint64_t>PAGE_SIZE - 1)

# Page-table frames that emptied out are kept for page tables only (a list threaded
# through their first word) rather than returned to the pmm: a hypervisor that shadows
# guest page tables (PVM on our build machines) keeps trapping writes to a former table
# frame, which made every data page carved from one cost thousands of VM exits.
cdef uint64_t spare_tables
cdef uint64_t spare_table_count
cdef uint64_t table_frames          # frames taken from the pmm for page tables (spares included)
cdef bint keep_spares

cdef void paging_keep_spare_tables(bint keep) noexcept nogil:
    global keep_spares
    keep_spares = keep

cdef uint64_t alloc_table() noexcept nogil:
    global spare_tables, spare_table_count, table_frames
    cdef uint64_t f
    if spare_tables != 0:
        f = spare_tables
        spare_tables = (<uint64_t *>phys_to_virt(f))[0]
        spare_table_count -= 1
        (<uint64_t *>phys_to_virt(f))[0] = 0        # the rest is already zero: it was empty
        return f
    f = pmm_alloc_frame()
    if f != PMM_NO_FRAME:
        memset(phys_to_virt(f), 0, PAGE_SIZE)
        table_frames += 1
    return f

# ---------------------------------------------------- absent (parked) pages

cdef uint64_t *leaf_entry(uint64_t root, uint64_t va) noexcept nogil:
    """The 4 KiB leaf entry for va if its page table exists (present or not), else NULL."""
    cdef uint64_t *table = table_at(root)
    cdef uint64_t *e
    cdef int level = LEVEL_PML4
    while level > LEVEL_PT:
        e = &table[index_at(va, level)]
        if (e[0] & PTE_PRESENT) == 0 or (e[0] & PTE_HUGE) != 0:
            return NULL
        table = table_at(e[0])
        level -= 1
    return &table[index_at(va, LEVEL_PT)]

cdef int paging_park(uint64_t root, uint64_t va, uint64_t frame) noexcept nogil:
    """Make va absent (every access faults) but remember its frame (PTE_PARKED)."""
    cdef uint64_t irq = mm_lock()
    cdef int err = PAGING_OK
    cdef uint64_t *e = walk_create(root, va, LEVEL_PT, not kernel_half(va), &err)
    if e != NULL:
        e[0] = (frame & PTE_ADDR_MASK) | PTE_PARKED
        flush(root, va)
    mm_unlock(irq)
    tlb_shootdown(root)
    return err

cdef uint64_t paging_parked_frame(uint64_t root, uint64_t va) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef uint64_t *e = leaf_entry(root, va)
    cdef uint64_t result = PAGING_NOT_MAPPED
    if e != NULL and (e[0] & PTE_PRESENT) == 0 and (e[0] & PTE_PARKED) != 0:
        result = e[0] & PTE_ADDR_MASK
    mm_unlock(irq)
    return result

cdef uint64_t paging_leaf(uint64_t root, uint64_t va) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef uint64_t *e = leaf_entry(root, va)
    cdef uint64_t result = e[0] if e != NULL else 0
    mm_unlock(irq)
    return result

cdef uint64_t paging_spare_tables() noexcept nogil:
    return spare_table_count

cdef uint64_t paging_table_frames() noexcept nogil:
    return table_frames

cdef uint64_t paging_release_spare_tables() noexcept nogil:
    """Out of memory: the spares go back to the pmm (slower under PVM, but memory)."""
    global spare_tables, spare_table_count, table_frames
    cdef uint64_t irq = mm_lock()
    cdef uint64_t f, released = 0
    while spare_tables != 0:
        f = spare_tables
        spare_tables = (<uint64_t *>phys_to_virt(f))[0]
        (<uint64_t *>phys_to_virt(f))[0] = 0
        pmm_free_frame(f)
        released += 1
    spare_table_count = 0
    table_frames -= released
    mm_unlock(irq)
    return released

cdef void free_table(uint64_t f) noexcept nogil:
    """An empty (all-zero) table frame goes to the spare list (or back to the pmm)."""
    global spare_tables, spare_table_count, table_frames
    if not keep_spares:
        pmm_free_frame(f)
        table_frames -= 1
        return
    (<uint64_t *>phys_to_virt(f))[0] = spare_tables
    spare_tables = f
    spare_table_count += 1

cdef bint table_empty(const uint64_t *table) noexcept nogil:
    cdef int i
    for i in range(PT_ENTRIES):
        if table[i] != 0:
            return False
    return True

# ------------------------------------------------ deferred frees (Linux's mmu_gather)
#
# A frame (or page table) whose last translation an unmap removed may still be cached in
# another CPU's TLB until the shootdown completes; reused before that, a stale entry
# would let that CPU write into its new owner.  So a range visit gathers those frames and
# gives them back only after tlb_shootdown() returned: clear entries -> flush every CPU
# -> free.  A gather fills up after GATHER_FRAMES; the visit then stops, flushes, frees
# and resumes where it stopped.  The gather lives on the visiting thread's stack;
# active_gather[cpu] points to it while that CPU holds mm_lock inside the visit (mm_lock
# keeps interrupts off, so the thread cannot move), which is when visitors add to it.

cdef struct frame_gather:
    uint64_t frames[GATHER_FRAMES]
    uint32_t count
    bint stopped            # full: the visit stopped before `resume`
    uint64_t resume

cdef frame_gather *active_gather[NR_CPUS]   # owner: that CPU, under mm_lock
cdef uint64_t gathered_total                # frames whose free waited for a shootdown (mm_lock)

cdef inline bint gather_full(frame_gather *g) noexcept nogil:
    return g.count + GATHER_HEADROOM > GATHER_FRAMES

cdef inline void gather_add(frame_gather *g, uint64_t frame) noexcept nogil:
    global gathered_total
    g.frames[g.count] = frame
    g.count += 1
    gathered_total += 1

cdef void paging_free_after_flush(uint64_t frame) noexcept nogil:
    cdef frame_gather *g = active_gather[percpu_cpu_index()]
    if g == NULL or g.count >= GATHER_FRAMES:
        pmm_free_frame(frame)       # not inside a visit: no translation was removed here
        return
    gather_add(g, frame & PTE_ADDR_MASK)

cdef void gather_release(frame_gather *g) noexcept nogil:
    """After the shootdown: the gathered frames and tables go back."""
    cdef uint64_t irq = mm_lock()
    cdef uint32_t i
    cdef uint64_t f
    for i in range(g.count):
        f = g.frames[i]
        if f & GATHER_TABLE_TAG:
            free_table(f & PTE_ADDR_MASK)
        else:
            pmm_free_frame(f)
    g.count = 0
    mm_unlock(irq)

cdef uint64_t paging_frames_freed_after_flush() noexcept nogil:
    return gathered_total

cdef void flush(uint64_t root, uint64_t va) noexcept nogil:
    """Drop va's TLB (and paging-structure cache) entries if root is the live address space."""
    if (read_cr3() & PTE_ADDR_MASK) == root:
        invlpg(va)

cdef void ensure_features() noexcept nogil:
    if not features_known:
        paging_detect_cpu_features()

cdef void paging_detect_cpu_features() noexcept nogil:
    global features_known, nx_mask
    cdef uint32_t regs[4]
    nx_mask = 0
    cpuid(CPUID_EXT_MAX, 0, regs)
    if regs[0] >= CPUID_EXT_FEATURES:
        cpuid(CPUID_EXT_FEATURES, 0, regs)
        if (regs[3] & CPUID_EDX_NX) != 0:
            nx_mask = PTE_NX
    features_known = True

cdef bint paging_nx_supported() noexcept nogil:
    ensure_features()
    return nx_mask != 0

# -------------------------------------------------------------------- walks

cdef uint64_t *walk_create(uint64_t root, uint64_t va, int target, bint user, int *err) noexcept nogil:
    """The entry for va at level target, creating missing tables above it."""
    cdef uint64_t *table = table_at(root)
    cdef uint64_t *e
    cdef uint64_t f
    cdef int level = LEVEL_PML4
    while level > target:
        e = &table[index_at(va, level)]
        if (e[0] & PTE_PRESENT) == 0:
            f = alloc_table()
            if f == PMM_NO_FRAME:
                err[0] = PAGING_ERR_NO_MEMORY
                return NULL
            # Tables grant everything; the leaf decides (NX and W are ANDed down the walk).
            e[0] = f | PTE_PRESENT | PTE_WRITE | (PTE_USER if user else 0)
        elif (e[0] & PTE_HUGE) != 0:
            err[0] = PAGING_ERR_HUGE_CONFLICT
            return NULL
        elif user:
            e[0] |= PTE_USER
        table = table_at(e[0])
        level -= 1
    err[0] = PAGING_OK
    return &table[index_at(va, target)]

cdef int lookup(uint64_t root, uint64_t va, uint64_t **entries) noexcept nogil:
    """Walk without changing anything: entries[level] = the entry used at each level.

    Returns the level of the leaf that maps va (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB),
    or 0 if va is not mapped.
    """
    cdef uint64_t *table = table_at(root)
    cdef int level = LEVEL_PML4
    while True:
        entries[level] = &table[index_at(va, level)]
        if (entries[level][0] & PTE_PRESENT) == 0:
            return 0
        if level == LEVEL_PT or (level <= LEVEL_PDPT and (entries[level][0] & PTE_HUGE) != 0):
            return level
        table = table_at(entries[level][0])
        level -= 1

# ------------------------------------------------------------ map / unmap

cdef int leaf_flags(uint64_t va, uint64_t flags, uint64_t *out) noexcept nogil:
    ensure_features()
    if not canonical(va):
        return PAGING_ERR_BAD_ADDRESS
    if kernel_half(va) and (flags & PTE_USER) != 0:
        return PAGING_ERR_USER_KERNEL
    flags = (flags & PTE_FLAGS_MASK & ~PTE_HUGE) | PTE_PRESENT
    out[0] = flags & (~PTE_NX | nx_mask)
    return PAGING_OK

cdef int map_at(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags, int level) noexcept nogil:
    cdef uint64_t size = level_page_size(level), leaf
    cdef uint64_t *e
    cdef int err
    if ((va | pa) & (size - 1)) != 0:
        return PAGING_ERR_UNALIGNED
    if (pa & ~PTE_ADDR_MASK) != 0:
        return PAGING_ERR_BAD_ADDRESS
    err = leaf_flags(va, flags, &leaf)
    if err != PAGING_OK:
        return err
    e = walk_create(root, va, level, (flags & PTE_USER) != 0, &err)
    if e == NULL:
        return err
    if (e[0] & PTE_PRESENT) != 0:
        if level == LEVEL_PD and (e[0] & PTE_HUGE) == 0:
            return PAGING_ERR_HUGE_CONFLICT     # a page table of 4 KiB pages is here
        return PAGING_ERR_ALREADY_MAPPED
    e[0] = pa | leaf | (PTE_HUGE if level == LEVEL_PD else 0)
    return PAGING_OK

cdef int map_locked(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags) noexcept nogil:
    return map_at(root, va, pa, flags, LEVEL_PT)

cdef int map_huge_locked(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags) noexcept nogil:
    return map_at(root, va, pa, flags, LEVEL_PD)

cdef int unmap_at(uint64_t root, uint64_t va, int level, frame_gather *g) noexcept nogil:
    """Clear va's leaf; emptied tables go into g (freed after the shootdown)."""
    cdef uint64_t *entries[LEVEL_PML4 + 1]
    cdef int leaf, parent
    if (va & (level_page_size(level) - 1)) != 0:
        return PAGING_ERR_UNALIGNED
    if not canonical(va):
        return PAGING_ERR_BAD_ADDRESS
    entries[level] = NULL
    leaf = lookup(root, va, entries)
    if leaf != level:
        # A present entry at `level` that is not the leaf points to a table of smaller pages.
        if leaf != 0 or (entries[level] != NULL and (entries[level][0] & PTE_PRESENT) != 0):
            return PAGING_ERR_HUGE_CONFLICT
        return PAGING_ERR_NOT_MAPPED
    entries[level][0] = 0
    # Return emptied PTs and PDs to the pmm; PDPTs stay (see paging.pxd).
    parent = level + 1
    while parent <= LEVEL_PDPT:
        if not table_empty(table_at(entries[parent][0])):
            break
        gather_add(g, (entries[parent][0] & PTE_ADDR_MASK) | GATHER_TABLE_TAG)
        entries[parent][0] = 0
        parent += 1
    flush(root, va)
    return PAGING_OK

cdef int unmap_locked(uint64_t root, uint64_t va, frame_gather *g) noexcept nogil:
    return unmap_at(root, va, LEVEL_PT, g)

cdef int unmap_huge_locked(uint64_t root, uint64_t va, frame_gather *g) noexcept nogil:
    return unmap_at(root, va, LEVEL_PD, g)

cdef uint64_t translate_locked(uint64_t root, uint64_t va, uint64_t *flags_out) noexcept nogil:
    cdef uint64_t *entries[LEVEL_PML4 + 1]
    cdef uint64_t size, e
    cdef int leaf
    if not canonical(va):
        return PAGING_NOT_MAPPED
    leaf = lookup(root, va, entries)
    if leaf == 0:
        return PAGING_NOT_MAPPED
    e = entries[leaf][0]
    size = level_page_size(leaf)
    if flags_out != NULL:
        flags_out[0] = e & PTE_FLAGS_MASK
    # In a large-page entry bit 12 is PAT, not address: mask to the page size.
    return (e & PTE_ADDR_MASK & ~(size - 1)) | (va & (size - 1))

cdef uint64_t paging_new_root() noexcept nogil:
    cdef uint64_t f = alloc_table()
    return PAGING_NOT_MAPPED if f == PMM_NO_FRAME else f

# ------------------------------------------------------ the kernel's space

cdef inline uint64_t direct_map_flags() noexcept nogil:
    """RAM through the direct map: data, never code."""
    return PTE_WRITE | PTE_GLOBAL | PTE_NX

cdef int map_direct_range(uint64_t root, uint64_t phys, uint64_t length) noexcept nogil:
    """phys..phys+length at PHYS_MAP_BASE+phys: 2 MiB pages where aligned, else 4 KiB.

    Ranges may overlap earlier ones (same target), so "already mapped" is fine
    once translate confirms it.
    """
    cdef uint64_t start = phys & ~(<uint64_t>PAGE_SIZE - 1)
    cdef uint64_t end = phys + length
    cdef uint64_t va
    cdef int err
    if end < phys:
        return PAGING_ERR_BAD_ADDRESS
    end = page_align_up(end)
    while start < end:
        va = PHYS_MAP_BASE + start
        if (start & (HUGE_PAGE_SIZE - 1)) == 0 and end - start >= HUGE_PAGE_SIZE:
            err = paging_map_huge(root, va, start, direct_map_flags())
            if err == PAGING_OK or (err == PAGING_ERR_ALREADY_MAPPED
                                    and paging_translate(root, va, NULL) == start):
                start += HUGE_PAGE_SIZE
                continue
            if err != PAGING_ERR_HUGE_CONFLICT:
                return err
            # 4 KiB pages already live in this 2 MiB slot: continue in 4 KiB steps.
        err = paging_map(root, va, start, direct_map_flags())
        if err != PAGING_OK and paging_translate(root, va, NULL) != start:
            return err
        start += PAGE_SIZE
    return PAGING_OK

cdef int map_image_range(uint64_t root, uint64_t start, uint64_t end, uint64_t flags) noexcept nogil:
    """Kernel image pages [start, end) at their link addresses, skipping the boot stack guard."""
    cdef uint64_t va = start & ~(<uint64_t>PAGE_SIZE - 1)
    cdef uint64_t guard = linker_symbol(boot_stack_guard)
    cdef int err
    end = page_align_up(end)
    while va < end:
        if va != guard:
            err = paging_map(root, va, va - KERNEL_VMA_BASE, flags | PTE_GLOBAL)
            if err != PAGING_OK:
                return err
        va += PAGE_SIZE
    return PAGING_OK

cdef int ensure_pdpt(uint64_t root, uint64_t va) noexcept nogil:
    """Create va's PML4 entry now so copies of the kernel half never go stale."""
    cdef int err
    walk_create(root, va, LEVEL_PDPT, False, &err)
    return err

cdef int build_kernel_space(uint64_t root) noexcept nogil:
    cdef size_t i
    cdef pmm_range r
    cdef int err
    err = map_direct_range(root, 0, PMM_LOW_MEMORY_END)
    for i in range(pmm_region_count()):
        if err == PAGING_OK:
            r = pmm_region(i)
            err = map_direct_range(root, r.base, r.length)
    if err == PAGING_OK:    # text: read + execute
        err = map_image_range(root, linker_symbol(kernel_text_start), linker_symbol(kernel_text_end), 0)
    if err == PAGING_OK:    # rodata: read only
        err = map_image_range(root, linker_symbol(kernel_rodata_start), linker_symbol(kernel_rodata_end),
                              PTE_NX)
    if err == PAGING_OK:    # data + bss (with the boot stack): read/write
        err = map_image_range(root, linker_symbol(kernel_data_start), linker_symbol(kernel_data_end),
                              PTE_WRITE | PTE_NX)
    if err == PAGING_OK:    # the symbol table after the data: read only
        err = map_image_range(root, linker_symbol(kernel_data_end), linker_symbol(kernel_end), PTE_NX)
    if err == PAGING_OK:
        err = ensure_pdpt(root, MMIO_VIRT_BASE)
    if err == PAGING_OK:
        err = ensure_pdpt(root, KSTACK_VIRT_BASE)
    return err

cdef int paging_init_kernel_space() noexcept nogil:
    global kernel_root, mmio_used
    cdef uint64_t root
    cdef int err
    paging_detect_cpu_features()
    if pmm_total_count() == 0:
        kputs(b"tyn: paging: the pmm has no memory (pmm_init first)\n")
        return PAGING_ERR_NOT_READY
    root = paging_new_root()
    if root == PAGING_NOT_MAPPED:
        err = PAGING_ERR_NO_MEMORY
    else:
        err = build_kernel_space(root)
    if err != PAGING_OK:
        kputs(b"tyn: paging: cannot build the kernel address space, error ")
        kput_dec(err)
        kputs(b"\n")
        return err
    write_cr3(root)
    kernel_root = root
    mmio_used = 0
    # The whole direct map is live now: every frame is reachable.
    pmm_set_ceiling(0)
    return PAGING_OK

cdef uint64_t paging_kernel_root() noexcept nogil:
    return kernel_root

cdef int map_direct_locked(uint64_t phys, uint64_t length) noexcept nogil:
    if kernel_root == 0:
        return PAGING_ERR_NOT_READY
    return map_direct_range(kernel_root, phys, length)

cdef uint64_t map_mmio_locked(uint64_t phys, uint64_t size) noexcept nogil:
    global mmio_used
    cdef uint64_t offset = phys & (PAGE_SIZE - 1)
    cdef uint64_t base = phys - offset
    cdef uint64_t pages, va, i, j
    if kernel_root == 0 or size == 0 or size > MMIO_VIRT_SIZE:
        return 0
    pages = page_align_up(offset + size) >> PAGE_SHIFT
    # One unmapped page after each window, so an overrun faults instead of
    # touching the next device.
    if mmio_used + (pages + 1) * PAGE_SIZE > MMIO_VIRT_SIZE:
        return 0
    va = MMIO_VIRT_BASE + mmio_used
    for i in range(pages):
        if paging_map(kernel_root, va + i * PAGE_SIZE, base + i * PAGE_SIZE,
                      PTE_WRITE | PTE_PCD | PTE_PWT | PTE_NX | PTE_GLOBAL) != PAGING_OK:
            for j in range(i):
                paging_unmap(kernel_root, va + j * PAGE_SIZE)
            return 0
    mmio_used += (pages + 1) * PAGE_SIZE
    return va + offset

# --------------------------------------------------------------- self-check

cdef int count_user_entries(uint64_t table_phys, int level) noexcept nogil:
    """PTE_USER bits in this table and everything below it."""
    cdef uint64_t *table = table_at(table_phys)
    cdef int i, n = 0
    for i in range(PT_ENTRIES):
        if (table[i] & PTE_PRESENT) == 0:
            continue
        if (table[i] & PTE_USER) != 0:
            n += 1
        if level > LEVEL_PT and (table[i] & PTE_HUGE) == 0:
            n += count_user_entries(table[i], level - 1)
    return n

cdef int expect(uint64_t va, uint64_t pa, uint64_t want_set, uint64_t want_clear) noexcept nogil:
    """1 (and a console line) unless va maps pa with want_set bits set and want_clear clear."""
    cdef uint64_t flags = 0
    cdef uint64_t got = paging_translate(kernel_root, va, &flags)
    if got == pa and (pa == PAGING_NOT_MAPPED or
                      ((flags & want_set) == want_set and (flags & want_clear) == 0)):
        return 0
    kputs(b"tyn: paging: self-check: ")
    kput_hex(va)
    kputs(b" -> ")
    kput_hex(got)
    kputs(b" flags ")
    kput_hex(flags)
    kputs(b"\n")
    return 1

cdef int paging_self_check() noexcept nogil:
    cdef uint64_t text = linker_symbol(kernel_text_start)
    cdef uint64_t rodata = linker_symbol(kernel_rodata_start)
    cdef uint64_t data = linker_symbol(kernel_data_start)
    cdef uint64_t guard = linker_symbol(boot_stack_guard)
    cdef uint64_t stack = linker_symbol(boot_stack_top) - PAGE_SIZE
    cdef int problems = 0
    if kernel_root == 0:
        return 1
    if (read_cr3() & PTE_ADDR_MASK) != kernel_root:
        problems += 1
    problems += expect(text, text - KERNEL_VMA_BASE, PTE_GLOBAL, PTE_WRITE | PTE_USER | PTE_NX)
    problems += expect(rodata, rodata - KERNEL_VMA_BASE, nx_mask, PTE_WRITE | PTE_USER)
    problems += expect(data, data - KERNEL_VMA_BASE, PTE_WRITE | nx_mask, PTE_USER)
    problems += expect(stack, stack - KERNEL_VMA_BASE, PTE_WRITE | nx_mask, PTE_USER)
    problems += expect(guard, PAGING_NOT_MAPPED, 0, 0)
    problems += expect(0, PAGING_NOT_MAPPED, 0, 0)       # no identity map: NULL faults
    problems += expect(PHYS_MAP_BASE + PMM_LOW_MEMORY_END, PMM_LOW_MEMORY_END, PTE_WRITE | nx_mask, PTE_USER)
    # The kernel root holds only kernel mappings: no user bit at any level.
    problems += count_user_entries(kernel_root, LEVEL_PML4)
    return problems

# ------------------------------------------------ locked entry points (mm_lock.pxd)

cdef int paging_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef int result = map_locked(root, va, pa, flags)
    mm_unlock(irq)
    return result

cdef int paging_map_huge(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef int result = map_huge_locked(root, va, pa, flags)
    mm_unlock(irq)
    return result

cdef int paging_unmap(uint64_t root, uint64_t va) noexcept nogil:
    cdef frame_gather g
    cdef uint64_t irq
    cdef int result
    g.count = 0
    irq = mm_lock()
    result = unmap_locked(root, va, &g)
    mm_unlock(irq)
    tlb_shootdown(root)
    if g.count != 0:
        gather_release(&g)
    return result

cdef int paging_unmap_huge(uint64_t root, uint64_t va) noexcept nogil:
    cdef frame_gather g
    cdef uint64_t irq
    cdef int result
    g.count = 0
    irq = mm_lock()
    result = unmap_huge_locked(root, va, &g)
    mm_unlock(irq)
    tlb_shootdown(root)
    if g.count != 0:
        gather_release(&g)
    return result

cdef uint64_t paging_translate(uint64_t root, uint64_t va, uint64_t *flags_out) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef uint64_t result = translate_locked(root, va, flags_out)
    mm_unlock(irq)
    return result

cdef bint visit_table(uint64_t *table, int level, uint64_t base, uint64_t start, uint64_t end,
                      paging_visitor visit, void *ctx, bint live, frame_gather *g) noexcept nogil:
    """Visit the leaves of [start, end) under `table`, which maps from `base`.  True when
    an entry of this table was cleared (so the caller checks whether it emptied out).
    Emptied tables go into g; when g is full the walk stops (g.stopped, g.resume)."""
    cdef uint64_t span = level_page_size(level)
    cdef uint64_t table_end = base + span * PT_ENTRIES
    cdef int first = index_at(start, level) if start > base else 0
    cdef int last = index_at(end - 1, level) if end < table_end else PT_ENTRIES - 1
    cdef bint cleared = False
    cdef uint64_t *e
    cdef uint64_t va
    cdef int i
    for i in range(first, last + 1):
        e = &table[i]
        if e[0] == 0:
            continue
        va = base + <uint64_t>i * span
        if level == LEVEL_PT:
            if visit(ctx, va, e):
                if live:
                    invlpg(va)
                if e[0] == 0:
                    cleared = True
            if gather_full(g) and va + span < end:
                g.stopped = True
                g.resume = va + span
        elif (e[0] & PTE_PRESENT) != 0 and (e[0] & PTE_HUGE) == 0:
            if visit_table(table_at(e[0]), level - 1, va, start, end, visit, ctx, live, g) \
                    and level <= LEVEL_PDPT and table_empty(table_at(e[0])):
                # An emptied PT or PD goes (PDPTs stay: see paging.pxd), once no CPU
                # can walk through it any more.
                gather_add(g, (e[0] & PTE_ADDR_MASK) | GATHER_TABLE_TAG)
                e[0] = 0
                cleared = True
                if live:
                    invlpg(va)
        if g.stopped:
            break
    return cleared

cdef void paging_visit(uint64_t root, uint64_t start, uint64_t end, paging_visitor visit,
                       void *ctx) noexcept nogil:
    cdef uint64_t irq
    cdef uint32_t me
    cdef frame_gather g
    if start >= end or kernel_half(end - 1) or not canonical(end - 1):
        return
    g.count = 0
    while True:
        g.stopped = False
        irq = mm_lock()
        me = percpu_cpu_index()
        active_gather[me] = &g
        visit_table(table_at(root), LEVEL_PML4, 0, start, end, visit, ctx,
                    (read_cr3() & PTE_ADDR_MASK) == root, &g)
        active_gather[me] = NULL
        mm_unlock(irq)
        tlb_shootdown(root)
        if g.count != 0:
            gather_release(&g)
        if not g.stopped:
            break
        start = g.resume

cdef int paging_replace(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef uint64_t *e = leaf_entry(root, va)
    cdef uint64_t leaf
    cdef int err = leaf_flags(va, flags, &leaf)
    if err == PAGING_OK:
        if e == NULL or (e[0] & PTE_PRESENT) == 0:
            err = PAGING_ERR_NOT_MAPPED
        else:
            e[0] = (pa & PTE_ADDR_MASK) | leaf
            flush(root, va)
    mm_unlock(irq)
    tlb_shootdown(root)
    return err

cdef uint64_t paging_map_mmio(uint64_t phys, uint64_t size) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef uint64_t result = map_mmio_locked(phys, size)
    mm_unlock(irq)
    return result

cdef int paging_map_direct(uint64_t phys, uint64_t length) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef int result = map_direct_locked(phys, length)
    mm_unlock(irq)
    return result
