# mm_lock (see mm_lock.pxd): a ranked spinlock that nests on its holder.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport read_rflags, irq_disable, irq_enable, RFLAGS_IF
from tyn.lib.spinlock cimport (spinlock, spinlock_init, spinlock_acquire, spinlock_release, spinlock_held,
                               SPINLOCK_RANK_MM)

cdef spinlock mm_spin
cdef uint32_t mm_lock_depth         # nested acquisitions by the holder (written by it only)
cdef bint ready

cdef void mm_lock_init() noexcept nogil:
    global ready
    spinlock_init(&mm_spin, b"mm", SPINLOCK_RANK_MM)
    ready = True

cdef uint64_t mm_lock() noexcept nogil:
    global mm_lock_depth
    cdef uint64_t flags = read_rflags()
    irq_disable()
    if not ready:
        mm_lock_init()              # the first allocation comes before any init code
    if spinlock_held(&mm_spin):
        mm_lock_depth += 1
        return flags
    spinlock_acquire(&mm_spin)
    return flags

cdef void mm_unlock(uint64_t flags) noexcept nogil:
    global mm_lock_depth
    if mm_lock_depth > 0:
        mm_lock_depth -= 1
        if flags & RFLAGS_IF:
            irq_enable()
        return
    spinlock_release(&mm_spin, flags)
