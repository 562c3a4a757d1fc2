# futex(2): WAIT/WAKE and their BITSET forms, REQUEUE, CMP_REQUEUE and WAKE_OP, over the
# wait queues of proc/futex.pyx.  The ordering rules that make lost wake-ups impossible
# are in proc/futex.pxd.  Every call runs under the kernel_lock (a system call), which
# serialises the futex word reads against other futex calls; the queues and the block
# are under waitq_lock.  User code on other CPUs may change futex words at any time:
# WAKE_OP changes its word with one atomic compare-and-exchange, as Linux does.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt
from tyn.arch.uaccess cimport copy_from_user
from tyn.arch.panic cimport PF_WRITE, PF_USER
from tyn.mm.paging cimport paging_translate, PAGING_NOT_MAPPED, PTE_WRITE
from tyn.mm.vma cimport vma, vma_find, vma_fault, MAP_SHARED
from tyn.mm.pmm cimport PAGE_SIZE
from tyn.proc.futex cimport (futex_waiter, futex_waiter_init, futex_enqueue, futex_dequeue, futex_wake,
                             futex_requeue, futex_op_decode, FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET,
                             FUTEX_WAKE_BITSET, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP,
                             FUTEX_OPF_CLOCK_REALTIME, FUTEX_OPF_PRIVATE, FUTEX_BITSET_MATCH_ANY,
                             FUTEX_KEY_SHARED)
from tyn.proc.sched cimport sched_current, sched_block, sched_wake_locked
from tyn.proc.waitq cimport waitq_lock, waitq_unlock
from tyn.proc.task cimport thread, WAKE_NORMAL, WAKE_TIMEOUT, THREAD_BLOCKED
from tyn.sys.errno cimport EAGAIN, EFAULT, EINVAL, ETIMEDOUT, EINTR, ERESTARTSYS, ENOSYS
from tyn.sys.timeutil cimport timespec_from_user, timeout_deadline_ns, TIMEOUT_RELATIVE, TIMEOUT_ABSOLUTE

cdef extern from *:
    """
    static inline int tyn_cmpxchg32(volatile uint32_t *p, uint32_t old, uint32_t new_) {
        return __sync_bool_compare_and_swap(p, old, new_);
    }
    """
    bint tyn_cmpxchg32(volatile uint32_t *p, uint32_t old, uint32_t new_) nogil

cdef enum:
    # FUTEX_WAKE_OP's encoded operation (include/uapi/linux/futex.h)
    FUTEX_OP_SET = 0
    FUTEX_OP_ADD = 1
    FUTEX_OP_OR = 2
    FUTEX_OP_ANDN = 3
    FUTEX_OP_XOR = 4
    FUTEX_OP_OPARG_SHIFT = 8
    FUTEX_OP_CMP_EQ = 0
    FUTEX_OP_CMP_NE = 1
    FUTEX_OP_CMP_LT = 2
    FUTEX_OP_CMP_LE = 3
    FUTEX_OP_CMP_GT = 4
    FUTEX_OP_CMP_GE = 5
    FUTEX_OP_ARG_BITS = 12
    FUTEX_OP_ARG_MASK = 0xFFF
    FUTEX_OP_OP_SHIFT = 28
    FUTEX_OP_CMP_SHIFT = 24
    FUTEX_OP_OPARG_POS = 12
    FUTEX_OP_NIBBLE = 0xF
    INT_BITS = 32
    PAGE_OFFSET_MASK = PAGE_SIZE - 1

cdef struct futex_key:
    uint64_t as_id
    uint64_t addr

cdef void wake_thread(futex_waiter *w, void *ctx) noexcept nogil:
    sched_wake_locked(<thread *>w.owner, WAKE_NORMAL)

cdef uint64_t user_word_phys(uint64_t uaddr, bint for_write) noexcept nogil:
    """The physical address of the user word, faulted in (and its copy-on-write broken
    if for_write) as a user access would; PAGING_NOT_MAPPED if the access would fault."""
    cdef thread *t = sched_current()
    cdef uint64_t flags = 0
    cdef uint64_t pa = paging_translate(t.proc.page_root, uaddr, &flags)
    if pa == PAGING_NOT_MAPPED or (for_write and (flags & PTE_WRITE) == 0):
        if not vma_fault(&t.proc.mm, uaddr & ~(<uint64_t>PAGE_OFFSET_MASK),
                         PF_USER | (PF_WRITE if for_write else 0)):
            return PAGING_NOT_MAPPED
        pa = paging_translate(t.proc.page_root, uaddr, &flags)
        if pa == PAGING_NOT_MAPPED or (for_write and (flags & PTE_WRITE) == 0):
            return PAGING_NOT_MAPPED
    return pa

