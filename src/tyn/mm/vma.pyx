# User address spaces: a sorted singly linked list of VMAs, demand paging.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt, memcpy, memset
from tyn.mm.heap cimport kcalloc, kfree
from tyn.mm.pmm cimport pmm_alloc_frame, pmm_free_frame, PMM_NO_FRAME, PAGE_SIZE
from tyn.mm.paging cimport (paging_map, paging_unmap, paging_translate, paging_next_mapped,
                            paging_park, paging_parked_frame, paging_unpark, PAGING_NOT_MAPPED, PTE_PRESENT,
                            PTE_WRITE, PTE_USER, PTE_NX)
from tyn.sys.errno cimport ENOMEM, EINVAL, EEXIST, EFAULT

cdef enum:
    PAGE_MASK = PAGE_SIZE - 1
    PF_WRITE = 1 << 1
    PF_INSTRUCTION_FETCH = 1 << 4

cdef inline uint64_t page_up(uint64_t v) noexcept nogil:
    return (v + PAGE_MASK) & ~(<uint64_t>PAGE_MASK)

cdef inline uint64_t pte_flags(uint32_t prot) noexcept nogil:
    cdef uint64_t f = PTE_PRESENT | PTE_USER
    if prot & PROT_WRITE:
        f |= PTE_WRITE
    if not (prot & PROT_EXEC):
        f |= PTE_NX
    return f

cdef vma *vma_find(mm_space *mm, uint64_t addr) noexcept nogil:
    cdef vma *v = mm.head
    while v != NULL and v.end <= addr:
        v = v.next
    if v != NULL and v.start <= addr:
        return v
    return NULL

# ------------------------------------------------------------------ pages

cdef void release_pages(mm_space *mm, uint64_t start, uint64_t end) noexcept nogil:
    """Unmap and free every populated page in [start, end)."""
    cdef uint64_t va, pa, flags
    va = paging_next_mapped(mm.root, start, end)
    while va < end:
        pa = paging_translate(mm.root, va, &flags)
        if pa != PAGING_NOT_MAPPED:
            paging_unmap(mm.root, va)
            pmm_free_frame(pa & ~(<uint64_t>PAGE_MASK))
            mm.mapped_pages -= 1
        else:
            pa = paging_parked_frame(mm.root, va)
            if pa != PAGING_NOT_MAPPED:
                paging_unpark(mm.root, va)
                pmm_free_frame(pa)
                mm.mapped_pages -= 1
        va = paging_next_mapped(mm.root, va + PAGE_SIZE, end)

cdef void reprotect_pages(mm_space *mm, uint64_t start, uint64_t end, uint32_t prot) noexcept nogil:
    cdef uint64_t va = paging_next_mapped(mm.root, start, end), pa, flags
    while va < end:
        pa = paging_translate(mm.root, va, &flags)
        if pa != PAGING_NOT_MAPPED:
            paging_unmap(mm.root, va)
            paging_map(mm.root, va, pa & ~(<uint64_t>PAGE_MASK), pte_flags(prot))
        else:
            pa = paging_parked_frame(mm.root, va)
            if pa != PAGING_NOT_MAPPED:
                paging_unpark(mm.root, va)
                paging_map(mm.root, va, pa, pte_flags(prot))
        va = paging_next_mapped(mm.root, va + PAGE_SIZE, end)

# ------------------------------------------------------------- list edits

cdef vma *new_vma(uint64_t start, uint64_t end, uint32_t prot, uint32_t flags,
                  const uint8_t *file_data, uint64_t file_length) noexcept nogil:
    cdef vma *v = <vma *>kcalloc(1, sizeof(vma))
    if v != NULL:
        v.start = start
        v.end = end
        v.prot = prot
        v.flags = flags
        v.file_data = file_data
        v.file_length = file_length
    return v

cdef void insert(mm_space *mm, vma *v) noexcept nogil:
    cdef vma **link = &mm.head
    while link[0] != NULL and link[0].start < v.start:
        link = &link[0].next
    v.next = link[0]
    link[0] = v
    mm.vma_count += 1

cdef bint split(mm_space *mm, vma *v, uint64_t at) noexcept nogil:
    """Cut v in two at `at` (start < at < end); the upper half follows v in the list."""
    cdef uint64_t delta = at - v.start
    cdef vma *upper = new_vma(at, v.end, v.prot, v.flags, NULL, 0)
    if upper == NULL:
        return False
    if v.file_data != NULL and v.file_length > delta:
        upper.file_data = v.file_data + delta
        upper.file_length = v.file_length - delta
    v.end = at
    if v.file_length > delta:
        v.file_length = delta
    upper.next = v.next
    v.next = upper
    mm.vma_count += 1
    return True

