# Pending signals' bookkeeping (see sigqueue.pxd): Linux's struct sigpending, with
# legacy_queue's rule for standard signals and __sigqueue_alloc's bound on held siginfos.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport memset
from tyn.lib.spinlock cimport spinlock, spinlock_init, spinlock_acquire, spinlock_release, SPINLOCK_RANK_SIGQUEUE
from tyn.mm.heap cimport kmalloc, kfree
from tyn.proc.task cimport thread, signal_info, queued_signal, SIGNAL_CLASSES
from tyn.sys.errno cimport EAGAIN
from tyn.sys.signal cimport SI_USER, SI_KERNEL

cdef enum:
    SIGQUEUE_ALL = 0                    # unlink_matching: every signal
    # Linux's SYNCHRONOUS_MASK: SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS
    SYNCHRONOUS_MASK = (1 << 10) | (1 << 6) | (1 << 3) | (1 << 4) | (1 << 7) | (1 << 30)

cdef spinlock sigqueue_lock
cdef uint64_t held                      # siginfos held by every thread (queue entries included)

cdef extern from *:
    """
    static inline void sigqueue_atomic_or64(volatile unsigned long long *p, unsigned long long v) {
        __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
    }
    static inline void sigqueue_atomic_store64(volatile unsigned long long *p, unsigned long long v) {
        __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
    }
    """
    void sigqueue_atomic_or64(volatile unsigned long long *p, unsigned long long v) nogil
    void sigqueue_atomic_store64(volatile unsigned long long *p, unsigned long long v) nogil

cdef void rt_queue_append(thread *t, queued_signal *entry) noexcept nogil:
    """Queue entry last on t's real-time queue (delivery order: arrival within a number)."""
    cdef queued_signal *last
    if t.rt_queue == NULL:
        t.rt_queue = entry
        return
    last = t.rt_queue
    while last.next != NULL:
        last = last.next
    last.next = entry

cdef inline uint64_t bit(int sig) noexcept nogil:
    return <uint64_t>1 << (sig - 1)

cdef void sigqueue_init() noexcept nogil:
    global held
    spinlock_init(&sigqueue_lock, b"sigqueue", SPINLOCK_RANK_SIGQUEUE)
    held = 0

cdef inline void update_union(thread *t) noexcept nogil:
    """Under the lock, after a class lost bits: signal_pending = the classes' union."""
    sigqueue_atomic_store64(<volatile unsigned long long *>&t.signal_pending,
                            t.class_pending[SIGQUEUE_PRIVATE] | t.class_pending[SIGQUEUE_SHARED])

cdef int sigqueue_add(thread *t, int sig, const signal_info *info, uint64_t limit,
                      int cls) noexcept nogil:
    global held
    cdef queued_signal *entry = NULL
    cdef uint64_t flags
    cdef int rc = SIGQUEUE_ADDED
    cdef bint realtime = sig >= SIGRTMIN_KERNEL
    cdef bint override = not realtime and info.code >= 0
    if realtime:
        entry = <queued_signal *>kmalloc(sizeof(queued_signal))     # not under the lock
        if entry != NULL:
            entry.next = NULL
            entry.sig = sig
            entry.cls = cls
            entry.info = info[0]
    flags = spinlock_acquire(&sigqueue_lock)
    if not realtime:
        if t.class_pending[cls] & bit(sig):
            rc = SIGQUEUE_MERGED        # legacy_queue: one instance, the first siginfo
        elif override or held < limit:
            t.siginfo[cls][sig] = info[0]
            t.siginfo_held[cls] |= bit(sig)
            held += 1
        # else: pending without its siginfo
    elif entry != NULL and held < limit:
        held += 1
        rt_queue_append(t, entry)
        entry = NULL
    elif info.code != SI_USER and info.code != SI_KERNEL:
        rc = -EAGAIN                    # queue overflow: the sender hears of it
    if rc == SIGQUEUE_ADDED:
        t.class_pending[cls] |= bit(sig)
        sigqueue_atomic_or64(<volatile unsigned long long *>&t.signal_pending, bit(sig))
    spinlock_release(&sigqueue_lock, flags)
    if entry != NULL:
        kfree(entry)
    return rc

cdef void lost_info(signal_info *out) noexcept nogil:
    """A signal pending without its siginfo (the limit was reached): Linux's
    collect_signal reports SI_USER from nobody."""
    memset(out, 0, sizeof(signal_info))
    out.code = SI_USER

cdef int next_signal(uint64_t ready) noexcept nogil:
    cdef int sig = 1
    if ready & SYNCHRONOUS_MASK:
        ready &= SYNCHRONOUS_MASK
    while not (ready & bit(sig)):
        sig += 1
    return sig

cdef queued_signal *take_entry(thread *t, int sig, int cls, bint *still_pending) noexcept nogil:
    """Under the lock: unlink the oldest entry of (sig, cls); still_pending says whether
    another one remains."""
    cdef queued_signal *entry = t.rt_queue
    cdef queued_signal *prev = NULL
    cdef queued_signal *other
    still_pending[0] = False
    while entry != NULL and not (entry.sig == sig and entry.cls == cls):
        prev = entry
        entry = entry.next
    if entry == NULL:
        return NULL
    if prev == NULL:
        t.rt_queue = entry.next
    else:
        prev.next = entry.next
    other = entry.next
    while other != NULL and not still_pending[0]:
        still_pending[0] = other.sig == sig and other.cls == cls
        other = other.next
    return entry

