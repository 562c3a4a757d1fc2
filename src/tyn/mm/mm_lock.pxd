# mm_lock: the memory manager's spinlock (rank SPINLOCK_RANK_MM, the highest: taken last).
#
# Protects the pmm's free lists and counts, the heap, kernel stack slots, frame owner
# counts and every page-table update (kernel and user roots).  Interrupts are off while
# it is held (interrupt handlers allocate).  It nests on the CPU that holds it (an entry
# point may call another: heap -> pmm, kstack -> paging), counted in mm_lock_depth.
# Nothing takes another lock while holding it; TLB shootdowns wait until it is released.
from libc.stdint cimport uint64_t

cdef extern uint64_t mm_lock() noexcept nogil
cdef extern void mm_unlock(uint64_t flags) noexcept nogil
cdef extern void mm_lock_init() noexcept nogil