cdef int key_of(uint64_t uaddr, int opflags, futex_key *key) noexcept nogil:
    """Linux's get_futex_key: private futexes and private mappings by (mm, address), a
    shared futex in a MAP_SHARED mapping by its page (so processes meet).  0 or -EFAULT."""
    cdef thread *t = sched_current()
    cdef vma *v
    cdef uint64_t pa
    key.as_id = t.proc.page_root
    key.addr = uaddr
    if opflags & FUTEX_OPF_PRIVATE:
        return 0
    v = vma_find(&t.proc.mm, uaddr)
    if v == NULL:
        return -EFAULT
    if v.flags & MAP_SHARED:
        pa = user_word_phys(uaddr, False)
        if pa == PAGING_NOT_MAPPED:
            return -EFAULT
        key.as_id = FUTEX_KEY_SHARED
        key.addr = pa
    return 0

cdef int64_t futex_wait(uint64_t uaddr, uint32_t val, uint64_t deadline_ns, uint32_t bitset,
                        int opflags) noexcept nogil:
    cdef thread *t = sched_current()
    cdef uint32_t current_value = 0
    cdef futex_key key
    cdef uint64_t flags
    cdef int64_t rc = key_of(uaddr, opflags, &key)
    cdef int reason
    if rc < 0:
        return rc
    # Read under the kernel_lock: a FUTEX_WAKE (which needs it too) cannot run between
    # this read and the queueing below, and a waker changes the word before waking.
    if copy_from_user(&current_value, uaddr, 4) != 0:
        return -EFAULT
    if current_value != val:
        return -EAGAIN
    flags = waitq_lock()
    futex_waiter_init(&t.futex_wait, key.as_id, key.addr, bitset)
    t.futex_wait.owner = t
    rc = futex_enqueue(&t.futex_wait)
    if rc == 0:
        reason = sched_block(deadline_ns)
        if not t.futex_wait.woken and futex_dequeue(&t.futex_wait):
            # Linux: -ERESTARTSYS without a timeout; with one, a restart block that a
            # handler turns into EINTR whatever its SA_RESTART (Tyn: EINTR directly).
            if reason == WAKE_TIMEOUT:
                rc = -ETIMEDOUT
            else:
                rc = -EINTR if deadline_ns != 0 else -ERESTARTSYS
    waitq_unlock(flags)
    return rc

cdef int futex_wake_key(futex_key *key, uint32_t bitset, int count) noexcept nogil:
    cdef uint64_t flags = waitq_lock()
    cdef int n = futex_wake(key.as_id, key.addr, bitset, count, wake_thread, NULL)
    waitq_unlock(flags)
    return n

cdef int futex_wake_address(uint64_t uaddr, int count) noexcept nogil:
    """CLONE_CHILD_CLEARTID's wake at thread exit (a private key, as Linux's)."""
    cdef futex_key key
    key.as_id = sched_current().proc.page_root
    key.addr = uaddr
    return futex_wake_key(&key, <uint32_t>FUTEX_BITSET_MATCH_ANY, count)

cdef int64_t futex_requeue_op(uint64_t uaddr, uint64_t uaddr2, int nr_wake, int nr_requeue, bint compare,
                              uint32_t val3, int opflags) noexcept nogil:
    cdef futex_key key, key2
    cdef uint32_t current_value = 0
    cdef uint64_t flags
    cdef int64_t rc
    if nr_wake < 0 or nr_requeue < 0:
        return -EINVAL
    rc = key_of(uaddr, opflags, &key)
    if rc == 0:
        rc = key_of(uaddr2, opflags, &key2)
    if rc < 0:
        return rc
    if compare:
        if copy_from_user(&current_value, uaddr, 4) != 0:
            return -EFAULT
        if current_value != val3:
            return -EAGAIN
    flags = waitq_lock()
    rc = futex_requeue(key.as_id, key.addr, key2.as_id, key2.addr, nr_wake, nr_requeue, wake_thread, NULL)
    waitq_unlock(flags)
    return rc

cdef inline int32_t sign_extend_arg(uint32_t v) noexcept nogil:
    v &= FUTEX_OP_ARG_MASK
    return <int32_t>(v | ~(<uint32_t>FUTEX_OP_ARG_MASK)) if v & (1 << (FUTEX_OP_ARG_BITS - 1)) else <int32_t>v

