# Futex wait queues (see futex.pxd for keys, locking and ordering rules).
from libc.stdint cimport uint32_t, uint64_t, int64_t

cdef extern from *:
    """
    #include <stdint.h>
    /* 2^64 / golden ratio: Fibonacci hashing */
    #define FUTEX_HASH_MUL ((uint64_t)0x9E3779B97F4A7C15ULL)
    """
    const uint64_t FUTEX_HASH_MUL

cdef struct futex_bucket:
    futex_waiter *head
    futex_waiter *tail
    int64_t count

cdef futex_bucket buckets[FUTEX_HASH_SIZE]
cdef int64_t total_waiters

cdef inline uint32_t bucket_of(uint64_t as_id, uint64_t uaddr) noexcept nogil:
    cdef uint64_t h = ((uaddr >> 2) ^ (as_id * FUTEX_HASH_MUL)) * FUTEX_HASH_MUL
    return <uint32_t>(h >> (64 - FUTEX_HASH_BITS))

cdef inline void unlink(futex_bucket *b, futex_waiter *w) noexcept nogil:
    global total_waiters
    if w.prev != NULL:
        w.prev.next = w.next
    else:
        b.head = w.next
    if w.next != NULL:
        w.next.prev = w.prev
    else:
        b.tail = w.prev
    w.next = NULL
    w.prev = NULL
    w.queued = 0
    b.count -= 1
    total_waiters -= 1

cdef void futex_init() noexcept nogil:
    global total_waiters
    cdef int i
    for i in range(FUTEX_HASH_SIZE):
        buckets[i].head = NULL
        buckets[i].tail = NULL
        buckets[i].count = 0
    total_waiters = 0

cdef void futex_waiter_init(futex_waiter *w, uint64_t as_id, uint64_t uaddr, uint32_t bitset) noexcept nogil:
    w.as_id = as_id
    w.uaddr = uaddr
    w.bitset = bitset
    w.woken = 0
    w.queued = 0
    w.bucket = 0
    w.next = NULL
    w.prev = NULL

cdef int futex_enqueue(futex_waiter *w) noexcept nogil:
    global total_waiters
    cdef futex_bucket *b
    if w == NULL or w.bitset == 0 or (w.uaddr & 3) != 0 or w.queued:
        return FUTEX_EINVAL
    w.bucket = bucket_of(w.as_id, w.uaddr)
    b = &buckets[w.bucket]
    w.woken = 0
    w.next = NULL
    w.prev = b.tail
    if b.tail != NULL:
        b.tail.next = w
    else:
        b.head = w
    b.tail = w
    w.queued = 1
    b.count += 1
    total_waiters += 1
    return 0

cdef int futex_dequeue(futex_waiter *w) noexcept nogil:
    if w == NULL or not w.queued:
        return 0
    unlink(&buckets[w.bucket], w)
    return 1

cdef int futex_wake(uint64_t as_id, uint64_t uaddr, uint32_t bitset, int nr,
                    futex_wake_fn fn, void *ctx) noexcept nogil:
    cdef futex_bucket *b
    cdef futex_waiter *w
    cdef futex_waiter *nxt
    cdef int woken = 0
    if bitset == 0 or (uaddr & 3) != 0:
        return FUTEX_EINVAL
    if nr <= 0:
        nr = 1
    b = &buckets[bucket_of(as_id, uaddr)]
    w = b.head
    while w != NULL and woken < nr:
        nxt = w.next
        if w.as_id == as_id and w.uaddr == uaddr and (w.bitset & bitset) != 0:
            unlink(b, w)
            w.woken = 1
            woken += 1
            if fn != NULL:
                fn(w, ctx)
        w = nxt
    return woken

cdef int futex_requeue(uint64_t as_id, uint64_t uaddr, uint64_t as_id2, uint64_t uaddr2, int nr_wake,
                       int nr_requeue, futex_wake_fn fn, void *ctx) noexcept nogil:
    cdef futex_bucket *b
    cdef futex_bucket *b2
    cdef futex_waiter *w
    cdef futex_waiter *nxt
    cdef int woken = 0, moved = 0
    if (uaddr & 3) != 0 or (uaddr2 & 3) != 0:
        return FUTEX_EINVAL
    b = &buckets[bucket_of(as_id, uaddr)]
    b2 = &buckets[bucket_of(as_id2, uaddr2)]
    w = b.head
    while w != NULL and (woken < nr_wake or moved < nr_requeue):
        nxt = w.next
        if w.as_id == as_id and w.uaddr == uaddr:
            if woken < nr_wake:
                unlink(b, w)
                w.woken = 1
                woken += 1
                if fn != NULL:
                    fn(w, ctx)
            else:
                # Moved to the second key's tail: a later wake of uaddr2 finds it.
                unlink(b, w)
                w.as_id = as_id2
                w.uaddr = uaddr2
                futex_enqueue(w)
                moved += 1
        w = nxt
    return woken + moved

cdef int futex_count(uint64_t as_id, uint64_t uaddr) noexcept nogil:
    cdef futex_waiter *w = buckets[bucket_of(as_id, uaddr)].head
    cdef int n = 0
    while w != NULL:
        if w.as_id == as_id and w.uaddr == uaddr:
            n += 1
        w = w.next
    return n

cdef int64_t futex_total() noexcept nogil:
    return total_waiters

cdef int futex_op_decode(int op, int *flags) noexcept nogil:
    cdef int cmd = op & FUTEX_CMD_MASK
    cdef int f = 0
    if op & FUTEX_PRIVATE_FLAG:
        f |= FUTEX_OPF_PRIVATE
    if op & FUTEX_CLOCK_REALTIME:
        f |= FUTEX_OPF_CLOCK_REALTIME
        if cmd != FUTEX_WAIT_BITSET:
            return FUTEX_ENOSYS
    if flags != NULL:
        flags[0] = f
    if cmd == FUTEX_WAIT or cmd == FUTEX_WAKE or cmd == FUTEX_WAIT_BITSET or cmd == FUTEX_WAKE_BITSET \
            or cmd == FUTEX_REQUEUE or cmd == FUTEX_CMP_REQUEUE or cmd == FUTEX_WAKE_OP:
        return cmd
    return FUTEX_ENOSYS
