# The scheduler: per-CPU run queues under one lock (see sched.pxd).
#
# sched_lock protects every CPU's run queue and `current`, every thread's state and
# run/sleep links, the timed-sleeper list, and (as waitq_lock) every wait queue and the
# futex queues.  It is held across context_switch, xv6's way: the thread that switches
# away holds it, and the thread that resumes (on the same CPU) releases it, so no other
# CPU can pick up a thread whose registers are still being saved.  A new thread releases
# it in sched_thread_start.  The kernel_lock is never held across a switch: schedule()
# drops it and takes it back when the thread runs again.
from libc.stdint cimport uint32_t, uint64_t
from tyn.time.clock cimport clock_request, clock_slice_ns
from tyn.lib.kprofile cimport profile_begin, profile_end_event, PROFILE_CONTEXT_SWITCH
from tyn.lib.spinlock cimport (spinlock, spinlock_init, spinlock_acquire, spinlock_release, spinlock_held,
                               spinlock_held_count, SPINLOCK_RANK_SCHED)
from tyn.lib.kernel_lock cimport kernel_lock_init, kernel_lock_acquire, kernel_lock_release, kernel_lock_held
from tyn.arch.cpu cimport (read_rflags, irq_disable, irq_enable, cpu_idle, wrmsr, memory_fence,
                           MSR_FS_BASE, RFLAGS_IF)
from tyn.arch.entry cimport context_switch
from tyn.arch.panic cimport panic
from tyn.arch.lapic cimport lapic_send_ipi, lapic_eoi, APIC_DM_FIXED
from tyn.arch.trap cimport trap_set_handler, VECTOR_RESCHEDULE
from tyn.arch.trapframe cimport trap_frame
from tyn.fs.context cimport fs_set_current
from tyn.arch.fpu cimport fpu_save, fpu_restore
from tyn.arch.percpu cimport percpu_set_kernel_stack, percpu_cpu_index, percpu_of, NR_CPUS
from tyn.arch.tsc cimport monotonic_ns
from tyn.proc.cputime cimport cputime_switch
from tyn.mm.tlb cimport tlb_init, tlb_cpu_online, tlb_switch_root
from tyn.proc.task cimport (thread, task_free_thread, task_unregister, THREAD_RUNNABLE, THREAD_RUNNING,
                            THREAD_BLOCKED, THREAD_DEAD, WAKE_NORMAL, WAKE_TIMEOUT, WAKE_INTERRUPTED)

cdef extern from *:
    const int TYN_SELFTEST

cdef enum:
    IPI_SEND_TIMEOUT_NS = 10000000

# One per CPU; cpu_rq[c] changes only under sched_lock (need_resched: also by CPU c alone).
cdef struct run_queue:
    thread idle                     # this CPU's idle thread (its boot stack)
    thread *current
    thread *head
    thread *tail
    uint32_t length
    thread *zombie                  # the thread that exited last here; freed after the switch
    uint64_t slice_end_ns
    volatile bint need_resched
    bint online

cdef spinlock sched_lock
cdef run_queue cpu_rq[NR_CPUS]
cdef uint32_t cpus_online
cdef uint64_t online_mask
cdef thread *sleepers               # sorted by wake_deadline_ns
cdef uint64_t switches
cdef uint64_t ipis_sent
cdef uint32_t nested                # sched_lock_acquire nesting by the holder (written by it)

cdef inline run_queue *this_rq() noexcept nogil:
    return &cpu_rq[percpu_cpu_index()]

cdef void sched_init() noexcept nogil:
    """The boot CPU: its idle thread is the one running now."""
    global cpus_online, online_mask, sleepers
    spinlock_init(&sched_lock, b"sched", SPINLOCK_RANK_SCHED)
    kernel_lock_init()
    tlb_init()
    sleepers = NULL
    cpus_online = 0
    online_mask = 0
    trap_set_handler(VECTOR_RESCHEDULE, reschedule_interrupt)
    sched_cpu_online(0)

