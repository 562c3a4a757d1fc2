# net_lock (see netlock.pxd): a ranked spinlock, interrupts off while held.
from libc.stdint cimport uint64_t
from tyn.lib.spinlock cimport spinlock, spinlock_init, spinlock_acquire, spinlock_release, SPINLOCK_RANK_NET

cdef spinlock net_spin
cdef bint ready

cdef uint64_t net_lock_acquire() noexcept nogil:
    global ready
    if not ready:                       # first use at boot (one CPU), before any other
        spinlock_init(&net_spin, b"net", SPINLOCK_RANK_NET)
        ready = True
    return spinlock_acquire(&net_spin)


cdef void net_lock_release(uint64_t flags) noexcept nogil:
    spinlock_release(&net_spin, flags)
