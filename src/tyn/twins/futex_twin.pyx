# Host face of proc/futex for tests.  Waiter records live in C memory owned by the twin;
# Python refers to them by index.
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport calloc, free
from tyn.proc.futex cimport *

EINVAL = FUTEX_EINVAL
ENOSYS = FUTEX_ENOSYS
MATCH_ANY = 0xffffffff
HASH_SIZE = FUTEX_HASH_SIZE
OPS = {"WAIT": FUTEX_WAIT, "WAKE": FUTEX_WAKE, "FD": FUTEX_FD, "REQUEUE": FUTEX_REQUEUE,
       "CMP_REQUEUE": FUTEX_CMP_REQUEUE, "WAKE_OP": FUTEX_WAKE_OP, "LOCK_PI": FUTEX_LOCK_PI,
       "UNLOCK_PI": FUTEX_UNLOCK_PI, "TRYLOCK_PI": FUTEX_TRYLOCK_PI, "WAIT_BITSET": FUTEX_WAIT_BITSET,
       "WAKE_BITSET": FUTEX_WAKE_BITSET}
PRIVATE_FLAG = FUTEX_PRIVATE_FLAG
CLOCK_REALTIME = FUTEX_CLOCK_REALTIME
OPF_PRIVATE = FUTEX_OPF_PRIVATE
OPF_CLOCK_REALTIME = FUTEX_OPF_CLOCK_REALTIME

cdef futex_waiter *pool = NULL
cdef int pool_size = 0

cdef struct wake_log:
    int n
    int cap
    int *ids

cdef void record(futex_waiter *w, void *ctx) noexcept nogil:
    cdef wake_log *log = <wake_log *>ctx
    if log.n < log.cap:
        log.ids[log.n] = <int>(w - pool)
    log.n += 1


def reset(int waiters=1024):
    """Empty table, fresh pool of `waiters` waiter records."""
    global pool, pool_size
    futex_init()
    free(pool)
    pool = <futex_waiter *>calloc(waiters, sizeof(futex_waiter))
    pool_size = waiters

cdef futex_waiter *W(int i) except NULL:
    if i < 0 or i >= pool_size:
        raise IndexError(i)
    return &pool[i]

def waiter_init(int i, unsigned long long as_id, unsigned long long uaddr, unsigned int bitset=MATCH_ANY):
    futex_waiter_init(W(i), as_id, uaddr, bitset)

def enqueue(int i) -> int:
    return futex_enqueue(W(i))

def dequeue(int i) -> int:
    return futex_dequeue(W(i))

def waiter(int i) -> dict:
    cdef futex_waiter *w = W(i)
    return dict(as_id=w.as_id, uaddr=w.uaddr, bitset=w.bitset, woken=w.woken, queued=w.queued)

def wake(unsigned long long as_id, unsigned long long uaddr, unsigned int bitset, int nr, bint callback=True):
    """futex_wake: (return value, [indices of woken waiters in callback order])."""
    cdef wake_log log
    cdef int rc
    cdef futex_wake_fn fn = record if callback else <futex_wake_fn>NULL
    log.n = 0
    log.cap = pool_size
    log.ids = <int *>calloc(pool_size + 1, sizeof(int))
    try:
        rc = futex_wake(as_id, uaddr, bitset, nr, fn, &log)
        return rc, [log.ids[k] for k in range(min(log.n, log.cap))]
    finally:
        free(log.ids)

def requeue(unsigned long long as_id, unsigned long long uaddr, unsigned long long as_id2,
            unsigned long long uaddr2, int nr_wake, int nr_requeue):
    """futex_requeue: (return value, [indices of woken waiters in callback order])."""
    cdef wake_log log
    cdef int rc
    log.n = 0
    log.cap = pool_size
    log.ids = <int *>calloc(pool_size + 1, sizeof(int))
    try:
        rc = futex_requeue(as_id, uaddr, as_id2, uaddr2, nr_wake, nr_requeue, record, &log)
        return rc, [log.ids[k] for k in range(min(log.n, log.cap))]
    finally:
        free(log.ids)

def count(unsigned long long as_id, unsigned long long uaddr) -> int:
    return futex_count(as_id, uaddr)

def total() -> int:
    return futex_total()

def op_decode(int op):
    """(cmd or -ENOSYS, flags)"""
    cdef int flags = -1
    rc = futex_op_decode(op, &flags)
    return rc, flags
