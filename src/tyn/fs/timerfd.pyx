# timerfd (see timerfd.pxd) and its three syscalls.
from libc.stdint cimport uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport (vfs_file, vfs_file_ops, vfs_file_new, vfs_file_put, O_RDWR, O_NONBLOCK,
                         POLLIN)
from tyn.fs.fdtable cimport fdtable_install, fdtable_get
from tyn.fs.anoninode cimport anon_inode_stat
from tyn.fs.wakeups cimport io_wakeups, io_wakeups_init, io_wake_in
from tyn.fs.context cimport fs_context, fs_current
from tyn.mm.heap cimport kcalloc, kfree
from tyn.arch.cpu cimport memset, memcpy
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.arch.tsc cimport monotonic_ns, NSEC_PER_SEC
from tyn.time.walltime cimport walltime_ns
from tyn.time.ktimer cimport ktimer, ktimer_init, ktimer_arm, ktimer_cancel, ktimer_cancel_sync
from tyn.proc.waitq cimport waitq_lock, waitq_unlock, waitq_sleep, io_waitq, io_notify
from tyn.proc.task cimport WAKE_INTERRUPTED
from tyn.sys.timeutil cimport CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, linux_timespec
from tyn.sys.errno cimport EINVAL, EFAULT, EBADF, EAGAIN, ERESTARTSYS, ENOMEM, ENOSYS

cdef struct linux_itimerspec:
    linux_timespec it_interval
    linux_timespec it_value

cdef struct timerfd_state:
    ktimer timer
    int clock                   # CLOCK_REALTIME / CLOCK_MONOTONIC / CLOCK_BOOTTIME
    uint64_t expires            # next expiry on that clock, ns; 0: disarmed
    uint64_t interval           # ns; 0: one-shot
    uint64_t ticks              # expirations not yet read
    io_wakeups wq               # expiries wake it with EPOLLIN

cdef vfs_file_ops tfd_ops
cdef bint ops_ready
cdef timerfd_now_fn time_source

# ------------------------------------------------------------------ time

cdef void timerfd_set_time_source(timerfd_now_fn fn) noexcept nogil:
    global time_source
    time_source = fn

cdef uint64_t now_on(int clock) noexcept nogil:
    if time_source != NULL:
        return time_source(clock)
    if clock == CLOCK_REALTIME:
        return walltime_ns()
    return monotonic_ns()

cdef void arm_ktimer(timerfd_state *s) noexcept nogil:
    # The kernel timer follows s.expires (monotonic; a realtime deadline is converted at
    # the current offset -- the wall clock is never set, so the offset does not move).
    cdef uint64_t deadline = s.expires
    cdef int64_t ahead
    if s.expires == 0:
        ktimer_cancel(&s.timer)
        return
    if s.clock == CLOCK_REALTIME:
        ahead = <int64_t>(s.expires - now_on(CLOCK_REALTIME))
        deadline = now_on(CLOCK_MONOTONIC) + (<uint64_t>ahead if ahead > 0 else 0)
    ktimer_arm(&s.timer, deadline)

cdef bint account(timerfd_state *s, uint64_t now) noexcept nogil:
    # Count the expirations up to now; whether any happened.
    cdef uint64_t n
    if s.expires == 0 or now < s.expires:
        return False
    if s.ticks == 0:
        # Linux's hrtimer wakes the queue at an expiry and, for a periodic timer, is
        # restarted only by the read: expiries while unread wake nobody.
        io_wake_in(&s.wq)
    if s.interval == 0:
        s.ticks += 1
        s.expires = 0
    else:
        n = 1 + (now - s.expires) // s.interval
        s.ticks += n
        s.expires += n * s.interval
    return True

cdef void refresh(timerfd_state *s) noexcept nogil:
    # Call with interrupts disabled.
    if account(s, now_on(s.clock)):
        arm_ktimer(s)

cdef void expired(ktimer *t) noexcept nogil:
    # The kernel timer fired (any CPU's tick, ktimer lock released).  The state is the
    # syscalls' too (settime/read/poll on other CPUs): it changes under waitq_lock only.
    cdef timerfd_state *s = <timerfd_state *>t.arg
    cdef uint64_t flags = waitq_lock()
    account(s, now_on(s.clock))
    if s.expires != 0:
        arm_ktimer(s)
    if s.ticks != 0:
        io_notify()
    waitq_unlock(flags)

# ------------------------------------------------------------------ the file

cdef int64_t wait_expiry(timerfd_state *s) noexcept nogil:
    # Block until an expiration is counted (call with waitq_lock held): 0 or -ERESTARTSYS.
    # The only blocking path; host tests do not reach it.
    while True:
        refresh(s)
        if s.ticks != 0:
            return 0
        if waitq_sleep(io_waitq(), 0) == WAKE_INTERRUPTED:
            return -ERESTARTSYS