cdef bint split_at_boundaries(mm_space *mm, uint64_t start, uint64_t end) noexcept nogil:
    """Make start and end VMA boundaries (where they fall inside a VMA)."""
    cdef vma *v = vma_find(mm, start)
    if v != NULL and v.start < start and not split(mm, v, start):
        return False
    v = vma_find(mm, end - 1) if end > start else NULL
    if v != NULL and v.end > end and not split(mm, v, end):
        return False
    return True

cdef void remove_range(mm_space *mm, uint64_t start, uint64_t end) noexcept nogil:
    """Drop the VMAs inside [start, end) (boundaries already split) and their pages."""
    cdef vma **link = &mm.head
    cdef vma *v
    while link[0] != NULL:
        v = link[0]
        if v.start >= start and v.end <= end:
            link[0] = v.next
            release_pages(mm, v.start, v.end)
            kfree(v)
            mm.vma_count -= 1
        else:
            link = &v.next

cdef bint range_free(mm_space *mm, uint64_t start, uint64_t end) noexcept nogil:
    cdef vma *v = mm.head
    while v != NULL:
        if v.start < end and start < v.end:
            return False
        v = v.next
    return True

cdef uint64_t find_gap(mm_space *mm, uint64_t length, uint64_t below) noexcept nogil:
    """The highest free range of `length` ending at or below `below`; 0 if none."""
    cdef uint64_t top = below
    cdef vma *v
    cdef vma *highest_under
    while top >= VMA_USER_LOW + length:
        # The highest VMA that overlaps [top - length, top): move below it.
        highest_under = NULL
        v = mm.head
        while v != NULL:
            if v.start < top and v.end > top - length:
                highest_under = v
            v = v.next
        if highest_under == NULL:
            return top - length
        top = highest_under.start
    return 0

# ---------------------------------------------------------------- the API

cdef int64_t vma_map(mm_space *mm, uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags,
                     const uint8_t *file_data, uint64_t file_length) noexcept nogil:
    cdef uint64_t size = page_up(length)
    cdef uint64_t start
    cdef vma *v
    if length == 0 or size < length or size > VMA_USER_HIGH:
        return -EINVAL
    if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
        if addr & PAGE_MASK or addr < VMA_USER_LOW or addr + size > VMA_USER_HIGH or addr + size < addr:
            return -EINVAL if addr & PAGE_MASK else -ENOMEM
        start = addr
        if not range_free(mm, start, start + size):
            if flags & MAP_FIXED_NOREPLACE:
                return -EEXIST
            if vma_unmap(mm, start, size) < 0:
                return -ENOMEM
    else:
        addr &= ~(<uint64_t>PAGE_MASK)
        if addr >= VMA_USER_LOW and addr + size <= VMA_USER_HIGH and addr + size > addr \
                and range_free(mm, addr, addr + size):
            start = addr
        else:
            start = find_gap(mm, size, VMA_MMAP_TOP)
            if start == 0:
                return -ENOMEM
    v = new_vma(start, start + size, prot, flags, file_data, file_length if file_data != NULL else 0)
    if v == NULL:
        return -ENOMEM
    insert(mm, v)
    return <int64_t>start

cdef int64_t vma_unmap(mm_space *mm, uint64_t addr, uint64_t length) noexcept nogil:
    cdef uint64_t end = addr + page_up(length)
    if addr & PAGE_MASK or length == 0 or end < addr or end > VMA_USER_HIGH + PAGE_SIZE:
        return -EINVAL
    if not split_at_boundaries(mm, addr, end):
        return -ENOMEM
    remove_range(mm, addr, end)
    return 0

cdef int64_t vma_protect(mm_space *mm, uint64_t addr, uint64_t length, uint32_t prot) noexcept nogil:
    cdef uint64_t end = addr + page_up(length)
    cdef uint64_t covered = addr
    cdef vma *v
    if addr & PAGE_MASK or end < addr:
        return -EINVAL
    if length == 0:
        return 0
    # Linux: the whole range must be mapped, else ENOMEM (and nothing changes).
    v = vma_find(mm, addr)
    while covered < end:
        if v == NULL or v.start > covered:
            return -ENOMEM
        covered = v.end
        v = v.next
    if not split_at_boundaries(mm, addr, end):
        return -ENOMEM
    v = vma_find(mm, addr)
    while v != NULL and v.start < end:
        if v.prot != prot:
            if prot != PROT_NONE:
                reprotect_pages(mm, v.start, v.end, prot)
            else:
                # Contents kept for a later mprotect, as Linux does; no access meanwhile.
                hide_pages(mm, v.start, v.end)
            v.prot = prot
        v = v.next
    return 0

cdef void hide_pages(mm_space *mm, uint64_t start, uint64_t end) noexcept nogil:
    """PROT_NONE keeps the contents (a later mprotect makes them visible again) but no access."""
    cdef uint64_t va = paging_next_mapped(mm.root, start, end), pa, flags
    while va < end:
        pa = paging_translate(mm.root, va, &flags)
        if pa != PAGING_NOT_MAPPED:
            paging_unmap(mm.root, va)
            # Absent, frame remembered in the entry: every access faults, the kernel's too.
            paging_park(mm.root, va, pa & ~(<uint64_t>PAGE_MASK))
        va = paging_next_mapped(mm.root, va + PAGE_SIZE, end)

