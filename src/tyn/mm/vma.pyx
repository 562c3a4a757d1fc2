# User address spaces: a sorted singly linked list of VMAs, demand paging, copy-on-write.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt, memcpy, memset
from tyn.mm.heap cimport kcalloc, kfree
from tyn.mm.pmm cimport pmm_alloc_frame, pmm_free_frame, PMM_NO_FRAME, PAGE_SIZE
from tyn.mm.frameref cimport frameref_get, frameref_put, frameref_drop, frameref_shared
from tyn.mm.paging cimport (paging_map, paging_translate, paging_visit, paging_replace, paging_park,
                            paging_parked_frame, paging_leaf, PAGING_NOT_MAPPED, PTE_PRESENT, PTE_WRITE, PTE_USER,
                            PTE_NX, PTE_PARKED, PTE_ADDR_MASK, paging_nx_supported, paging_free_after_flush)
from tyn.sys.errno cimport ENOMEM, EINVAL, EEXIST, EFAULT

cdef enum:
    PAGE_MASK = PAGE_SIZE - 1
    PAGE_SHIFT_BITS = 12
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

cdef inline uint64_t page_flags(vma *v, uint64_t frame) noexcept nogil:
    """Leaf flags for frame in v: a frame others own too is read-only in a private
    mapping (the first write copies it: copy-on-write)."""
    cdef uint64_t f = pte_flags(v.prot)
    if not (v.flags & MAP_SHARED) and frameref_shared(frame):
        f &= ~PTE_WRITE
    return f

cdef vma *vma_find(mm_space *mm, uint64_t addr) noexcept nogil:
    cdef vma *v = mm.head
    while v != NULL and v.end <= addr:
        v = v.next
    if v != NULL and v.start <= addr:
        return v
    return NULL

cdef uint64_t vma_total_bytes(mm_space *mm) noexcept nogil:
    cdef uint64_t total = 0
    cdef vma *v = mm.head
    while v != NULL:
        total += v.end - v.start
        v = v.next
    return total

cdef bint count_visitor(void *ctx, uint64_t va, uint64_t *entry) noexcept nogil:
    (<uint64_t *>ctx)[0] += 1
    return False

cdef uint64_t vma_object_pages(mm_space *mm) noexcept nogil:
    cdef uint64_t pages = 0
    cdef vma *v = mm.head
    while v != NULL:
        if v.object_ops != NULL and (v.flags & MAP_SHARED):
            paging_visit(mm.root, v.start, v.end, count_visitor, &pages)
        v = v.next
    return pages

# ------------------------------------------------------- page-table visitors

cdef struct visit_ctx:
    mm_space *mm
    vma *v
    mm_space *child

cdef bint release_visitor(void *ctx, uint64_t va, uint64_t *entry) noexcept nogil:
    """Drop the page (present or parked): this mapping's owner reference goes; the last
    owner's frame is freed once no CPU's TLB can reach it."""
    cdef visit_ctx *c = <visit_ctx *>ctx
    cdef uint64_t frame = entry[0] & PTE_ADDR_MASK
    entry[0] = 0
    if frameref_drop(frame):
        paging_free_after_flush(frame)
    c.mm.mapped_pages -= 1
    return True

cdef bint reprotect_visitor(void *ctx, uint64_t va, uint64_t *entry) noexcept nogil:
    """Present (again) with the mapping's new protection; parked pages come back."""
    cdef visit_ctx *c = <visit_ctx *>ctx
    cdef uint64_t frame = entry[0] & PTE_ADDR_MASK
    cdef uint64_t flags = page_flags(c.v, frame)
    if not paging_nx_supported():
        flags &= ~PTE_NX                # visitors write entries directly: no reserved bits
    entry[0] = frame | flags
    return True

