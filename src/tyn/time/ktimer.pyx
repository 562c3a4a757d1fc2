# Kernel timers (see ktimer.pxd).
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport cpu_relax, memory_fence
from tyn.arch.percpu cimport percpu_cpu_index, NR_CPUS
from tyn.lib.spinlock cimport spinlock, spinlock_init, spinlock_acquire, spinlock_release, SPINLOCK_RANK_KTIMER
from tyn.time.clock cimport clock_request

cdef spinlock ktimer_lock
cdef bint ready
cdef ktimer *head              # armed timers, ascending deadline (FIFO among equals)
cdef uint64_t arm_seq          # armings so far
cdef ktimer *running[NR_CPUS]   # the callback each CPU is running, or NULL (read by others)

cdef void ktimer_lock_init() noexcept nogil:
    global ready
    spinlock_init(&ktimer_lock, b"ktimer", SPINLOCK_RANK_KTIMER)
    ready = True

cdef inline uint64_t lock() noexcept nogil:
    if not ready:
        ktimer_lock_init()      # first use at boot, on one CPU
    return spinlock_acquire(&ktimer_lock)

cdef inline void unlock(uint64_t flags) noexcept nogil:
    spinlock_release(&ktimer_lock, flags)

cdef bint unlink_from(ktimer **link, ktimer *t) noexcept nogil:
    while link[0] != NULL:
        if link[0] == t:
            link[0] = t.next
            return True
        link = &link[0].next
    return False

cdef void unlink(ktimer *t) noexcept nogil:
    unlink_from(&head, t)
    t.next = NULL
    t.armed = False

cdef void ktimer_init(ktimer *t, ktimer_fn fn, void *arg) noexcept nogil:
    t.next = NULL
    t.deadline_ns = 0
    t.fn = fn
    t.arg = arg
    t.armed = False
    t.armed_seq = 0

cdef void ktimer_arm(ktimer *t, uint64_t deadline_ns) noexcept nogil:
    global head, arm_seq
    cdef uint64_t flags = lock()
    cdef ktimer **link
    if t.armed:
        unlink(t)
    t.deadline_ns = deadline_ns
    arm_seq += 1
    t.armed_seq = arm_seq
    link = &head
    while link[0] != NULL and link[0].deadline_ns <= deadline_ns:
        link = &link[0].next
    t.next = link[0]
    link[0] = t
    t.armed = True
    clock_request(deadline_ns)
    unlock(flags)

cdef void ktimer_cancel(ktimer *t) noexcept nogil:
    cdef uint64_t flags = lock()
    if t.armed:
        unlink(t)
    unlock(flags)

cdef bint running_elsewhere(ktimer *t) noexcept nogil:
    cdef int c
    cdef int me = percpu_cpu_index()
    for c in range(NR_CPUS):
        if c != me and running[c] == t:
            return True
    return False

cdef void ktimer_cancel_sync(ktimer *t) noexcept nogil:
    ktimer_cancel(t)
    while running_elsewhere(t):
        memory_fence()              # running[] is re-read each time round
        cpu_relax()
    ktimer_cancel(t)            # a callback that finished meanwhile may have re-armed it

cdef ktimer *take_due(uint64_t now_ns, uint64_t run_seq) noexcept nogil:
    """The first timer due at now_ns and armed before this run began, unlinked."""
    cdef ktimer *t = head
    while t != NULL and t.deadline_ns <= now_ns:
        if t.armed_seq <= run_seq and not running_elsewhere(t):
            unlink(t)
            return t
        t = t.next
    return NULL

cdef int ktimer_run(uint64_t now_ns) noexcept nogil:
    # One due timer at a time, its callback with the lock released.  A callback re-arming
    # its timer (even at a deadline already passed) is not fired again in this run.
    cdef uint64_t flags = lock()
    cdef uint64_t run_seq = arm_seq
    cdef int me = percpu_cpu_index()
    cdef ktimer *t
    cdef int n = 0
    while True:
        t = take_due(now_ns, run_seq)
        if t == NULL:
            break
        n += 1
        running[me] = t
        unlock(flags)
        if t.fn != NULL:
            t.fn(t)
        flags = lock()
        running[me] = NULL
    unlock(flags)
    return n

cdef uint64_t ktimer_next_deadline() noexcept nogil:
    cdef uint64_t flags = lock()
    cdef ktimer *t = head
    cdef uint64_t deadline = t.deadline_ns if t != NULL else 0
    unlock(flags)
    return deadline

cdef uint64_t ktimer_armed_count() noexcept nogil:
    cdef uint64_t flags = lock()
    cdef uint64_t n = 0
    cdef ktimer *t = head
    while t != NULL:
        n += 1
        t = t.next
    unlock(flags)
    return n

cdef void ktimer_reset() noexcept nogil:
    global head
    head = NULL