cdef int64_t tfd_read(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    cdef timerfd_state *s = <timerfd_state *>f.priv
    cdef uint64_t flags, ticks
    cdef int64_t rc = 0
    if n < 8:
        return -EINVAL
    flags = waitq_lock()
    refresh(s)
    if s.ticks == 0:
        rc = -EAGAIN if f.flags & O_NONBLOCK else wait_expiry(s)
    ticks = s.ticks
    if rc == 0:
        s.ticks = 0
    waitq_unlock(flags)
    if rc < 0:
        return rc
    if user:
        if copy_to_user(buf, &ticks, 8) != 0:
            return -EFAULT
    else:
        memcpy(<void *>buf, &ticks, 8)
    return 8

cdef uint32_t tfd_poll(vfs_file *f) noexcept nogil:
    cdef timerfd_state *s = <timerfd_state *>f.priv
    cdef uint64_t flags = waitq_lock()
    cdef uint32_t r
    refresh(s)
    r = POLLIN if s.ticks != 0 else 0
    waitq_unlock(flags)
    return r

cdef void tfd_close(vfs_file *f) noexcept nogil:
    cdef timerfd_state *s = <timerfd_state *>f.priv
    ktimer_cancel_sync(&s.timer)        # a callback running on another CPU finishes first
    kfree(s)
    f.priv = NULL

cdef void setup_ops() noexcept nogil:
    global ops_ready
    memset(&tfd_ops, 0, sizeof(vfs_file_ops))
    tfd_ops.read = tfd_read
    tfd_ops.poll = tfd_poll
    tfd_ops.close = tfd_close
    tfd_ops.stat = anon_inode_stat
    ops_ready = True

cdef bint timerfd_is(vfs_file *f) noexcept nogil:
    return f != NULL and ops_ready and f.ops == &tfd_ops

# ------------------------------------------------------------------ syscalls

cdef int64_t sys_timerfd_create(uint64_t clockid, uint64_t flags) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef int clock = <int>clockid
    cdef timerfd_state *s
    cdef vfs_file *f
    cdef int64_t fd
    if (<uint32_t>flags & ~(<uint32_t>(TFD_CLOEXEC | TFD_NONBLOCK))) != 0:
        return -EINVAL
    if clock == TIMERFD_CLOCK_REALTIME_ALARM:       # root has CAP_WAKE_ALARM; no suspend here
        clock = CLOCK_REALTIME
    elif clock == TIMERFD_CLOCK_BOOTTIME_ALARM:
        clock = CLOCK_BOOTTIME
    elif clock != CLOCK_REALTIME and clock != CLOCK_MONOTONIC and clock != CLOCK_BOOTTIME:
        return -EINVAL
    if ctx == NULL:
        return -ENOSYS
    if not ops_ready:
        setup_ops()
    s = <timerfd_state *>kcalloc(1, sizeof(timerfd_state))
    if s == NULL:
        return -ENOMEM
    s.clock = clock
    ktimer_init(&s.timer, expired, s)
    io_wakeups_init(&s.wq, POLLIN, 0)
    f = vfs_file_new(&tfd_ops, NULL, O_RDWR | (<uint32_t>flags & O_NONBLOCK), s)
    if f == NULL:
        kfree(s)
        return -ENOMEM
    f.wakeups = &s.wq
    fd = fdtable_install(&ctx.fdt, f, 0, (flags & TFD_CLOEXEC) != 0)
    if fd < 0:
        vfs_file_put(f)
    return fd

cdef int64_t get_timerfd(uint64_t fd, timerfd_state **out) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    if ctx == NULL:
        return -EBADF
    f = fdtable_get(&ctx.fdt, <uint32_t>fd)
    if f == NULL:
        return -EBADF
    if not timerfd_is(f):
        return -EINVAL
    out[0] = <timerfd_state *>f.priv
    return 0

cdef bint ts_valid(linux_timespec *ts) noexcept nogil:
    return ts.tv_sec >= 0 and 0 <= ts.tv_nsec < NSEC_PER_SEC

cdef uint64_t ts_ns(linux_timespec *ts) noexcept nogil:
    return <uint64_t>ts.tv_sec * NSEC_PER_SEC + <uint64_t>ts.tv_nsec

cdef void ns_ts(uint64_t ns, linux_timespec *ts) noexcept nogil:
    ts.tv_sec = <int64_t>(ns // NSEC_PER_SEC)
    ts.tv_nsec = <int64_t>(ns % NSEC_PER_SEC)

cdef void current_value(timerfd_state *s, linux_itimerspec *v) noexcept nogil:
    # Call with interrupts disabled: remaining time (0 when disarmed) and interval.
    cdef uint64_t now
    refresh(s)
    now = now_on(s.clock)
    ns_ts(s.expires - now if s.expires > now else 0, &v.it_value)
    ns_ts(s.interval, &v.it_interval)

cdef int64_t sys_timerfd_settime(uint64_t fd, uint64_t flags, uint64_t unew, uint64_t uold) noexcept nogil:
    cdef linux_itimerspec nv, ov
    cdef timerfd_state *s = NULL
    cdef uint64_t lk, value
    cdef int64_t rc
    if copy_from_user(&nv, unew, sizeof(linux_itimerspec)) != 0:
        return -EFAULT
    if (<uint32_t>flags & ~(<uint32_t>(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))) != 0:
        return -EINVAL
    if not ts_valid(&nv.it_value) or not ts_valid(&nv.it_interval):
        return -EINVAL
    rc = get_timerfd(fd, &s)
    if rc < 0:
        return rc
    lk = waitq_lock()
    current_value(s, &ov)
    s.ticks = 0
    s.interval = ts_ns(&nv.it_interval)
    value = ts_ns(&nv.it_value)
    if value == 0:
        s.expires = 0
    elif flags & TFD_TIMER_ABSTIME:
        s.expires = value
    else:
        s.expires = now_on(s.clock) + value
    arm_ktimer(s)
    waitq_unlock(lk)
    if uold != 0 and copy_to_user(uold, &ov, sizeof(linux_itimerspec)) != 0:
        return -EFAULT
    return 0

cdef int64_t sys_timerfd_gettime(uint64_t fd, uint64_t ucur) noexcept nogil:
    cdef linux_itimerspec v
    cdef timerfd_state *s = NULL
    cdef uint64_t lk
    cdef int64_t rc = get_timerfd(fd, &s)
    if rc < 0:
        return rc
    lk = waitq_lock()
    current_value(s, &v)
    waitq_unlock(lk)
    if copy_to_user(ucur, &v, sizeof(linux_itimerspec)) != 0:
        return -EFAULT
    return 0
