# Futex wait queues: a fixed hash table of FIFO queues of waiter records.
#
# The table knows nothing about threads or the scheduler.  A waiting thread owns a
# futex_waiter (embedded in its thread struct: no allocation per wait), puts it on the
# queue of its key, and blocks; a waker unlinks matching waiters and hands each one to a
# callback (the scheduler's "make runnable").  Timeouts and signals are the caller's too:
# it dequeues its own waiter.
#
# KEYS.  A futex is (address-space id, user address).  Linux keys a private futex by
# (mm, address) and a shared one on a shared mapping by the backing page, so that
# different processes mapping the same page meet.  sys/futex_syscall does the same: a
# futex without FUTEX_PRIVATE_FLAG in a MAP_SHARED mapping is keyed (FUTEX_KEY_SHARED,
# physical address of the word); every other one (address-space root, user address).
# The address must be 4-byte aligned (else -EINVAL, as Linux).
#
# LOCKING AND ORDERING -- the rule that makes lost wake-ups impossible.  The table has no
# lock of its own; every call must be made with the futex lock held (uniprocessor: with
# interrupts disabled; SMP: one spinlock around all futex_* calls).  FUTEX_WAIT must be:
#
#     lock
#     rc = copy_from_user(&cur, uaddr, 4)     # read the futex word UNDER the lock
#        (a fault: unlock, return -EFAULT -- or, if faulting the page in needs to sleep,
#         unlock, fault it in outside the lock, and start again)
#     if cur != val: unlock; return -EAGAIN   # EWOULDBLOCK
#     futex_waiter_init(&t.fw, as_id, uaddr, bitset); rc = futex_enqueue(&t.fw)  (-EINVAL?)
#     mark t blocked (still under the lock)
#     unlock; schedule()                      # a wake between unlock and schedule just
#                                             # makes t runnable again: nothing is lost
#     on resume:  if t.fw.woken: return 0
#                 lock; still = futex_dequeue(&t.fw); unlock
#                 return -ETIMEDOUT / -EINTR if still else 0   (woken just in time: success)
#
# A waker changes the futex word in user memory BEFORE calling FUTEX_WAKE, so a waiter that
# compared under the lock either saw the new value (EAGAIN) or was already queued when the
# wake looked.  FUTEX_WAKE:  lock; n = futex_wake(as_id, uaddr, bitset, nr, make_runnable, ctx);
# unlock; return n.  Thread exit with CLONE_CHILD_CLEARTID: put_user(0, ctid) then
# futex_wake(as_id, ctid, FUTEX_BITSET_MATCH_ANY, 1, ...).
#
# Linux details reproduced: nr_wake <= 0 still wakes one waiter (Linux's loop checks the
# count after waking); bitset 0 is -EINVAL for both wait and wake; FIFO order among
# waiters of one key (Linux queues by priority, FIFO within a priority; all SCHED_OTHER
# threads share one).  Timeouts (caller's): FUTEX_WAIT takes a RELATIVE timespec measured
# on CLOCK_MONOTONIC; FUTEX_WAIT_BITSET takes an ABSOLUTE one, on CLOCK_MONOTONIC, or
# CLOCK_REALTIME with FUTEX_CLOCK_REALTIME.
from libc.stdint cimport uint32_t, uint64_t, int64_t

cdef enum:
    # futex op word (include/uapi/linux/futex.h)
    FUTEX_WAIT = 0
    FUTEX_WAKE = 1
    FUTEX_FD = 2
    FUTEX_REQUEUE = 3
    FUTEX_CMP_REQUEUE = 4
    FUTEX_WAKE_OP = 5
    FUTEX_LOCK_PI = 6
    FUTEX_UNLOCK_PI = 7
    FUTEX_TRYLOCK_PI = 8
    FUTEX_WAIT_BITSET = 9
    FUTEX_WAKE_BITSET = 10
    FUTEX_PRIVATE_FLAG = 128
    FUTEX_CLOCK_REALTIME = 256
    FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    FUTEX_BITSET_MATCH_ANY = -1     # 0xffffffff as a uint32_t

    FUTEX_HASH_BITS = 8
    FUTEX_HASH_SIZE = 1 << FUTEX_HASH_BITS

    # futex_op_decode flags
    FUTEX_OPF_PRIVATE = 1
    FUTEX_OPF_CLOCK_REALTIME = 2

    FUTEX_KEY_SHARED = 1            # as_id of shared keys (no page-table root is 1)
    FUTEX_EINVAL = -22
    FUTEX_ENOSYS = -38

