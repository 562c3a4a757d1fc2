# Kernel stacks with guard pages: see kstack.pxd.
from libc.stdint cimport uint8_t, int64_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt, memset
from tyn.lib.kprint cimport kputs, kput_hex
from tyn.mm.pmm cimport pmm_alloc_frame, pmm_free_frame, PMM_NO_FRAME, PAGE_SIZE
from tyn.mm.paging cimport (paging_map, paging_unmap, paging_translate, paging_kernel_root,
                            KSTACK_VIRT_BASE, PAGING_OK, PAGING_NOT_MAPPED, PTE_WRITE, PTE_NX,
                            PTE_GLOBAL, PTE_USER)
from tyn.mm.mm_lock cimport mm_lock, mm_unlock
from tyn.mm.tlb cimport tlb_shootdown_kernel

cdef enum:
    SLOT_NEVER_USED = 0     # zero at boot
    SLOT_LIVE = 1
    SLOT_FREED = 2
    SLOT_BYTES = KSTACK_SLOT_PAGES * PAGE_SIZE

cdef uint8_t slot_state[KSTACK_MAX_SLOTS]
cdef uint8_t slot_pages[KSTACK_MAX_SLOTS]
cdef uint64_t next_slot            # round-robin cursor
cdef uint64_t live_stacks, bad_frees

cdef void kstack_init() noexcept nogil:
    global next_slot, live_stacks, bad_frees
    memset(slot_state, 0, sizeof(slot_state))
    memset(slot_pages, 0, sizeof(slot_pages))
    next_slot = live_stacks = bad_frees = 0

cdef inline uint64_t slot_top(uint64_t slot) noexcept nogil:
    return KSTACK_VIRT_BASE + (slot + 1) * SLOT_BYTES

cdef void unmap_pages(uint64_t root, uint64_t bottom, uint64_t pages) noexcept nogil:
    """Unmap [bottom, bottom + pages pages) and give the frames back."""
    cdef uint64_t i, va, pa
    for i in range(pages):
        va = bottom + i * PAGE_SIZE
        pa = paging_translate(root, va, NULL)
        if pa != PAGING_NOT_MAPPED:
            paging_unmap(root, va)
            pmm_free_frame(pa)

cdef uint64_t alloc_locked(uint64_t pages) noexcept nogil:
    global next_slot, live_stacks
    cdef uint64_t root = paging_kernel_root()
    cdef uint64_t slot, n, i, f, bottom
    if root == 0 or pages == 0 or pages > KSTACK_MAX_PAGES:
        return KSTACK_NONE
    for n in range(KSTACK_MAX_SLOTS):
        slot = (next_slot + n) % KSTACK_MAX_SLOTS
        if slot_state[slot] != SLOT_LIVE:
            break
    else:
        return KSTACK_NONE
    bottom = slot_top(slot) - pages * PAGE_SIZE
    for i in range(pages):
        f = pmm_alloc_frame()
        if f == PMM_NO_FRAME:
            unmap_pages(root, bottom, i)
            return KSTACK_NONE
        memset(phys_to_virt(f), 0, PAGE_SIZE)
        if paging_map(root, bottom + i * PAGE_SIZE, f, PTE_WRITE | PTE_NX | PTE_GLOBAL) != PAGING_OK:
            pmm_free_frame(f)
            unmap_pages(root, bottom, i)
            return KSTACK_NONE
    slot_state[slot] = SLOT_LIVE
    slot_pages[slot] = <uint8_t>pages
    next_slot = (slot + 1) % KSTACK_MAX_SLOTS
    live_stacks += 1
    return slot_top(slot)

cdef int bad_free(const char *what, uint64_t top, int code) noexcept nogil:
    global bad_frees
    bad_frees += 1
    kputs(b"tyn: kstack: ")
    kputs(what)
    kputs(b" ")
    kput_hex(top)
    kputs(b"\n")
    return code

cdef int64_t slot_of(uint64_t top) noexcept nogil:
    """The slot whose top this is, or -1."""
    if top <= KSTACK_VIRT_BASE or (top - KSTACK_VIRT_BASE) % SLOT_BYTES != 0:
        return -1
    if (top - KSTACK_VIRT_BASE) // SLOT_BYTES > KSTACK_MAX_SLOTS:
        return -1
    return <int64_t>((top - KSTACK_VIRT_BASE) // SLOT_BYTES - 1)

cdef int free_locked(uint64_t top) noexcept nogil:
    global live_stacks
    cdef uint64_t root = paging_kernel_root()
    cdef int64_t slot = slot_of(top)
    if root == 0:
        return KSTACK_ERR_NOT_READY
    if slot < 0 or slot_state[slot] == SLOT_NEVER_USED:
        return bad_free(b"free of a non-stack address", top, KSTACK_ERR_NOT_STACK)
    if slot_state[slot] == SLOT_FREED:
        return bad_free(b"double free of the stack at", top, KSTACK_ERR_DOUBLE_FREE)
    unmap_pages(root, top - slot_pages[slot] * PAGE_SIZE, slot_pages[slot])
    slot_state[slot] = SLOT_FREED
    live_stacks -= 1
    return KSTACK_OK

cdef uint64_t kstack_bottom(uint64_t top) noexcept nogil:
    cdef int64_t slot = slot_of(top)
    if slot < 0 or slot_state[slot] != SLOT_LIVE:
        return 0
    return top - slot_pages[slot] * PAGE_SIZE

cdef uint64_t kstack_live_count() noexcept nogil:
    return live_stacks

cdef uint64_t kstack_bad_free_count() noexcept nogil:
    return bad_frees

cdef enum:
    SELF_CHECK_PAGES = 4

cdef int kstack_self_check() noexcept nogil:
    cdef uint64_t root = paging_kernel_root()
    cdef uint64_t top = kstack_alloc(SELF_CHECK_PAGES)
    cdef uint64_t flags = 0, pa
    cdef int problems = 0
    if top == KSTACK_NONE:
        return 1
    pa = paging_translate(root, top - 8, &flags)
    if pa == PAGING_NOT_MAPPED or (flags & PTE_WRITE) == 0 or (flags & PTE_USER) != 0:
        problems += 1
    elif (<uint64_t *>phys_to_virt(pa))[0] != 0:      # fresh stacks are zeroed
        problems += 1
    if paging_translate(root, kstack_bottom(top) - PAGE_SIZE, NULL) != PAGING_NOT_MAPPED:
        problems += 1                                  # the guard page must be unmapped
    if paging_translate(root, top, NULL) != PAGING_NOT_MAPPED:
        problems += 1                                  # nothing mapped right above the top
    if kstack_free(top) != KSTACK_OK:
        problems += 1
    if paging_translate(root, top - 8, NULL) != PAGING_NOT_MAPPED:
        problems += 1
    return problems

# ------------------------------------------------ locked entry points (mm_lock.pxd)

cdef uint64_t kstack_alloc(uint64_t pages) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef uint64_t result = alloc_locked(pages)
    mm_unlock(irq)
    # A slot used before may still be cached (global entries) on a CPU that ran its
    # last thread: every CPU forgets it before the new stack is used.
    if result != KSTACK_NONE:
        tlb_shootdown_kernel()
    return result

cdef int kstack_free(uint64_t top) noexcept nogil:
    cdef uint64_t irq = mm_lock()
    cdef int result = free_locked(top)
    mm_unlock(irq)
    return result