cdef void sched_cpu_online(uint32_t cpu) noexcept nogil:
    global cpus_online, online_mask
    cdef run_queue *rq = &cpu_rq[cpu]
    cdef uint64_t flags = sched_lock_acquire()
    rq.idle.is_idle = True
    rq.idle.state = THREAD_RUNNING
    rq.idle.cpu = cpu
    rq.current = &rq.idle
    rq.head = NULL
    rq.tail = NULL
    rq.length = 0
    rq.online = True
    cpus_online += 1
    online_mask |= <uint64_t>1 << cpu
    tlb_cpu_online(cpu)
    sched_lock_release(flags)

cdef uint32_t sched_cpus_online() noexcept nogil:
    return cpus_online

cdef uint64_t sched_online_mask() noexcept nogil:
    return online_mask

cdef thread *sched_current() noexcept nogil:
    # Stable for the caller: a thread changes CPU only inside schedule().
    return cpu_rq[percpu_cpu_index()].current

cdef uint64_t sched_lock_acquire() noexcept nogil:
    """waitq_lock: nests on the CPU that holds it (a poll op called by poll/epoll under
    it takes it again); only the outermost level may sleep."""
    global nested
    cdef uint64_t flags = read_rflags()
    irq_disable()
    if spinlock_held(&sched_lock):
        nested += 1
        return flags
    spinlock_acquire(&sched_lock)
    return flags

cdef void sched_lock_release(uint64_t flags) noexcept nogil:
    global nested
    if nested > 0:
        nested -= 1
        return                      # interrupts stay off: the outer level is still held
    spinlock_release(&sched_lock, flags)

# ------------------------------------------------------------ run queues

cdef void enqueue_on(run_queue *rq, thread *t) noexcept nogil:
    t.run_next = NULL
    if rq.tail == NULL:
        rq.head = t
    else:
        rq.tail.run_next = t
    rq.tail = t
    rq.length += 1

cdef thread *dequeue_from(run_queue *rq, uint32_t cpu) noexcept nogil:
    """The first queued thread allowed on `cpu`, unlinked; NULL if none."""
    cdef thread **link = &rq.head
    cdef thread *prev = NULL
    cdef thread *t
    while link[0] != NULL:
        t = link[0]
        if t.cpus_allowed & (<uint64_t>1 << cpu):
            link[0] = t.run_next
            if rq.tail == t:
                rq.tail = prev
            t.run_next = NULL
            rq.length -= 1
            return t
        prev = t
        link = &t.run_next
    return NULL

cdef inline bint cpu_is_idle(uint32_t cpu) noexcept nogil:
    return cpu_rq[cpu].current.is_idle and cpu_rq[cpu].head == NULL

cdef uint32_t select_cpu(thread *t) noexcept nogil:
    """Where t should run: its last CPU if idle, else any idle CPU it may use, else the
    allowed CPU with the shortest queue (its last CPU on ties)."""
    cdef uint64_t allowed = t.cpus_allowed & online_mask
    cdef uint32_t best, c
    if allowed == 0:
        allowed = online_mask               # its CPUs all went away: anywhere
    best = t.cpu if allowed & (<uint64_t>1 << t.cpu) else NR_CPUS
    if best != NR_CPUS and cpu_is_idle(best):
        return best
    for c in range(NR_CPUS):
        if allowed & (<uint64_t>1 << c) and cpu_is_idle(c):
            return c
    for c in range(NR_CPUS):
        if allowed & (<uint64_t>1 << c):
            if best == NR_CPUS or cpu_rq[c].length + (0 if cpu_rq[c].current.is_idle else 1) < \
                    cpu_rq[best].length + (0 if cpu_rq[best].current.is_idle else 1):
                best = c
    return best

cdef void kick_cpu(uint32_t cpu) noexcept nogil:
    """Make `cpu` look at its queue: a reschedule IPI (wakes it from HLT)."""
    global ipis_sent
    ipis_sent += 1
    lapic_send_ipi(percpu_of(cpu).apic_id, APIC_DM_FIXED | VECTOR_RESCHEDULE, IPI_SEND_TIMEOUT_NS)

cdef void make_runnable_locked(thread *t) noexcept nogil:
    cdef uint32_t cpu = select_cpu(t)
    cdef uint32_t me = percpu_cpu_index()
    t.state = THREAD_RUNNABLE
    t.cpu = cpu
    enqueue_on(&cpu_rq[cpu], t)
    if cpu == me:
        if not cpu_rq[me].current.is_idle:
            clock_request(cpu_rq[me].slice_end_ns)      # the running slice must end on time
    else:
        kick_cpu(cpu)

