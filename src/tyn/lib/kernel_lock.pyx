# kernel_lock (see kernel_lock.pxd): a ranked spinlock waited for with interrupts on.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport cpu_relax, read_rflags, irq_enable, irq_disable, RFLAGS_IF
from tyn.lib.kprofile cimport profile_begin, profile_end_event, PROFILE_KERNEL_LOCK_WAIT
from tyn.lib.spinlock cimport (spinlock, spinlock_init, spinlock_try_acquire, spinlock_release,
                               spinlock_held, SPINLOCK_RANK_KERNEL)

cdef spinlock big_lock

cdef void kernel_lock_init() noexcept nogil:
    spinlock_init(&big_lock, b"kernel_lock", SPINLOCK_RANK_KERNEL)

cdef void kernel_lock_acquire() noexcept nogil:
    cdef uint64_t caller = read_rflags()
    cdef uint64_t ignored
    cdef uint64_t started = 0
    while not spinlock_try_acquire(&big_lock, &ignored):
        if started == 0:
            started = profile_begin()
        irq_enable()                    # answer IPIs from the holder while waiting
        while big_lock.locked != 0:
            cpu_relax()
        irq_disable()
    if started != 0:
        profile_end_event(PROFILE_KERNEL_LOCK_WAIT, started)
    # Held without disabling interrupts: the holder runs with them as it likes.
    if caller & RFLAGS_IF:
        irq_enable()
    else:
        irq_disable()

cdef void kernel_lock_release() noexcept nogil:
    cdef uint64_t caller = read_rflags()
    spinlock_release(&big_lock, caller)

cdef bint kernel_lock_held() noexcept nogil:
    return spinlock_held(&big_lock)
