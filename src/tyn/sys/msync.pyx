# msync(2) as mm/msync.c, over Tyn's memory model: a shared file mapping maps the file's
# own tmpfs page frames, and anonymous or private mappings have no file behind them, so
# there is never anything to write back or re-read: MS_SYNC and MS_ASYNC are complete when
# checked, MS_INVALIDATE has no stale copies to drop (and no mlock makes it EBUSY).  What
# remains is Linux's validation: flags, alignment, wrap-around, and ENOMEM for a range
# that is not entirely mapped.
from libc.stdint cimport int64_t, uint64_t
from tyn.mm.pmm cimport PAGE_SIZE
from tyn.mm.vma cimport vma, mm_space
from tyn.proc.sched cimport sched_current
from tyn.sys.errno cimport EINVAL, ENOMEM

cdef enum:
    MS_ASYNC = 1
    MS_INVALIDATE = 2
    MS_SYNC = 4

cdef int64_t sys_msync(uint64_t addr, uint64_t length, uint64_t flags) noexcept nogil:
    cdef mm_space *mm = &sched_current().proc.mm
    cdef uint64_t offset_mask = PAGE_SIZE - 1
    cdef uint64_t start = addr, end
    cdef vma *v
    cdef int64_t unmapped_error = 0
    if flags & ~(<uint64_t>(MS_ASYNC | MS_INVALIDATE | MS_SYNC)):
        return -EINVAL
    if start & offset_mask:
        return -EINVAL
    if (flags & MS_ASYNC) and (flags & MS_SYNC):
        return -EINVAL
    length = (length + offset_mask) & ~offset_mask
    end = start + length
    if end < start:
        return -ENOMEM
    if end == start:
        return 0
    v = mm.head                         # find_vma: the first mapping ending above start
    while v != NULL and v.end <= start:
        v = v.next
    while True:
        if v == NULL:
            return -ENOMEM
        if start < v.start:
            if flags == MS_ASYNC:
                return -ENOMEM
            start = v.start
            if start >= end:
                return -ENOMEM
            unmapped_error = -ENOMEM
        start = v.end
        if start >= end:
            return unmapped_error
        v = v.next
