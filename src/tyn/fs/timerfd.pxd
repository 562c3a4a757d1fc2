# timerfd: a file whose reads return how many times a timer expired (timerfd_create(2)).
# Expiry is driven by a kernel timer (tyn.time.ktimer) whose callback counts the
# expirations and calls io_notify(), so poll/epoll/read waiters wake at the deadline
# (to the kernel tick's resolution).  Expirations are also counted lazily whenever the
# file is looked at (read, poll, gettime), so a late tick never loses or delays a count.
from libc.stdint cimport uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file

cdef enum:
    TFD_TIMER_ABSTIME = 1
    TFD_TIMER_CANCEL_ON_SET = 2
    TFD_CLOEXEC = 0o2000000         # O_CLOEXEC
    TFD_NONBLOCK = 0o4000           # O_NONBLOCK
    TIMERFD_CLOCK_REALTIME_ALARM = 8
    TIMERFD_CLOCK_BOOTTIME_ALARM = 9

# The current value of a clock (CLOCK_REALTIME / CLOCK_MONOTONIC / CLOCK_BOOTTIME) in ns.
ctypedef uint64_t (*timerfd_now_fn)(int clock) noexcept nogil

cdef extern int64_t sys_timerfd_create(uint64_t clockid, uint64_t flags) noexcept nogil
cdef extern int64_t sys_timerfd_settime(uint64_t fd, uint64_t flags, uint64_t unew, uint64_t uold) noexcept nogil
cdef extern int64_t sys_timerfd_gettime(uint64_t fd, uint64_t ucur) noexcept nogil
cdef extern bint timerfd_is(vfs_file *f) noexcept nogil
# Host tests only: replace the clocks (NULL: the real ones).  Kernel timers are then run
# by the test (ktimer_run) with the same fake monotonic time.
cdef extern void timerfd_set_time_source(timerfd_now_fn fn) noexcept nogil