cdef int64_t futex_wake_op(uint64_t uaddr, uint64_t uaddr2, int nr_wake, int nr_wake2, uint32_t encoded,
                           int opflags) noexcept nogil:
    """Linux's futex_wake_op: atomically *uaddr2 = old OP oparg, wake nr_wake at uaddr and,
    if old CMP cmparg, nr_wake2 at uaddr2."""
    cdef uint32_t op = (encoded >> FUTEX_OP_OP_SHIFT) & FUTEX_OP_NIBBLE
    cdef uint32_t cmp = (encoded >> FUTEX_OP_CMP_SHIFT) & FUTEX_OP_NIBBLE
    cdef int32_t oparg = sign_extend_arg(encoded >> FUTEX_OP_OPARG_POS)
    cdef int32_t cmparg = sign_extend_arg(encoded)
    cdef futex_key key, key2
    cdef volatile uint32_t *word
    cdef uint32_t old, new
    cdef uint64_t pa, flags
    cdef bint hit
    cdef int64_t rc
    cdef int n
    if op & FUTEX_OP_OPARG_SHIFT:
        if oparg < 0 or oparg >= INT_BITS:
            oparg &= INT_BITS - 1       # Linux warns once and masks
        oparg = <int32_t>(<uint32_t>1 << oparg)
        op &= ~(<uint32_t>FUTEX_OP_OPARG_SHIFT)
    if op > FUTEX_OP_XOR:
        return -ENOSYS
    if cmp > FUTEX_OP_CMP_GE:
        return -ENOSYS
    rc = key_of(uaddr, opflags, &key)
    if rc == 0:
        rc = key_of(uaddr2, opflags, &key2)
    if rc < 0:
        return rc
    pa = user_word_phys(uaddr2, True)
    if pa == PAGING_NOT_MAPPED:
        return -EFAULT
    word = <volatile uint32_t *>phys_to_virt(pa)
    while True:
        old = word[0]
        if op == FUTEX_OP_SET:
            new = <uint32_t>oparg
        elif op == FUTEX_OP_ADD:
            new = old + <uint32_t>oparg
        elif op == FUTEX_OP_OR:
            new = old | <uint32_t>oparg
        elif op == FUTEX_OP_ANDN:
            new = old & ~(<uint32_t>oparg)
        else:
            new = old ^ <uint32_t>oparg
        if tyn_cmpxchg32(word, old, new):
            break
    if cmp == FUTEX_OP_CMP_EQ:
        hit = <int32_t>old == cmparg
    elif cmp == FUTEX_OP_CMP_NE:
        hit = <int32_t>old != cmparg
    elif cmp == FUTEX_OP_CMP_LT:
        hit = <int32_t>old < cmparg
    elif cmp == FUTEX_OP_CMP_LE:
        hit = <int32_t>old <= cmparg
    elif cmp == FUTEX_OP_CMP_GT:
        hit = <int32_t>old > cmparg
    else:
        hit = <int32_t>old >= cmparg
    flags = waitq_lock()
    n = futex_wake(key.as_id, key.addr, <uint32_t>FUTEX_BITSET_MATCH_ANY, nr_wake, wake_thread, NULL) \
        if nr_wake > 0 else 0
    if hit and nr_wake2 > 0:
        n += futex_wake(key2.as_id, key2.addr, <uint32_t>FUTEX_BITSET_MATCH_ANY, nr_wake2, wake_thread, NULL)
    waitq_unlock(flags)
    return n

cdef int64_t sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout,
                       uint64_t uaddr2, uint64_t val3) noexcept nogil:
    cdef int opflags = 0
    cdef int cmd = futex_op_decode(<int>op, &opflags)
    cdef uint64_t deadline = 0
    cdef int64_t rc
    cdef futex_key key
    if cmd < 0:
        return cmd
    if uaddr & 3:
        return -EINVAL                  # futex words are 32-bit aligned (Linux's get_futex_key)
    if cmd == FUTEX_WAIT or cmd == FUTEX_WAIT_BITSET:
        if cmd == FUTEX_WAIT_BITSET and <uint32_t>val3 == 0:
            return -EINVAL              # Linux checks the bitset before anything else
        if timeout != 0:
            # FUTEX_WAIT: relative (monotonic); WAIT_BITSET: absolute, monotonic or realtime.
            rc = timeout_deadline_ns(timeout, TIMEOUT_RELATIVE if cmd == FUTEX_WAIT else TIMEOUT_ABSOLUTE,
                                     (opflags & FUTEX_OPF_CLOCK_REALTIME) != 0, &deadline)
            if rc < 0:
                return rc
            if deadline == 0:
                return -ETIMEDOUT       # already in the past
        return futex_wait(uaddr, <uint32_t>val, deadline,
                          <uint32_t>FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAIT else <uint32_t>val3, opflags)
    if cmd == FUTEX_WAKE or cmd == FUTEX_WAKE_BITSET:
        if cmd == FUTEX_WAKE_BITSET and <uint32_t>val3 == 0:
            return -EINVAL
        rc = key_of(uaddr, opflags, &key)
        if rc < 0:
            return rc
        return futex_wake_key(&key, <uint32_t>FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAKE else <uint32_t>val3,
                              <int>val)
    if uaddr2 & 3:
        return -EINVAL
    # The timeout argument carries val2 (an int) for these three.
    if cmd == FUTEX_REQUEUE or cmd == FUTEX_CMP_REQUEUE:
        return futex_requeue_op(uaddr, uaddr2, <int>val, <int>timeout, cmd == FUTEX_CMP_REQUEUE,
                                <uint32_t>val3, opflags)
    if cmd == FUTEX_WAKE_OP:
        return futex_wake_op(uaddr, uaddr2, <int>val, <int>timeout, <uint32_t>val3, opflags)
    return -EINVAL
