# Wait queues over the scheduler's block/wake; waitq_lock is sched_lock.
from libc.stdint cimport uint64_t
from tyn.proc.sched cimport (sched_current, sched_block, sched_wake_locked, sched_lock_acquire,
                             sched_lock_release)
from tyn.proc.task cimport thread, WAKE_NORMAL

cdef waitq io_queue

cdef void waitq_init(waitq *q) noexcept nogil:
    q.head = NULL
    q.tail = NULL

cdef uint64_t waitq_lock() noexcept nogil:
    return sched_lock_acquire()

cdef void waitq_unlock(uint64_t flags) noexcept nogil:
    sched_lock_release(flags)

cdef void unlink(waitq *q, thread *t) noexcept nogil:
    cdef thread **link = &q.head
    cdef thread *prev = NULL
    while link[0] != NULL:
        if link[0] == t:
            link[0] = t.wait_next
            if q.tail == t:
                q.tail = prev
            t.wait_next = NULL
            t.waiting_on = NULL
            return
        prev = link[0]
        link = &link[0].wait_next

cdef int waitq_sleep(waitq *q, uint64_t deadline_ns) noexcept nogil:
    cdef thread *t = sched_current()
    cdef int reason
    t.wait_next = NULL
    t.waiting_on = q
    if q.tail == NULL:
        q.head = t
    else:
        q.tail.wait_next = t
    q.tail = t
    reason = sched_block(deadline_ns)
    if t.waiting_on != NULL:            # timed out or interrupted: still queued
        unlink(q, t)
    return reason

cdef int wake_locked(waitq *q, int limit) noexcept nogil:
    cdef thread *t
    cdef int n = 0
    while q.head != NULL and (limit < 0 or n < limit):
        t = q.head
        q.head = t.wait_next
        if q.head == NULL:
            q.tail = NULL
        t.wait_next = NULL
        t.waiting_on = NULL
        sched_wake_locked(t, WAKE_NORMAL)
        n += 1
    return n

cdef int wake(waitq *q, int limit) noexcept nogil:
    cdef uint64_t flags = waitq_lock()
    cdef int n = wake_locked(q, limit)
    waitq_unlock(flags)
    return n

cdef int waitq_wake_all(waitq *q) noexcept nogil:
    return wake(q, -1)

cdef int waitq_wake_one(waitq *q) noexcept nogil:
    return wake(q, 1)

cdef int waitq_wake_all_locked(waitq *q) noexcept nogil:
    return wake_locked(q, -1)

cdef bint waitq_empty(waitq *q) noexcept nogil:
    return q.head == NULL

cdef waitq *io_waitq() noexcept nogil:
    return &io_queue

cdef void io_notify() noexcept nogil:
    waitq_wake_all(&io_queue)
