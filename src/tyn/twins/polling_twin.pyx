# Host face of epoll, poll/select, timerfd and kernel timers.  Runs on the file layer set
# up by sysfs_twin.mount (current fs context, user window).  Adds what the tests need to
# drive readiness and time:
#   - a test-only file kind whose poll returns a mask the test sets (fake_file/fake_set),
#     optionally with wakeup counts the test bumps (fake_file(wakeups=True)/fake_wake);
#   - a fake clock for timerfd (set_time), with kernel timers run by the test (run_timers).
from libc.stdint cimport uint32_t, uint64_t, int64_t
from libc.stdlib cimport calloc, free
from tyn.fs.vfs cimport (vfs_file, vfs_file_ops, vfs_file_new, vfs_file_put, O_RDWR, POLLIN, POLLOUT,
                         POLLRDNORM, POLLWRNORM)
from tyn.fs.wakeups cimport io_wakeups, io_wakeups_init, io_wake_in, io_wake_out, io_wake_all
from tyn.fs.fdtable cimport fdtable_install, fdtable_get
from tyn.fs.context cimport fs_current
from tyn.fs.epoll cimport *
from tyn.fs.timerfd cimport *
from tyn.sys.poll cimport sys_poll, sys_ppoll, sys_select, sys_pselect6
from tyn.time.ktimer cimport *
from tyn.arch.cpu cimport memset
from tyn.proc.sched cimport sched_init, sched_current

ctypedef int64_t (*fn6)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) noexcept nogil

cdef dict FUNCS = {
    "epoll_create": <uint64_t><void *>sys_epoll_create, "epoll_create1": <uint64_t><void *>sys_epoll_create1,
    "epoll_ctl": <uint64_t><void *>sys_epoll_ctl, "epoll_wait": <uint64_t><void *>sys_epoll_wait,
    "epoll_pwait": <uint64_t><void *>sys_epoll_pwait,
    "poll": <uint64_t><void *>sys_poll, "ppoll": <uint64_t><void *>sys_ppoll,
    "select": <uint64_t><void *>sys_select, "pselect6": <uint64_t><void *>sys_pselect6,
    "timerfd_create": <uint64_t><void *>sys_timerfd_create,
    "timerfd_settime": <uint64_t><void *>sys_timerfd_settime,
    "timerfd_gettime": <uint64_t><void *>sys_timerfd_gettime,
}

EPOLL = dict(IN=EPOLLIN, PRI=EPOLLPRI, OUT=EPOLLOUT, ERR=EPOLLERR, HUP=EPOLLHUP, RDNORM=EPOLLRDNORM,
             WRNORM=EPOLLWRNORM, RDHUP=EPOLLRDHUP, EXCLUSIVE=EPOLLEXCLUSIVE, WAKEUP=EPOLLWAKEUP,
             ONESHOT=EPOLLONESHOT, ET=0x80000000, CTL_ADD=EPOLL_CTL_ADD, CTL_DEL=EPOLL_CTL_DEL,
             CTL_MOD=EPOLL_CTL_MOD, CLOEXEC=EPOLL_CLOEXEC, EVENT_SIZE=EPOLL_EVENT_SIZE)


def call(str name, *args):
    """sys_<name>(args...) with each argument reduced mod 2^64 (negative ints allowed)."""
    cdef uint64_t a[6]
    cdef fn6 f = <fn6><void *><uint64_t>FUNCS[name]
    if len(args) > 6:
        raise TypeError("at most 6 arguments")
    for i in range(6):
        a[i] = (args[i] & 0xFFFFFFFFFFFFFFFF) if i < len(args) else 0
    return f(a[0], a[1], a[2], a[3], a[4], a[5])

# ------------------------------------------------------------------ fake files

cdef struct fake_state:
    uint32_t mask
    io_wakeups wq

cdef vfs_file_ops fake_ops
cdef int fake_live = 0

cdef uint32_t fake_poll(vfs_file *f) noexcept nogil:
    return (<fake_state *>f.priv).mask

cdef void fake_close(vfs_file *f) noexcept nogil:
    global fake_live
    free(f.priv)
    fake_live -= 1

def fake_file(uint32_t mask=0, bint wakeups=False):
    """A new file whose poll returns mask, installed at the lowest free fd; the fd.  With
    wakeups, it counts wakeups (keyed POLLIN|POLLRDNORM and POLLOUT|POLLWRNORM) that the
    test makes with fake_wake: exact EPOLLET; without, epoll approximates EPOLLET."""
    global fake_live
    cdef fake_state *s = <fake_state *>calloc(1, sizeof(fake_state))
    cdef vfs_file *f
    memset(&fake_ops, 0, sizeof(vfs_file_ops))
    fake_ops.poll = fake_poll
    fake_ops.close = fake_close
    s.mask = mask
    io_wakeups_init(&s.wq, POLLIN | POLLRDNORM, POLLOUT | POLLWRNORM)
    f = vfs_file_new(&fake_ops, NULL, O_RDWR, s)
    if wakeups:
        f.wakeups = &s.wq
    fake_live += 1
    fd = fdtable_install(&fs_current().fdt, f, 0, False)
    if fd < 0:
        vfs_file_put(f)
    return fd