cdef int sigqueue_take_next(thread *t, uint64_t wanted, signal_info *out) noexcept nogil:
    global held
    cdef queued_signal *entry = NULL
    cdef bint still_pending = False
    cdef int sig = 0, cls = SIGQUEUE_PRIVATE
    cdef uint64_t flags = spinlock_acquire(&sigqueue_lock)
    if t.class_pending[SIGQUEUE_PRIVATE] & wanted:
        sig = next_signal(t.class_pending[SIGQUEUE_PRIVATE] & wanted)
    elif t.class_pending[SIGQUEUE_SHARED] & wanted:
        cls = SIGQUEUE_SHARED
        sig = next_signal(t.class_pending[SIGQUEUE_SHARED] & wanted)
    if sig != 0:
        if sig < SIGRTMIN_KERNEL:
            if t.siginfo_held[cls] & bit(sig):
                out[0] = t.siginfo[cls][sig]
                t.siginfo_held[cls] &= ~bit(sig)
                held -= 1
            else:
                lost_info(out)
        else:
            entry = take_entry(t, sig, cls, &still_pending)
            if entry != NULL:
                out[0] = entry.info
                held -= 1
            else:
                lost_info(out)          # pending without an entry (the queue was full)
        if not still_pending:
            t.class_pending[cls] &= ~bit(sig)
            update_union(t)
    spinlock_release(&sigqueue_lock, flags)
    if entry != NULL:
        kfree(entry)
    return sig

cdef queued_signal *unlink_matching(thread *t, int sig) noexcept nogil:
    """Under the lock: t's entries for sig (every one for SIGQUEUE_ALL) as a list of their own."""
    global held
    cdef queued_signal *keep = NULL
    cdef queued_signal *keep_tail = NULL
    cdef queued_signal *dropped = NULL
    cdef queued_signal *entry = t.rt_queue
    cdef queued_signal *next
    while entry != NULL:
        next = entry.next
        entry.next = NULL
        if sig == SIGQUEUE_ALL or entry.sig == sig:
            entry.next = dropped
            dropped = entry
            held -= 1
        elif keep_tail == NULL:
            keep = entry
            keep_tail = entry
        else:
            keep_tail.next = entry
            keep_tail = entry
        entry = next
    t.rt_queue = keep
    return dropped

cdef void drop_standard(thread *t, uint64_t bits) noexcept nogil:
    """Under the lock: the standard signals in bits stop being pending in both classes."""
    global held
    cdef int sig, cls
    for cls in range(SIGNAL_CLASSES):
        for sig in range(1, SIGRTMIN_KERNEL):
            if bits & t.siginfo_held[cls] & bit(sig):
                held -= 1
        t.siginfo_held[cls] &= ~bits
        t.class_pending[cls] &= ~bits

cdef void free_list(queued_signal *entry) noexcept nogil:
    cdef queued_signal *next
    while entry != NULL:
        next = entry.next
        kfree(entry)
        entry = next

cdef uint64_t sigqueue_move_shared(thread *src, thread *dst) noexcept nogil:
    global held
    cdef uint64_t flags = spinlock_acquire(&sigqueue_lock)
    cdef uint64_t moving = src.class_pending[SIGQUEUE_SHARED]
    cdef queued_signal *entry = src.rt_queue
    cdef queued_signal *prev = NULL
    cdef queued_signal *next
    cdef int sig
    for sig in range(1, SIGRTMIN_KERNEL):
        if not (moving & bit(sig)):
            continue
        if dst.class_pending[SIGQUEUE_SHARED] & bit(sig):
            if src.siginfo_held[SIGQUEUE_SHARED] & bit(sig):
                held -= 1               # already pending there: one instance (legacy_queue)
        elif src.siginfo_held[SIGQUEUE_SHARED] & bit(sig):
            dst.siginfo[SIGQUEUE_SHARED][sig] = src.siginfo[SIGQUEUE_SHARED][sig]
            dst.siginfo_held[SIGQUEUE_SHARED] |= bit(sig)
    src.siginfo_held[SIGQUEUE_SHARED] = 0
    while entry != NULL:                # queued instances keep their order, after dst's
        next = entry.next
        if entry.cls == SIGQUEUE_SHARED:
            if prev == NULL:
                src.rt_queue = next
            else:
                prev.next = next
            entry.next = NULL
            rt_queue_append(dst, entry)
        else:
            prev = entry
        entry = next
    src.class_pending[SIGQUEUE_SHARED] = 0
    update_union(src)
    dst.class_pending[SIGQUEUE_SHARED] |= moving
    sigqueue_atomic_or64(<volatile unsigned long long *>&dst.signal_pending, moving)
    spinlock_release(&sigqueue_lock, flags)
    return moving

cdef void sigqueue_discard(thread *t, int sig) noexcept nogil:
    cdef uint64_t flags = spinlock_acquire(&sigqueue_lock)
    cdef queued_signal *dropped = unlink_matching(t, sig)
    drop_standard(t, bit(sig))
    update_union(t)
    spinlock_release(&sigqueue_lock, flags)
    free_list(dropped)

cdef void sigqueue_release(thread *t) noexcept nogil:
    cdef uint64_t flags = spinlock_acquire(&sigqueue_lock)
    cdef queued_signal *dropped = unlink_matching(t, SIGQUEUE_ALL)
    drop_standard(t, ~(<uint64_t>0))
    update_union(t)
    spinlock_release(&sigqueue_lock, flags)
    free_list(dropped)

cdef uint64_t sigqueue_count() noexcept nogil:
    return held