cdef void reschedule_interrupt(trap_frame *frame) noexcept nogil:
    """Another CPU queued work here: an idle CPU leaves HLT (its loop looks), a busy one
    arms the end of its slice; a thread with a signal passes through user return."""
    cdef uint64_t flags
    cdef run_queue *rq
    lapic_eoi()
    flags = sched_lock_acquire()
    rq = this_rq()
    if rq.head != NULL and not rq.current.is_idle:
        clock_request(rq.slice_end_ns)
        if monotonic_ns() >= rq.slice_end_ns:
            rq.need_resched = True
    sched_lock_release(flags)

cdef void sched_make_runnable(thread *t) noexcept nogil:
    cdef uint64_t flags = sched_lock_acquire()
    cdef thread *me = cpu_rq[percpu_cpu_index()].current
    if t.cpus_allowed == 0:             # a new thread inherits its creator's mask
        t.cpus_allowed = me.cpus_allowed if not me.is_idle and me.cpus_allowed != 0 else online_mask
        t.cpu = percpu_cpu_index()
    make_runnable_locked(t)
    sched_lock_release(flags)

# ------------------------------------------------------------ timed sleeps

cdef void remove_sleeper(thread *t) noexcept nogil:
    global sleepers
    cdef thread **link = &sleepers
    while link[0] != NULL:
        if link[0] == t:
            link[0] = t.sleep_next
            t.sleep_next = NULL
            return
        link = &link[0].sleep_next

cdef void add_sleeper(thread *t) noexcept nogil:
    cdef thread **link = &sleepers
    while link[0] != NULL and link[0].wake_deadline_ns <= t.wake_deadline_ns:
        link = &link[0].sleep_next
    t.sleep_next = link[0]
    link[0] = t
    clock_request(t.wake_deadline_ns)

# ------------------------------------------------------------ switching

cdef void switch_to(run_queue *rq, thread *next) noexcept nogil:
    """Run `next` instead of rq's current thread (sched_lock held)."""
    global switches
    cdef thread *prev = rq.current
    cdef uint64_t now = monotonic_ns()
    cdef uint64_t started = profile_begin()
    rq.need_resched = False
    rq.slice_end_ns = now + clock_slice_ns()
    if not next.is_idle and (rq.head != NULL or next.proc.cpu_timers_armed):
        clock_request(rq.slice_end_ns)
    if next == prev:
        return
    switches += 1
    cputime_switch(prev, next, now)
    if not prev.is_idle and prev.state != THREAD_DEAD:
        fpu_save(prev.fpu_area)
    if not next.is_idle:
        fpu_restore(next.fpu_area)
        percpu_set_kernel_stack(next.kstack_top)
        wrmsr(MSR_FS_BASE, next.fs_base)
        tlb_switch_root(next.proc.page_root)
        fs_set_current(&next.proc.fs)
    next.state = THREAD_RUNNING
    next.cpu = percpu_cpu_index()
    rq.current = next
    profile_end_event(PROFILE_CONTEXT_SWITCH, started)
    context_switch(&prev.saved_rsp, next.saved_rsp)
    # Back on prev's stack, maybe on another CPU.  A thread that exited there can go now.
    reap_zombie(this_rq())

cdef void reap_zombie(run_queue *rq) noexcept nogil:
    if rq.zombie != NULL and rq.zombie != rq.current:
        task_free_thread(rq.zombie)
        rq.zombie = NULL

cdef thread *steal(uint32_t me) noexcept nogil:
    """A queued thread from the busiest other CPU that may run here, or NULL."""
    cdef uint32_t c, busiest = NR_CPUS
    cdef thread *t
    for c in range(NR_CPUS):
        if c != me and cpu_rq[c].length > 0 and \
                (busiest == NR_CPUS or cpu_rq[c].length > cpu_rq[busiest].length):
            t = dequeue_from(&cpu_rq[c], me)
            if t != NULL:
                return t
    return NULL

cdef void check_no_spinlock_held() noexcept nogil:
    if TYN_SELFTEST and spinlock_held_count() != 1:
        panic(b"schedule() with a spinlock held besides sched (sleeping with a spinlock held)")

