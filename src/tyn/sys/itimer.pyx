# Interval timers (see itimer.pxd).  ITIMER_REAL is the process's ktimer; its callback
# runs from any CPU's tick and, like these calls, changes the process's timer fields only
# under waitq_lock (ranked below ktimer, which ktimer_arm takes inside it).
# ITIMER_VIRTUAL and ITIMER_PROF count the process's CPU time (proc/cputime: user, and
# user + system): each is an expiry on that clock, checked on every return to user mode
# of the process's threads (itimer_cpu_check, under the kernel_lock like setitimer), and
# the scheduler keeps ticking a CPU running such a process, so a busy loop is sampled once
# a slice, as Linux samples at its tick.
from libc.stdint cimport int64_t, uint32_t, uint64_t
from tyn.proc.waitq cimport waitq_lock, waitq_unlock
from tyn.arch.tsc cimport monotonic_ns, NSEC_PER_SEC
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.proc.sched cimport sched_current, sched_cpu_timer_armed
from tyn.proc.task cimport process, thread, signal_info
from tyn.proc.cputime cimport cputime_process_now
from tyn.time.clock cimport clock_slice_ns
from tyn.sys.errno cimport EFAULT, EINVAL
from tyn.sys.signal cimport signal_process_info, signal_info_kernel
from tyn.sys.timeutil cimport linux_timeval
from tyn.time.ktimer cimport ktimer, ktimer_init, ktimer_arm, ktimer_cancel, ktimer_cancel_sync

cdef enum:
    SIGVTALRM = 26
    SIGPROF = 27
    CPU_TIMERS = 2                      # process.cpu_timer_*[which - ITIMER_VIRTUAL]
    NSEC_PER_USEC = 1000
    USEC_PER_SEC = 1000000
    HALF_SECOND_USEC = 500000

cdef struct linux_itimerval:
    linux_timeval it_interval
    linux_timeval it_value

cdef void expired(ktimer *t) noexcept nogil:
    # Any CPU's tick, the ktimer lock released: p's timer fields change under waitq_lock
    # only (setitimer/alarm on another CPU).  This expiry happened before a setitimer
    # that re-armed the timer meanwhile (t.armed): the signal goes, the re-arming stays.
    cdef process *p = <process *>t.arg
    cdef signal_info info
    cdef uint64_t flags = waitq_lock()
    signal_info_kernel(&info)     # it_real_fn: SEND_SIG_PRIV
    if p.real_interval_ns != 0 and not t.armed:
        ktimer_arm(&p.real_timer, t.deadline_ns + p.real_interval_ns)
    signal_process_info(p, SIGALRM, &info)
    waitq_unlock(flags)

cdef void itimer_process_init(process *p) noexcept nogil:
    ktimer_init(&p.real_timer, expired, <void *>p)
    p.real_interval_ns = 0

cdef void itimer_process_stop(process *p) noexcept nogil:
    # Call without waitq_lock: a callback running on another CPU (it takes waitq_lock)
    # finishes first, so none touches p after it is freed.
    cdef uint64_t flags = waitq_lock()
    p.real_interval_ns = 0
    waitq_unlock(flags)
    ktimer_cancel_sync(&p.real_timer)

cdef uint64_t timeval_ns(const linux_timeval *tv) noexcept nogil:
    return <uint64_t>tv.tv_sec * NSEC_PER_SEC + <uint64_t>tv.tv_usec * NSEC_PER_USEC