def fake_set(int fd, uint32_t mask):
    cdef vfs_file *f = fdtable_get(&fs_current().fdt, fd)
    if f == NULL or f.ops != &fake_ops:
        raise ValueError(f"fd {fd} is not a fake file")
    (<fake_state *>f.priv).mask = mask

def fake_wake(int fd, str kind):
    """A wakeup of the fake file at fd: "in" (keyed POLLIN), "out" (keyed POLLOUT) or
    "all" (no key)."""
    cdef vfs_file *f = fdtable_get(&fs_current().fdt, fd)
    if f == NULL or f.ops != &fake_ops:
        raise ValueError(f"fd {fd} is not a fake file")
    cdef io_wakeups *w = &(<fake_state *>f.priv).wq
    if kind == "in":
        io_wake_in(w)
    elif kind == "out":
        io_wake_out(w)
    elif kind == "all":
        io_wake_all(w)
    else:
        raise ValueError(kind)

def fake_reset():
    global fake_live
    fake_live = 0

def fake_files_live():
    return fake_live

def epoll_items(int fd):
    """Registrations of the epoll at fd (-1: not an epoll)."""
    cdef vfs_file *f = fdtable_get(&fs_current().fdt, fd)
    if f == NULL:
        return -1
    return epoll_item_count(f)

def file_refs(int fd):
    cdef vfs_file *f = fdtable_get(&fs_current().fdt, fd)
    return f.refs if f != NULL else 0

# ------------------------------------------------------------------ time

cdef uint64_t fake_mono = 0
cdef uint64_t fake_real = 0

cdef uint64_t fake_now(int clock) noexcept nogil:
    return fake_real if clock == 0 else fake_mono

def set_time(uint64_t mono, real=None):
    """Use the fake clocks for timerfd from now on: CLOCK_MONOTONIC/BOOTTIME = mono,
    CLOCK_REALTIME = real (default: mono + 1.7e18)."""
    global fake_mono, fake_real
    fake_mono = mono
    fake_real = real if real is not None else mono + 1700000000000000000
    timerfd_set_time_source(fake_now)

def real_time():
    timerfd_set_time_source(NULL)

def run_timers(now=None):
    """ktimer_run at now (default: the fake monotonic time); how many fired."""
    return ktimer_run(fake_mono if now is None else now)

def next_timer():
    return ktimer_next_deadline()

def armed_timers():
    return ktimer_armed_count()

def reset_timers():
    ktimer_reset()

# ------------------------------------------------------------------ bare kernel timers

cdef ktimer *pool = NULL
cdef int pool_n = 0
cdef int *fired = NULL
cdef int nfired = 0
cdef uint64_t *rearm = NULL          # per timer: re-arm at deadline + this (0: no)
cdef int *cancel_on_fire = NULL      # per timer: cancel that timer index when fired (-1: none)

cdef void record(ktimer *t) noexcept nogil:
    global nfired
    cdef int i = <int>(<uint64_t>t.arg)
    if nfired < 4096:
        fired[nfired] = i
    nfired += 1
    if rearm[i] != 0:
        ktimer_arm(t, t.deadline_ns + rearm[i])
    if cancel_on_fire[i] >= 0:
        ktimer_cancel(&pool[cancel_on_fire[i]])

def timers_new(int n):
    """n bare timers recording their index when fired; resets the timer list."""
    global pool, pool_n, fired, nfired, rearm, cancel_on_fire
    ktimer_reset()
    free(pool); free(fired); free(rearm); free(cancel_on_fire)
    pool = <ktimer *>calloc(n, sizeof(ktimer))
    rearm = <uint64_t *>calloc(n, sizeof(uint64_t))
    cancel_on_fire = <int *>calloc(n, sizeof(int))
    fired = <int *>calloc(4096, sizeof(int))
    pool_n = n
    nfired = 0
    for i in range(n):
        ktimer_init(&pool[i], record, <void *><uint64_t>i)
        cancel_on_fire[i] = -1

cdef ktimer *T(int i) except NULL:
    if i < 0 or i >= pool_n:
        raise IndexError(i)
    return &pool[i]

def timer_arm(int i, uint64_t deadline, uint64_t rearm_after=0, int cancel_other=-1):
    T(i)
    rearm[i] = rearm_after
    cancel_on_fire[i] = cancel_other
    ktimer_arm(&pool[i], deadline)

def timer_cancel(int i):
    ktimer_cancel(T(i))

def timer_armed(int i):
    return bool(T(i).armed)

def timers_fired():
    """Indices fired since the last call, in firing order."""
    global nfired
    out = [fired[k] for k in range(min(nfired, 4096))]
    nfired = 0
    return out


def thread_init():
    """A current thread (the idle thread) for the signal-mask paths of ppoll & co."""
    sched_init()


def thread_sigmask(new=None):
    """The current thread's blocked mask (set it first when new is given), and whether a
    temporary mask is still waiting to be restored."""
    if new is not None:
        sched_current().signal_mask = <uint64_t>new
    return sched_current().signal_mask, bool(sched_current().restore_sigmask)