cdef void schedule() noexcept nogil:
    """Pick the next thread for this CPU and switch (sched_lock held; still held after)."""
    cdef uint32_t me = percpu_cpu_index()
    cdef run_queue *rq = &cpu_rq[me]
    cdef thread *cur = rq.current
    cdef thread *next = dequeue_from(rq, me)
    if next == NULL:
        next = steal(me)
    if cur.state == THREAD_RUNNING and not cur.is_idle:
        if next == NULL and cur.cpus_allowed & (<uint64_t>1 << me):
            return                  # nothing else to run: keep going
        cur.state = THREAD_RUNNABLE
        if cur.cpus_allowed & (<uint64_t>1 << me):
            enqueue_on(rq, cur)
        else:
            make_runnable_locked(cur)   # its mask no longer has this CPU
    elif cur.state == THREAD_RUNNING and cur.is_idle and next == NULL:
        return
    if next == NULL:
        next = &rq.idle
    switch_to(rq, next)

cdef void schedule_dropping_kernel_lock() noexcept nogil:
    """schedule() for a thread that may hold the kernel_lock: it is released for the time
    off the CPU and taken back (outside sched_lock, which ranks after it) before return."""
    cdef bint had_kernel_lock = kernel_lock_held()
    if had_kernel_lock:
        kernel_lock_release()
    check_no_spinlock_held()
    schedule()
    if had_kernel_lock:
        spinlock_release(&sched_lock, 0)       # interrupts stay off
        kernel_lock_acquire()
        spinlock_acquire(&sched_lock)

cdef void sched_thread_start() noexcept nogil:
    """A new thread's first instructions (shim/entry.S thread_first_return)."""
    reap_zombie(this_rq())
    spinlock_release(&sched_lock, 0)           # trap_exit returns with the frame's RFLAGS

cdef void sched_yield_cpu() noexcept nogil:
    cdef uint64_t flags = sched_lock_acquire()
    schedule_dropping_kernel_lock()
    sched_lock_release(flags)

cdef int sched_block(uint64_t deadline_ns) noexcept nogil:
    cdef thread *t = this_rq().current
    if not spinlock_held(&sched_lock) or nested != 0:
        panic(b"sched_block without the scheduler lock (waitq_lock), or with it taken twice")
    if t.signal_pending & ~t.signal_mask:
        # As Linux's interruptible sleeps: a signal raised while this thread was still
        # running (or unblocked by a ppoll-style mask) ends the wait before it starts.
        return WAKE_INTERRUPTED
    t.state = THREAD_BLOCKED
    t.wake_reason = WAKE_NORMAL
    t.wake_deadline_ns = deadline_ns
    if deadline_ns != 0:
        add_sleeper(t)
    schedule_dropping_kernel_lock()
    return t.wake_reason

cdef void sched_wake_locked(thread *t, int reason) noexcept nogil:
    if t.state == THREAD_BLOCKED:
        if t.wake_deadline_ns != 0:
            remove_sleeper(t)
            t.wake_deadline_ns = 0
        t.wake_reason = reason
        make_runnable_locked(t)
    elif t.state == THREAD_RUNNING and t.cpu != percpu_cpu_index() and reason == WAKE_INTERRUPTED:
        kick_cpu(t.cpu)             # a signal for a thread in user mode there: it looks on return

cdef uint64_t sched_get_affinity(thread *t) noexcept nogil:
    cdef uint64_t mask = t.cpus_allowed if t.cpus_allowed != 0 else online_mask
    return mask & online_mask

cdef bint sched_set_affinity(thread *t, uint64_t mask) noexcept nogil:
    """Restrict t to the online CPUs in mask (False: none of them).  The calling thread
    moves before this returns; a thread running elsewhere moves at its next user return
    (a reschedule IPI), a queued one when a CPU it may use picks it."""
    cdef uint64_t flags
    cdef uint32_t me = percpu_cpu_index()
    mask &= online_mask
    if mask == 0:
        return False
    flags = sched_lock_acquire()
    t.cpus_allowed = mask
    if t == cpu_rq[me].current:
        if not (mask & (<uint64_t>1 << me)):
            schedule_dropping_kernel_lock()
    elif t.state == THREAD_RUNNING and not (mask & (<uint64_t>1 << t.cpu)):
        cpu_rq[t.cpu].need_resched = True
        kick_cpu(t.cpu)
    sched_lock_release(flags)
    return True

