# Preemptive round robin.  All run-queue and sleep-list changes happen with
# interrupts disabled (one CPU: that is the lock).  schedule() is always
# entered with interrupts disabled; each thread restores its own interrupt
# state when its call to schedule() returns.
from libc.stdint cimport uint64_t
from tyn.time.clock cimport clock_request, clock_slice_ns
from tyn.lib.kprofile cimport profile_begin, profile_end_event, PROFILE_CONTEXT_SWITCH
from tyn.arch.cpu cimport (read_rflags, irq_disable, irq_enable, cpu_idle, wrmsr, write_cr3, read_cr3,
                           MSR_FS_BASE, RFLAGS_IF)
from tyn.arch.entry cimport context_switch
from tyn.fs.context cimport fs_set_current
from tyn.arch.fpu cimport fpu_save, fpu_restore
from tyn.arch.percpu cimport percpu_set_kernel_stack
from tyn.arch.tsc cimport monotonic_ns
from tyn.proc.cputime cimport cputime_switch
from tyn.proc.task cimport (thread, task_free_thread, THREAD_RUNNABLE, THREAD_RUNNING, THREAD_BLOCKED,
                            THREAD_DEAD, WAKE_NORMAL, WAKE_TIMEOUT, WAKE_INTERRUPTED)

cdef thread idle_thread
cdef thread *current
cdef thread *run_head
cdef thread *run_tail
cdef thread *sleepers              # sorted by wake_deadline_ns
cdef thread *zombie                # the thread that exited last; freed after the switch
cdef uint64_t slice_end_ns
cdef bint need_resched
cdef uint64_t switches

cdef inline uint64_t irq_save() noexcept nogil:
    cdef uint64_t flags = read_rflags()
    irq_disable()
    return flags

cdef inline void irq_restore(uint64_t flags) noexcept nogil:
    if flags & RFLAGS_IF:
        irq_enable()

cdef void sched_init() noexcept nogil:
    global current
    idle_thread.is_idle = True
    idle_thread.state = THREAD_RUNNING
    current = &idle_thread

cdef thread *sched_current() noexcept nogil:
    return current

cdef void enqueue(thread *t) noexcept nogil:
    global run_head, run_tail
    t.run_next = NULL
    if run_tail == NULL:
        run_head = t
    else:
        run_tail.run_next = t
    run_tail = t

cdef thread *dequeue() noexcept nogil:
    global run_head, run_tail
    cdef thread *t = run_head
    if t != NULL:
        run_head = t.run_next
        if run_head == NULL:
            run_tail = NULL
        t.run_next = NULL
    return t

cdef inline void preempt_later() noexcept nogil:
    """Another thread waits for the CPU: the running one's slice must end on time."""
    if current != NULL and not current.is_idle:
        clock_request(slice_end_ns)

cdef void sched_make_runnable(thread *t) noexcept nogil:
    cdef uint64_t flags = irq_save()
    t.state = THREAD_RUNNABLE
    enqueue(t)
    preempt_later()
    irq_restore(flags)

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

cdef void switch_to(thread *next) noexcept nogil:
    """Run `next` instead of the current thread (interrupts disabled)."""
    global current, slice_end_ns, need_resched, switches, zombie
    cdef thread *prev = current
    cdef uint64_t now = monotonic_ns()
    cdef uint64_t started = profile_begin()
    need_resched = False
    slice_end_ns = now + clock_slice_ns()
    if run_head != NULL and not next.is_idle:
        clock_request(slice_end_ns)
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
        if read_cr3() != next.proc.page_root:
            write_cr3(next.proc.page_root)
        fs_set_current(&next.proc.fs)   # a CLONE_VM child shares the page tables, not the files
    next.state = THREAD_RUNNING
    current = next
    profile_end_event(PROFILE_CONTEXT_SWITCH, started)
    context_switch(&prev.saved_rsp, next.saved_rsp)
    # Back on prev's stack.  A thread that exited before this switch can go now.
    if zombie != NULL and zombie != current:
        task_free_thread(zombie)
        zombie = NULL

cdef void schedule() noexcept nogil:
    cdef thread *next = dequeue()
    if current.state == THREAD_RUNNING and not current.is_idle:
        if next == NULL:
            return                  # nothing else to run: keep going
        current.state = THREAD_RUNNABLE
        enqueue(current)
    if next == NULL:
        next = &idle_thread
    switch_to(next)

cdef void sched_yield_cpu() noexcept nogil:
    cdef uint64_t flags = irq_save()
    schedule()
    irq_restore(flags)

cdef int sched_block(uint64_t deadline_ns) noexcept nogil:
    cdef thread *t = current
    if t.signal_pending & ~t.signal_mask:
        # As Linux's interruptible sleeps: a signal raised while this thread was still
        # running (or unblocked by a ppoll-style mask) ends the wait before it starts.
        return WAKE_INTERRUPTED
    t.state = THREAD_BLOCKED
    t.wake_reason = WAKE_NORMAL
    t.wake_deadline_ns = deadline_ns
    if deadline_ns != 0:
        add_sleeper(t)
    schedule()
    return t.wake_reason

cdef void sched_wake(thread *t, int reason) noexcept nogil:
    cdef uint64_t flags = irq_save()
    if t.state == THREAD_BLOCKED:
        if t.wake_deadline_ns != 0:
            remove_sleeper(t)
            t.wake_deadline_ns = 0
        t.wake_reason = reason
        t.state = THREAD_RUNNABLE
        enqueue(t)
        preempt_later()
    irq_restore(flags)

cdef void sched_exit_current() noexcept nogil:
    global zombie
    irq_disable()
    current.state = THREAD_DEAD
    if zombie != NULL:
        task_free_thread(zombie)    # a previous exit not yet reaped: we are not on its stack
    zombie = current
    schedule()

cdef void sched_tick(uint64_t now_ns) noexcept nogil:
    global sleepers, need_resched
    cdef thread *t
    while sleepers != NULL and sleepers.wake_deadline_ns <= now_ns:
        t = sleepers
        sleepers = t.sleep_next
        t.sleep_next = NULL
        t.wake_deadline_ns = 0
        t.wake_reason = WAKE_TIMEOUT
        t.state = THREAD_RUNNABLE
        enqueue(t)
    if now_ns >= slice_end_ns and run_head != NULL:
        need_resched = True

cdef uint64_t sched_next_deadline() noexcept nogil:
    cdef uint64_t deadline = sleepers.wake_deadline_ns if sleepers != NULL else 0
    if run_head != NULL and current != NULL and not current.is_idle and \
            (deadline == 0 or slice_end_ns < deadline):
        deadline = slice_end_ns
    return deadline

cdef void sched_user_return() noexcept nogil:
    if need_resched:
        schedule()

cdef void sched_idle_loop() noexcept nogil:
    irq_disable()
    while True:
        if run_head != NULL:
            schedule()
        else:
            cpu_idle()              # sti; hlt: an interrupt may make a thread runnable
            irq_disable()

cdef uint64_t sched_switch_count() noexcept nogil:
    return switches
