# Wait queues: threads sleeping until some condition may have changed.
#
# The pattern (waitq_lock is the scheduler's sched_lock, a spinlock with interrupts off):
#
#     flags = waitq_lock()
#     while not condition():
#         reason = waitq_sleep(&q, deadline_ns)     # queues, blocks, dequeues
#         if reason != WAKE_NORMAL: break           # timeout (or, later, a signal)
#     waitq_unlock(flags)
#
# and a waker changes the state first, then calls waitq_wake_all(&q).  A wake between
# the check and the sleep cannot be lost: both happen under the lock, which the sleeper
# keeps until it is off the CPU.  Conditions run under sched_lock: they may read, not
# take, the locks of lower rank (net_lock, unix_lock).
from libc.stdint cimport uint64_t
from tyn.proc.task cimport thread

cdef struct waitq:
    thread *head
    thread *tail

cdef extern void waitq_init(waitq *q) noexcept nogil
cdef extern uint64_t waitq_lock() noexcept nogil
cdef extern void waitq_unlock(uint64_t flags) noexcept nogil
# Sleep on q (call with waitq_lock held); returns WAKE_NORMAL, WAKE_TIMEOUT or WAKE_INTERRUPTED.
cdef extern int waitq_sleep(waitq *q, uint64_t deadline_ns) noexcept nogil
cdef extern int waitq_wake_all(waitq *q) noexcept nogil
cdef extern int waitq_wake_one(waitq *q) noexcept nogil
# waitq_wake_all with waitq_lock already held.
cdef extern int waitq_wake_all_locked(waitq *q) noexcept nogil
cdef extern bint waitq_empty(waitq *q) noexcept nogil

# The I/O readiness queue: every poll/epoll/select/blocking read waiter sleeps here, and
# any file whose readiness may have changed calls io_notify().  Simple and correct; a
# per-file queue is an optimisation for later.
cdef extern waitq *io_waitq() noexcept nogil
cdef extern void io_notify() noexcept nogil