cdef bint hide_visitor(void *ctx, uint64_t va, uint64_t *entry) noexcept nogil:
    """PROT_NONE keeps the contents (a later mprotect makes them visible again) but no
    access: absent, the frame remembered in the entry; every access faults, the kernel's too."""
    if (entry[0] & PTE_PRESENT) == 0:
        return False
    entry[0] = (entry[0] & PTE_ADDR_MASK) | PTE_PARKED
    return True

cdef bint fork_visitor(void *ctx, uint64_t va, uint64_t *entry) noexcept nogil:
    """Share the page with the child; a private writable page becomes read-only in both."""
    cdef visit_ctx *c = <visit_ctx *>ctx
    cdef uint64_t frame = entry[0] & PTE_ADDR_MASK
    cdef bint changed = False
    cdef int err
    if c.child == NULL or not frameref_get(frame):
        c.child = NULL                  # out of memory or counts: the fork fails
        return False
    if (entry[0] & PTE_PRESENT) != 0:
        if not (c.v.flags & MAP_SHARED) and (entry[0] & PTE_WRITE) != 0:
            entry[0] &= ~PTE_WRITE
            changed = True
        err = paging_map(c.child.root, va, frame, entry[0] & ~PTE_ADDR_MASK)
    else:
        err = paging_park(c.child.root, va, frame)
    if err != 0:
        frameref_put(frame)
        c.child = NULL
        return changed
    c.child.mapped_pages += 1
    return changed

cdef void release_pages(mm_space *mm, uint64_t start, uint64_t end) noexcept nogil:
    cdef visit_ctx c
    c.mm = mm
    paging_visit(mm.root, start, end, release_visitor, &c)

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

cdef void set_object(vma *v, const vma_object_ops *ops, void *obj, uint64_t index) noexcept nogil:
    v.object_ops = ops
    v.object = obj
    v.object_index = index
    if ops != NULL:
        ops.hold(obj)

cdef void free_vma(vma *v) noexcept nogil:
    if v.object_ops != NULL:
        v.object_ops.release(v.object)
    kfree(v)

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
    set_object(upper, v.object_ops, v.object, v.object_index + (delta >> PAGE_SHIFT_BITS))
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
            free_vma(v)
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
    if length == 0:
        return -EINVAL
    if size < length or size > VMA_USER_HIGH:
        return -ENOMEM                  # Linux: longer than the address space
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

cdef int64_t vma_map_object(mm_space *mm, uint64_t addr, uint64_t length, uint32_t prot,
                            uint32_t flags, const vma_object_ops *ops, void *obj,
                            uint64_t index) noexcept nogil:
    cdef int64_t rc = vma_map(mm, addr, length, prot, flags, NULL, 0)
    if rc >= 0:
        set_object(vma_find(mm, <uint64_t>rc), ops, obj, index)
    return rc

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
    cdef visit_ctx c
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
    c.mm = mm
    while v != NULL and v.start < end:
        if v.prot != prot:
            v.prot = prot
            c.v = v
            # PROT_NONE keeps the contents for a later mprotect, as Linux does.
            paging_visit(mm.root, v.start, v.end,
                         hide_visitor if prot == PROT_NONE else reprotect_visitor, &c)
        v = v.next
    return 0

cdef int64_t vma_discard(mm_space *mm, uint64_t addr, uint64_t length) noexcept nogil:
    cdef uint64_t end = addr + page_up(length)
    if addr & PAGE_MASK or end < addr:
        return -EINVAL
    release_pages(mm, addr, end)
    return 0

cdef struct move_ctx:
    mm_space *mm
    vma *target
    uint64_t delta                  # target address - old address
    bint failed

cdef bint move_visitor(void *ctx, uint64_t va, uint64_t *entry) noexcept nogil:
    """Map the frame at its new address and clear the old entry; the frame keeps its owners."""
    cdef move_ctx *c = <move_ctx *>ctx
    cdef uint64_t frame = entry[0] & PTE_ADDR_MASK
    cdef int err
    if (entry[0] & PTE_PRESENT) != 0:
        err = paging_map(c.mm.root, va + c.delta, frame, page_flags(c.target, frame))
    else:
        err = paging_park(c.mm.root, va + c.delta, frame)
    if err != 0:
        c.failed = True                 # no page-table frame: the page stays where it was
        return False
    entry[0] = 0
    return True