cdef struct futex_waiter
# Called by futex_wake for each woken waiter, already unlinked and with woken = 1, with the
# futex lock still held (the waiter cannot go away meanwhile).  ctx is futex_wake's.
ctypedef void (*futex_wake_fn)(futex_waiter *w, void *ctx) noexcept nogil

# A waiter record, owned (embedded) by the caller.  Fields are for reading; the links
# are the table's.
cdef struct futex_waiter:
    uint64_t as_id          # key: address-space id
    uint64_t uaddr          # key: user address of the futex word
    uint32_t bitset         # FUTEX_WAIT: FUTEX_BITSET_MATCH_ANY; WAIT_BITSET: the caller's
    uint32_t woken          # set by futex_wake when it unlinks this waiter
    uint32_t queued         # on a queue
    uint32_t bucket         # which one (valid while queued)
    futex_waiter *next
    futex_waiter *prev
    void *owner             # for the caller (e.g. its thread); never touched by the table

# Empty the table (all waiters forgotten).  The table starts empty without it: a
# zeroed global is an empty table.
cdef extern void futex_init() noexcept nogil
# Fill in a waiter for key (as_id, uaddr) and bitset; clears woken/queued/links.
cdef extern void futex_waiter_init(futex_waiter *w, uint64_t as_id, uint64_t uaddr,
                                   uint32_t bitset) noexcept nogil
# Append w to its key's queue.  0, or FUTEX_EINVAL (bitset 0, uaddr not 4-aligned, w already queued).
cdef extern int futex_enqueue(futex_waiter *w) noexcept nogil
# Take w off its queue if it is still there: 1 if it was queued (so nobody woke it: the
# caller's timeout/signal wins), 0 if it was not (already woken, or never queued).
cdef extern int futex_dequeue(futex_waiter *w) noexcept nogil
# Wake up to nr waiters of key (as_id, uaddr) whose bitset shares a bit with bitset, oldest
# first; each is unlinked, marked woken and passed to fn (may be NULL).  nr <= 0 wakes one,
# as Linux.  Returns the number woken, or FUTEX_EINVAL for bitset 0 / a misaligned uaddr.
cdef extern int futex_wake(uint64_t as_id, uint64_t uaddr, uint32_t bitset, int nr,
                           futex_wake_fn fn, void *ctx) noexcept nogil
# Waiters queued on key (as_id, uaddr) (diagnostics, tests).
# FUTEX_REQUEUE's core: wake up to nr_wake waiters of (as_id, uaddr) (none if 0), then move
# up to nr_requeue of the rest onto (as_id2, uaddr2); how many were woken plus moved.
cdef extern int futex_requeue(uint64_t as_id, uint64_t uaddr, uint64_t as_id2, uint64_t uaddr2, int nr_wake,
                              int nr_requeue, futex_wake_fn fn, void *ctx) noexcept nogil
cdef extern int futex_count(uint64_t as_id, uint64_t uaddr) noexcept nogil
# Waiters queued in the whole table.
cdef extern int64_t futex_total() noexcept nogil
# Split a futex(2) op word: the command (FUTEX_WAIT ...) or FUTEX_ENOSYS for a command Tyn
# does not implement (everything except WAIT, WAKE, WAIT_BITSET, WAKE_BITSET) or for
# FUTEX_CLOCK_REALTIME on anything but WAIT_BITSET (Linux: ENOSYS too); *flags gets
# FUTEX_OPF_* bits.
cdef extern int futex_op_decode(int op, int *flags) noexcept nogil