cdef int64_t vma_discard(mm_space *mm, uint64_t addr, uint64_t length) noexcept nogil:
    cdef uint64_t end = addr + page_up(length)
    if addr & PAGE_MASK or end < addr:
        return -EINVAL
    release_pages(mm, addr, end)
    return 0

cdef int64_t vma_remap(mm_space *mm, uint64_t old_addr, uint64_t old_length, uint64_t new_length,
                       bint may_move) noexcept nogil:
    cdef uint64_t old_size = page_up(old_length), new_size = page_up(new_length)
    cdef uint64_t target, va, pa, flags
    cdef vma *v = vma_find(mm, old_addr)
    cdef int64_t rc
    if old_addr & PAGE_MASK or new_size == 0:
        return -EINVAL
    if v == NULL or old_addr + old_size > v.end:
        return -EFAULT
    if new_size <= old_size:
        if new_size < old_size:
            vma_unmap(mm, old_addr + new_size, old_size - new_size)
        return <int64_t>old_addr
    # Grow in place when the pages after it are free and it ends the VMA.
    if old_addr + old_size == v.end and range_free(mm, v.end, old_addr + new_size) \
            and old_addr + new_size <= VMA_USER_HIGH:
        v.end = old_addr + new_size
        return <int64_t>old_addr
    if not may_move:
        return -ENOMEM
    rc = vma_map(mm, 0, new_size, v.prot, v.flags & ~(<uint32_t>(MAP_FIXED | MAP_FIXED_NOREPLACE)), NULL, 0)
    if rc < 0:
        return rc
    target = <uint64_t>rc
    cdef vma *moved = vma_find(mm, target)
    if v.file_data != NULL and v.file_length > old_addr - v.start:
        moved.file_data = v.file_data + (old_addr - v.start)
        moved.file_length = v.file_length - (old_addr - v.start)
        if moved.file_length > old_size:
            moved.file_length = old_size
    # Move the populated pages; their frames keep their contents.
    va = paging_next_mapped(mm.root, old_addr, old_addr + old_size)
    while va < old_addr + old_size:
        pa = paging_translate(mm.root, va, &flags)
        if pa != PAGING_NOT_MAPPED:
            paging_unmap(mm.root, va)
            paging_map(mm.root, target + (va - old_addr), pa & ~(<uint64_t>PAGE_MASK), pte_flags(v.prot))
        else:
            pa = paging_parked_frame(mm.root, va)
            if pa != PAGING_NOT_MAPPED:
                paging_unpark(mm.root, va)
                paging_park(mm.root, target + (va - old_addr), pa)
        va = paging_next_mapped(mm.root, va + PAGE_SIZE, old_addr + old_size)
    # The old range is now empty of pages: drop its VMA part without freeing anything.
    split_at_boundaries(mm, old_addr, old_addr + old_size)
    remove_range(mm, old_addr, old_addr + old_size)
    return <int64_t>target

cdef bint vma_fault(mm_space *mm, uint64_t addr, uint64_t error_code) noexcept nogil:
    cdef vma *v = vma_find(mm, addr)
    cdef uint64_t page = addr & ~(<uint64_t>PAGE_MASK)
    cdef uint64_t offset, frame, flags, n
    if v == NULL:
        return False
    if error_code & PF_WRITE:
        if not (v.prot & PROT_WRITE):
            return False
    elif error_code & PF_INSTRUCTION_FETCH:
        if not (v.prot & PROT_EXEC):
            return False
    elif not (v.prot & (PROT_READ | PROT_WRITE | PROT_EXEC)):
        return False
    if paging_translate(mm.root, page, &flags) != PAGING_NOT_MAPPED or \
            paging_parked_frame(mm.root, page) != PAGING_NOT_MAPPED:
        return False                    # present (or parked) and still faulting: a protection fault
    frame = pmm_alloc_frame()
    if frame == PMM_NO_FRAME:
        return False
    offset = page - v.start
    if v.file_data != NULL and offset < v.file_length:
        n = v.file_length - offset
        if n > PAGE_SIZE:
            n = PAGE_SIZE
        memcpy(phys_to_virt(frame), v.file_data + offset, n)
        if n < PAGE_SIZE:
            memset(<uint8_t *>phys_to_virt(frame) + n, 0, PAGE_SIZE - n)
    else:
        memset(phys_to_virt(frame), 0, PAGE_SIZE)
    if paging_map(mm.root, page, frame, pte_flags(v.prot)) != 0:
        pmm_free_frame(frame)
        return False
    mm.mapped_pages += 1
    return True