cdef int64_t vma_remap(mm_space *mm, uint64_t old_addr, uint64_t old_length, uint64_t new_length,
                       bint may_move) noexcept nogil:
    cdef uint64_t old_size = page_up(old_length), new_size = page_up(new_length)
    cdef uint64_t target
    cdef vma *v = vma_find(mm, old_addr)
    cdef vma *moved
    cdef move_ctx c
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
    moved = vma_find(mm, target)
    if v.file_data != NULL and v.file_length > old_addr - v.start:
        moved.file_data = v.file_data + (old_addr - v.start)
        moved.file_length = v.file_length - (old_addr - v.start)
        if moved.file_length > old_size:
            moved.file_length = old_size
    set_object(moved, v.object_ops, v.object, v.object_index + ((old_addr - v.start) >> PAGE_SHIFT_BITS))
    c.mm = mm
    c.target = moved
    c.delta = target - old_addr
    c.failed = False
    paging_visit(mm.root, old_addr, old_addr + old_size, move_visitor, &c)
    if c.failed:
        # Put back what moved (its tables exist now), then give up like Linux: ENOMEM.
        c.delta = old_addr - target
        c.target = v
        paging_visit(mm.root, target, target + old_size, move_visitor, &c)
        vma_unmap(mm, target, new_size)
        return -ENOMEM
    # The old range is now empty of pages: drop its VMA part.
    split_at_boundaries(mm, old_addr, old_addr + old_size)
    remove_range(mm, old_addr, old_addr + old_size)
    return <int64_t>target

cdef int vma_fork(mm_space *child, mm_space *parent) noexcept nogil:
    cdef vma *v = parent.head
    cdef vma *copy
    cdef visit_ctx c
    c.mm = parent
    while v != NULL:
        if (v.flags & MAP_SHARED) and v.object_ops == NULL and not populate(parent, v):
            return -ENOMEM              # anonymous shared pages must exist to be shared
        copy = new_vma(v.start, v.end, v.prot, v.flags, v.file_data, v.file_length)
        if copy == NULL:
            return -ENOMEM
        set_object(copy, v.object_ops, v.object, v.object_index)
        insert(child, copy)
        c.v = v
        c.child = child
        paging_visit(parent.root, v.start, v.end, fork_visitor, &c)
        if c.child == NULL:
            return -ENOMEM
        v = v.next
    child.brk_start = parent.brk_start
    child.brk = parent.brk
    return 0

cdef void vma_object_shrunk(mm_space *mm, void *obj, uint64_t first_gone) noexcept nogil:
    cdef vma *v = mm.head
    cdef uint64_t start
    while v != NULL:
        if v.object_ops != NULL and v.object == obj:
            if first_gone <= v.object_index:
                start = v.start
            else:
                start = v.start + ((first_gone - v.object_index) << PAGE_SHIFT_BITS)
            if start < v.end:
                release_pages(mm, start, v.end)
        v = v.next

cdef bint populate(mm_space *mm, vma *v) noexcept nogil:
    """Give every page of v a frame (what the next touch would do)."""
    cdef uint64_t va = v.start, flags
    while va < v.end:
        if paging_translate(mm.root, va, &flags) == PAGING_NOT_MAPPED and \
                paging_parked_frame(mm.root, va) == PAGING_NOT_MAPPED and not fill_page(mm, v, va, False):
            return False
        va += PAGE_SIZE
    if v.prot == PROT_NONE:
        paging_visit(mm.root, v.start, v.end, hide_visitor, NULL)
    return True

# ------------------------------------------------------------- page faults

