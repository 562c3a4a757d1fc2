# Per-frame owner counts: see frameref.pxd.
from libc.stdint cimport uint16_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt, memset
from tyn.mm.pmm cimport (pmm_alloc_frames, pmm_free_frame, pmm_get_stats, pmm_stats, PMM_NO_FRAME,
                         PAGE_SHIFT, PAGE_SIZE)
from tyn.mm.mm_lock cimport mm_lock, mm_unlock

cdef enum:
    EXTRA_OWNERS_MAX = 0xFFFF

cdef uint16_t *extra_owners         # indexed by frame number
cdef uint64_t frames_covered

cdef bint frameref_init() noexcept nogil:
    global extra_owners, frames_covered
    cdef pmm_stats stats
    cdef uint64_t nbytes, nframes, phys
    pmm_get_stats(&stats)
    nbytes = stats.frame_limit * sizeof(uint16_t)
    nframes = (nbytes + PAGE_SIZE - 1) >> PAGE_SHIFT
    phys = pmm_alloc_frames(nframes, 1)
    if phys == PMM_NO_FRAME:
        return False
    memset(phys_to_virt(phys), 0, nframes << PAGE_SHIFT)
    extra_owners = <uint16_t *>phys_to_virt(phys)
    frames_covered = stats.frame_limit
    return True

cdef inline bint covered(uint64_t f) noexcept nogil:
    return extra_owners != NULL and f < frames_covered

cdef bint frameref_get(uint64_t frame) noexcept nogil:
    cdef uint64_t f = frame >> PAGE_SHIFT
    cdef uint64_t irq = mm_lock()
    cdef bint ok = covered(f) and extra_owners[f] < EXTRA_OWNERS_MAX
    if ok:
        extra_owners[f] += 1
    mm_unlock(irq)
    return ok

cdef bint frameref_drop(uint64_t frame) noexcept nogil:
    cdef uint64_t f = frame >> PAGE_SHIFT
    cdef uint64_t irq = mm_lock()
    cdef bint last = not covered(f) or extra_owners[f] == 0
    if not last:
        extra_owners[f] -= 1
    mm_unlock(irq)
    return last

cdef void frameref_put(uint64_t frame) noexcept nogil:
    if frameref_drop(frame):
        pmm_free_frame(frame)

cdef bint frameref_shared(uint64_t frame) noexcept nogil:
    cdef uint64_t f = frame >> PAGE_SHIFT
    return covered(f) and extra_owners[f] != 0
