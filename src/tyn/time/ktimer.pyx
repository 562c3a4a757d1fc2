# Kernel timers (see ktimer.pxd).  One CPU: interrupts off is the lock.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport read_rflags, irq_disable, irq_enable, RFLAGS_IF
from tyn.time.clock cimport clock_request

cdef ktimer *head              # armed timers, ascending deadline (FIFO among equals)
cdef ktimer *due               # ktimer_run: detached due timers not yet fired

cdef inline uint64_t lock() noexcept nogil:
    cdef uint64_t flags = read_rflags()
    irq_disable()
    return flags

cdef inline void unlock(uint64_t flags) noexcept nogil:
    if flags & RFLAGS_IF:
        irq_enable()

cdef bint unlink_from(ktimer **link, ktimer *t) noexcept nogil:
    while link[0] != NULL:
        if link[0] == t:
            link[0] = t.next
            return True
        link = &link[0].next
    return False

cdef void unlink(ktimer *t) noexcept nogil:
    global head, due
    if not unlink_from(&head, t):
        unlink_from(&due, t)        # cancelled by a callback of the same run
    t.next = NULL
    t.armed = False

cdef void ktimer_init(ktimer *t, ktimer_fn fn, void *arg) noexcept nogil:
    t.next = NULL
    t.deadline_ns = 0
    t.fn = fn
    t.arg = arg
    t.armed = False

cdef void ktimer_arm(ktimer *t, uint64_t deadline_ns) noexcept nogil:
    global head
    cdef uint64_t flags = lock()
    cdef ktimer **link
    if t.armed:
        unlink(t)
    t.deadline_ns = deadline_ns
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

cdef int ktimer_run(uint64_t now_ns) noexcept nogil:
    # The due prefix is detached first: a callback re-arming its timer (even at a deadline
    # already passed) is not fired again in this run, and one cancelling another due
    # timer removes it from the detached list.
    global head, due
    cdef uint64_t flags = lock()
    cdef ktimer *t
    cdef ktimer **link = &head
    cdef int n = 0
    while link[0] != NULL and link[0].deadline_ns <= now_ns:
        link = &link[0].next
    if link != &head:
        due = head
        head = link[0]
        link[0] = NULL
    while due != NULL:
        t = due
        due = t.next
        t.next = NULL
        t.armed = False
        n += 1
        if t.fn != NULL:
            t.fn(t)
    unlock(flags)
    return n

cdef uint64_t ktimer_next_deadline() noexcept nogil:
    cdef ktimer *t = head
    return t.deadline_ns if t != NULL else 0

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
    global head, due
    head = NULL
    due = NULL
