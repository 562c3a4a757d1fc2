# futex(2): WAIT/WAKE and their BITSET forms, over the wait queues of proc/futex.pyx.
# The ordering rules that make lost wake-ups impossible are in proc/futex.pxd.
from libc.stdint cimport int64_t, uint32_t, uint64_t
from tyn.arch.cpu cimport read_rflags, irq_disable, irq_enable, RFLAGS_IF
from tyn.arch.uaccess cimport copy_from_user
from tyn.proc.futex cimport (futex_waiter, futex_waiter_init, futex_enqueue, futex_dequeue, futex_wake,
                             futex_op_decode, FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET,
                             FUTEX_OPF_CLOCK_REALTIME, FUTEX_BITSET_MATCH_ANY)
from tyn.proc.sched cimport sched_current, sched_block, sched_wake
from tyn.proc.task cimport thread, WAKE_NORMAL, WAKE_TIMEOUT, THREAD_BLOCKED
from tyn.sys.errno cimport EAGAIN, EFAULT, EINVAL, ETIMEDOUT, EINTR, ERESTARTSYS
from tyn.sys.timeutil cimport timespec_from_user, timeout_deadline_ns, TIMEOUT_RELATIVE, TIMEOUT_ABSOLUTE

cdef void wake_thread(futex_waiter *w, void *ctx) noexcept nogil:
    sched_wake(<thread *>w.owner, WAKE_NORMAL)

cdef int futex_wake_address(uint64_t uaddr, int count) noexcept nogil:
    cdef uint64_t flags = read_rflags()
    cdef int n
    irq_disable()
    n = futex_wake(sched_current().proc.page_root, uaddr, <uint32_t>FUTEX_BITSET_MATCH_ANY, count,
                   wake_thread, NULL)
    if flags & RFLAGS_IF:
        irq_enable()
    return n

cdef int64_t futex_wait(uint64_t uaddr, uint32_t val, uint64_t deadline_ns, uint32_t bitset) noexcept nogil:
    cdef thread *t = sched_current()
    cdef uint32_t current_value = 0
    cdef uint64_t flags = read_rflags()
    cdef int rc, reason
    irq_disable()                        # the futex lock (one CPU)
    if copy_from_user(&current_value, uaddr, 4) != 0:
        rc = -EFAULT
    elif current_value != val:
        rc = -EAGAIN
    else:
        futex_waiter_init(&t.futex_wait, t.proc.page_root, uaddr, bitset)
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
    if flags & RFLAGS_IF:
        irq_enable()
    return rc

cdef int64_t sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout,
                       uint64_t uaddr2, uint64_t val3) noexcept nogil:
    cdef int opflags = 0
    cdef int cmd = futex_op_decode(<int>op, &opflags)
    cdef uint64_t deadline = 0, flags
    cdef int64_t rc
    cdef int n
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
                          <uint32_t>FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAIT else <uint32_t>val3)
    if cmd == FUTEX_WAKE or cmd == FUTEX_WAKE_BITSET:
        flags = read_rflags()
        irq_disable()
        n = futex_wake(sched_current().proc.page_root, uaddr,
                       <uint32_t>FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAKE else <uint32_t>val3,
                       <int>val, wake_thread, NULL)
        if flags & RFLAGS_IF:
            irq_enable()
        return n
    return -EINVAL