cdef void sched_wake(thread *t, int reason) noexcept nogil:
    cdef uint64_t flags = sched_lock_acquire()
    sched_wake_locked(t, reason)
    sched_lock_release(flags)

cdef void sched_exit_current() noexcept nogil:
    cdef run_queue *rq
    cdef thread *t
    task_unregister(this_rq().current)      # gone from tid lookups (under the kernel_lock)
    spinlock_acquire(&sched_lock)
    rq = this_rq()
    t = rq.current
    t.state = THREAD_DEAD
    if rq.zombie != NULL:
        task_free_thread(rq.zombie) # a previous exit not yet reaped: we are not on its stack
    rq.zombie = t
    schedule_dropping_kernel_lock()
    panic(b"a dead thread was scheduled")

cdef void sched_tick(uint64_t now_ns) noexcept nogil:
    global sleepers
    cdef thread *t
    cdef uint64_t flags = sched_lock_acquire()
    cdef run_queue *rq = this_rq()
    while sleepers != NULL and sleepers.wake_deadline_ns <= now_ns:
        t = sleepers
        sleepers = t.sleep_next
        t.sleep_next = NULL
        t.wake_deadline_ns = 0
        t.wake_reason = WAKE_TIMEOUT
        make_runnable_locked(t)
    if now_ns >= rq.slice_end_ns and rq.head != NULL:
        rq.need_resched = True
    elif now_ns >= rq.slice_end_ns and needs_cpu_tick(rq.current):
        rq.slice_end_ns = now_ns + clock_slice_ns()     # alone on the CPU: keep sampling
    sched_lock_release(flags)

cdef inline bint needs_cpu_tick(thread *t) noexcept nogil:
    """A thread whose process has a CPU-time itimer armed keeps its CPU's timer ticking
    even alone, so user time is charged and the expiry seen (Linux's tick dependency
    TICK_DEP_BIT_POSIX_TIMER)."""
    return t != NULL and not t.is_idle and t.proc != NULL and t.proc.cpu_timers_armed

cdef void sched_cpu_timer_armed() noexcept nogil:
    cdef uint64_t flags = sched_lock_acquire()
    cdef run_queue *rq = this_rq()
    cdef uint64_t now = monotonic_ns()
    if needs_cpu_tick(rq.current):
        if rq.slice_end_ns <= now:
            rq.slice_end_ns = now + clock_slice_ns()
        clock_request(rq.slice_end_ns)
    sched_lock_release(flags)

cdef uint64_t sched_next_deadline() noexcept nogil:
    cdef uint64_t flags = sched_lock_acquire()
    cdef run_queue *rq = this_rq()
    cdef uint64_t deadline = sleepers.wake_deadline_ns if sleepers != NULL else 0
    if (rq.head != NULL and not rq.current.is_idle or needs_cpu_tick(rq.current)) and \
            (deadline == 0 or rq.slice_end_ns < deadline):
        deadline = rq.slice_end_ns
    sched_lock_release(flags)
    return deadline

cdef bint sched_resched_pending() noexcept nogil:
    return cpu_rq[percpu_cpu_index()].need_resched

cdef void sched_user_return() noexcept nogil:
    cdef uint64_t flags
    if this_rq().need_resched:
        flags = sched_lock_acquire()
        schedule_dropping_kernel_lock()
        sched_lock_release(flags)

cdef void sched_idle_loop() noexcept nogil:
    cdef run_queue *rq
    spinlock_acquire(&sched_lock)
    while True:
        rq = this_rq()
        schedule()                  # runs queued or stealable work, returns when none
        spinlock_release(&sched_lock, 0)
        # Interrupts stay off from the release to the HLT (sti; hlt): an IPI sent after
        # the queue looked empty is taken by the HLT, not lost before it.
        cpu_idle()
        irq_disable()
        spinlock_acquire(&sched_lock)

cdef void sched_ap_main(uint32_t cpu) noexcept nogil:
    sched_cpu_online(cpu)
    sched_idle_loop()

cdef uint64_t sched_switch_count() noexcept nogil:
    return switches

cdef uint64_t sched_ipi_count() noexcept nogil:
    return ipis_sent