cdef bint fill_page(mm_space *mm, vma *v, uint64_t page, bint write) noexcept nogil:
    """First touch of page: map a frame with what the mapping says is there."""
    cdef uint64_t offset = page - v.start
    cdef uint64_t frame, source, n
    if v.object_ops != NULL:
        source = v.object_ops.page(v.object, v.object_index + (offset >> PAGE_SHIFT_BITS))
        if source == 0:
            mm.fault_beyond_object = True
            return False                # beyond the end of the object
        if write and not (v.flags & MAP_SHARED):
            frame = pmm_alloc_frame()   # a private write: a copy at once
            if frame == PMM_NO_FRAME:
                mm.fault_out_of_memory = True
                return False
            memcpy(phys_to_virt(frame), phys_to_virt(source), PAGE_SIZE)
        elif frameref_get(source):
            frame = source
        else:
            mm.fault_out_of_memory = True   # no room for the owner count
            return False
    else:
        frame = pmm_alloc_frame()
        if frame == PMM_NO_FRAME:
            mm.fault_out_of_memory = True
            return False
        if v.file_data != NULL and offset < v.file_length:
            n = v.file_length - offset
            if n > PAGE_SIZE:
                n = PAGE_SIZE
            memcpy(phys_to_virt(frame), v.file_data + offset, n)
            if n < PAGE_SIZE:
                memset(<uint8_t *>phys_to_virt(frame) + n, 0, PAGE_SIZE - n)
        else:
            memset(phys_to_virt(frame), 0, PAGE_SIZE)
    if paging_map(mm.root, page, frame, page_flags(v, frame)) != 0:
        frameref_put(frame)
        mm.fault_out_of_memory = True   # no frame for a page table
        return False
    mm.mapped_pages += 1
    return True

cdef bint copy_on_write(mm_space *mm, vma *v, uint64_t page, uint64_t frame) noexcept nogil:
    """A write to a present read-only page of a writable private mapping."""
    cdef uint64_t copy
    if not frameref_shared(frame):
        # The other owners are gone: this mapping has the page to itself.
        return paging_replace(mm.root, page, frame, pte_flags(v.prot)) == 0
    copy = pmm_alloc_frame()
    if copy == PMM_NO_FRAME:
        mm.fault_out_of_memory = True
        return False
    memcpy(phys_to_virt(copy), phys_to_virt(frame), PAGE_SIZE)
    if paging_replace(mm.root, page, copy, pte_flags(v.prot)) != 0:
        pmm_free_frame(copy)
        return False
    frameref_put(frame)
    return True

cdef inline bint access_allowed(uint64_t entry, uint64_t error_code) noexcept nogil:
    """Whether a present leaf entry now allows the access the fault describes."""
    if not (entry & PTE_USER):
        return False
    if (error_code & PF_WRITE) and not (entry & PTE_WRITE):
        return False
    if (error_code & PF_INSTRUCTION_FETCH) and (entry & PTE_NX):
        return False
    return True

cdef bint vma_fault(mm_space *mm, uint64_t addr, uint64_t error_code) noexcept nogil:
    cdef vma *v = vma_find(mm, addr)
    cdef uint64_t page = addr & ~(<uint64_t>PAGE_MASK)
    cdef uint64_t entry
    mm.fault_beyond_object = False
    mm.fault_out_of_memory = False
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
    entry = paging_leaf(mm.root, page)
    if entry & PTE_PRESENT:
        if (error_code & PF_WRITE) and not (entry & PTE_WRITE) and not (v.flags & MAP_SHARED):
            return copy_on_write(mm, v, page, entry & PTE_ADDR_MASK)
        if access_allowed(entry, error_code):
            # Another CPU filled (or copied) the page between this fault and our turn
            # under the kernel_lock; the fault itself dropped the stale TLB entry.
            return True
        return False                    # present and still faulting: a protection fault
    if entry & PTE_PARKED:
        return False                    # PROT_NONE contents
    return fill_page(mm, v, page, (error_code & PF_WRITE) != 0)