cdef void ns_timeval(uint64_t ns, linux_timeval *tv) noexcept nogil:
    # Linux rounds a remaining value up to the next microsecond.
    ns += NSEC_PER_USEC - 1
    tv.tv_sec = <int64_t>(ns // NSEC_PER_SEC)
    tv.tv_usec = <int64_t>((ns % NSEC_PER_SEC) // NSEC_PER_USEC)

cdef bint timeval_valid(const linux_timeval *tv) noexcept nogil:
    return tv.tv_sec >= 0 and 0 <= tv.tv_usec < USEC_PER_SEC

cdef void current_value(process *p, linux_itimerval *out) noexcept nogil:
    cdef uint64_t now = monotonic_ns()
    cdef uint64_t left = 0
    if p.real_timer.armed:
        # A timer due but not yet run reports the smallest non-zero value, as Linux.
        left = p.real_timer.deadline_ns - now if p.real_timer.deadline_ns > now else NSEC_PER_USEC
    ns_timeval(left, &out.it_value)
    if left == 0:
        out.it_value.tv_sec = 0
        out.it_value.tv_usec = 0
    ns_timeval(p.real_interval_ns, &out.it_interval)
    if p.real_interval_ns == 0:
        out.it_interval.tv_sec = 0
        out.it_interval.tv_usec = 0

cdef void set_value(process *p, uint64_t value_ns, uint64_t interval_ns) noexcept nogil:
    ktimer_cancel(&p.real_timer)
    p.real_interval_ns = interval_ns if value_ns != 0 else 0
    if value_ns != 0:
        ktimer_arm(&p.real_timer, monotonic_ns() + value_ns)

# ------------------------------------------------ ITIMER_VIRTUAL, ITIMER_PROF

cdef uint64_t cpu_clock(thread *t, int index) noexcept nogil:
    """The process's CPU time the timer counts: user (VIRTUAL) or user + system (PROF)."""
    cdef uint64_t user_ns, system_ns
    cputime_process_now(t, &user_ns, &system_ns)
    return user_ns if index == ITIMER_VIRTUAL - ITIMER_VIRTUAL else user_ns + system_ns

cdef void ns_timeval_truncated(uint64_t ns, linux_timeval *tv) noexcept nogil:
    tv.tv_sec = <int64_t>(ns // NSEC_PER_SEC)
    tv.tv_usec = <int64_t>((ns % NSEC_PER_SEC) // NSEC_PER_USEC)

cdef void cpu_value(thread *t, int index, linux_itimerval *out) noexcept nogil:
    """Linux's get_cpu_itimer: what is left (a tick when due but not yet signalled)."""
    cdef process *p = t.proc
    cdef uint64_t left = p.cpu_timer_expires_ns[index], now
    if left != 0:
        now = cpu_clock(t, index)
        left = left - now if left > now else clock_slice_ns()
    ns_timeval_truncated(left, &out.it_value)
    ns_timeval_truncated(p.cpu_timer_interval_ns[index], &out.it_interval)

cdef void set_cpu_value(thread *t, int index, uint64_t value_ns, uint64_t interval_ns) noexcept nogil:
    """Linux's set_cpu_itimer: a non-zero value gets one tick more (the expiry is sampled
    at ticks: never early); the interval is kept even when the value disarms."""
    cdef process *p = t.proc
    if value_ns != 0:
        value_ns += clock_slice_ns() + cpu_clock(t, index)
    p.cpu_timer_expires_ns[index] = value_ns
    p.cpu_timer_interval_ns[index] = interval_ns
    p.cpu_timers_armed = p.cpu_timer_expires_ns[0] != 0 or p.cpu_timer_expires_ns[1] != 0
    if p.cpu_timers_armed:
        sched_cpu_timer_armed()

cdef bint itimer_cpu_due(thread *t) noexcept nogil:
    cdef process *p = t.proc
    cdef int index
    if t.is_idle or not p.cpu_timers_armed:
        return False
    for index in range(CPU_TIMERS):
        if p.cpu_timer_expires_ns[index] != 0 and cpu_clock(t, index) >= p.cpu_timer_expires_ns[index]:
            return True
    return False

cdef void itimer_cpu_check(thread *t) noexcept nogil:
    """Linux's check_cpu_itimer for both timers: an expiry reloads by the interval (or
    disarms) and raises SIGVTALRM/SIGPROF for the process (SI_KERNEL, SEND_SIG_PRIV)."""
    cdef process *p = t.proc
    cdef signal_info info
    cdef int index
    if t.is_idle or not p.cpu_timers_armed:
        return
    for index in range(CPU_TIMERS):
        if p.cpu_timer_expires_ns[index] == 0 or cpu_clock(t, index) < p.cpu_timer_expires_ns[index]:
            continue
        if p.cpu_timer_interval_ns[index] != 0:
            p.cpu_timer_expires_ns[index] += p.cpu_timer_interval_ns[index]
        else:
            p.cpu_timer_expires_ns[index] = 0
        signal_info_kernel(&info)     # it_real_fn: SEND_SIG_PRIV
        signal_process_info(p, SIGVTALRM if index == ITIMER_VIRTUAL - ITIMER_VIRTUAL else SIGPROF, &info)
    p.cpu_timers_armed = p.cpu_timer_expires_ns[0] != 0 or p.cpu_timer_expires_ns[1] != 0

# ------------------------------------------------------------ system calls

cdef int64_t sys_getitimer(uint64_t which, uint64_t user_value) noexcept nogil:
    cdef linux_itimerval value
    cdef uint64_t flags
    if which == ITIMER_VIRTUAL or which == ITIMER_PROF:
        cpu_value(sched_current(), <int>(which - ITIMER_VIRTUAL), &value)
        return -EFAULT if copy_to_user(user_value, &value, sizeof(value)) != 0 else 0
    if which != ITIMER_REAL:
        return -EINVAL
    flags = waitq_lock()
    current_value(sched_current().proc, &value)
    waitq_unlock(flags)
    if copy_to_user(user_value, &value, sizeof(value)) != 0:
        return -EFAULT
    return 0

cdef int64_t sys_setitimer(uint64_t which, uint64_t user_new, uint64_t user_old) noexcept nogil:
    """A NULL new value disarms (Linux's "misfeature support")."""
    cdef linux_itimerval new, old
    cdef process *p = sched_current().proc
    cdef uint64_t flags
    new.it_interval.tv_sec = 0
    new.it_interval.tv_usec = 0
    new.it_value.tv_sec = 0
    new.it_value.tv_usec = 0
    if which != ITIMER_REAL and which != ITIMER_VIRTUAL and which != ITIMER_PROF:
        return -EINVAL
    if user_new != 0:
        if copy_from_user(&new, user_new, sizeof(new)) != 0:
            return -EFAULT
        if not timeval_valid(&new.it_value) or not timeval_valid(&new.it_interval):
            return -EINVAL
    if which != ITIMER_REAL:
        cpu_value(sched_current(), <int>(which - ITIMER_VIRTUAL), &old)
        set_cpu_value(sched_current(), <int>(which - ITIMER_VIRTUAL), timeval_ns(&new.it_value),
                      timeval_ns(&new.it_interval))
        if user_old != 0 and copy_to_user(user_old, &old, sizeof(old)) != 0:
            return -EFAULT
        return 0
    flags = waitq_lock()
    current_value(p, &old)
    set_value(p, timeval_ns(&new.it_value), timeval_ns(&new.it_interval))
    waitq_unlock(flags)
    if user_old != 0 and copy_to_user(user_old, &old, sizeof(old)) != 0:
        return -EFAULT
    return 0

cdef int64_t sys_alarm(uint64_t seconds) noexcept nogil:
    """SIGALRM in `seconds` (0 cancels); the seconds the previous alarm had left, rounded
    to the nearest second but never 0 for an armed one (Linux's alarm_setitimer)."""
    cdef linux_itimerval old
    cdef process *p = sched_current().proc
    cdef uint64_t flags = waitq_lock()
    cdef int64_t left
    current_value(p, &old)
    set_value(p, <uint64_t>(<uint32_t>seconds) * NSEC_PER_SEC, 0)    # alarm takes an unsigned int
    waitq_unlock(flags)
    left = old.it_value.tv_sec
    if old.it_value.tv_usec >= HALF_SECOND_USEC or (left == 0 and old.it_value.tv_usec != 0):
        left += 1
    return left
