# Clocks and sleeping.
from libc.stdint cimport int64_t, uint64_t
from tyn.proc.waitq cimport waitq_lock, waitq_unlock
from tyn.arch.tsc cimport monotonic_ns, NSEC_PER_SEC
from tyn.arch.uaccess cimport copy_to_user
from tyn.proc.sched cimport sched_block
from tyn.proc.task cimport WAKE_TIMEOUT
from tyn.sys.errno cimport EFAULT, EINVAL, EINTR, ENOTSUP
from tyn.sys.timeutil cimport (clock_now_ns, timespec_to_user, timeout_deadline_ns, linux_timeval,
                               CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW,
                               CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_REALTIME_COARSE,
                               CLOCK_MONOTONIC_COARSE, TIMER_ABSTIME,
                               TIMEOUT_RELATIVE, TIMEOUT_ABSOLUTE)
from tyn.time.walltime cimport walltime_ns

cdef enum:
    CLOCK_RESOLUTION_NS = 1         # TSC-based: finer than a nanosecond
    COARSE_RESOLUTION_NS = 4000000  # Linux reports one jiffy (HZ=250) for the coarse clocks
    NSEC_PER_USEC = 1000

cdef int64_t sys_clock_gettime(uint64_t clock, uint64_t user_ts) noexcept nogil:
    cdef uint64_t now = 0
    cdef int64_t rc = clock_now_ns(<int64_t>clock, &now)
    if rc < 0:
        return rc
    return timespec_to_user(user_ts, now)

cdef int64_t sys_clock_getres(uint64_t clock, uint64_t user_ts) noexcept nogil:
    cdef uint64_t now = 0
    cdef int64_t rc = clock_now_ns(<int64_t>clock, &now)
    if rc < 0:
        return rc
    if user_ts == 0:
        return 0
    if clock == CLOCK_REALTIME_COARSE or clock == CLOCK_MONOTONIC_COARSE:
        return timespec_to_user(user_ts, COARSE_RESOLUTION_NS)
    return timespec_to_user(user_ts, CLOCK_RESOLUTION_NS)

cdef int64_t sys_gettimeofday(uint64_t user_tv, uint64_t user_tz) noexcept nogil:
    cdef linux_timeval tv
    cdef uint64_t now = walltime_ns()
    if user_tv != 0:
        tv.tv_sec = <int64_t>(now // NSEC_PER_SEC)
        tv.tv_usec = <int64_t>((now % NSEC_PER_SEC) // NSEC_PER_USEC)
        if copy_to_user(user_tv, &tv, sizeof(tv)) != 0:
            return -EFAULT
    if user_tz != 0:
        tv.tv_sec = 0                     # struct timezone: minutes west 0, dst 0 (UTC)
        tv.tv_usec = 0
        if copy_to_user(user_tz, &tv, 8) != 0:
            return -EFAULT
    return 0

cdef int64_t sys_time(uint64_t user_tloc) noexcept nogil:
    # Linux's time(2): CLOCK_REALTIME's seconds, also stored at tloc when it is not NULL.
    cdef int64_t sec = <int64_t>(walltime_ns() // NSEC_PER_SEC)
    if user_tloc != 0 and copy_to_user(user_tloc, &sec, sizeof(sec)) != 0:
        return -EFAULT
    return sec

cdef int64_t sleep_until(uint64_t deadline) noexcept nogil:
    """Block until the monotonic deadline; 0 or -EINTR."""
    cdef int reason
    if deadline == 0 or deadline <= monotonic_ns():
        return 0
    cdef uint64_t flags = waitq_lock()
    reason = sched_block(deadline)
    waitq_unlock(flags)
    return 0 if reason == WAKE_TIMEOUT else -EINTR

cdef int64_t sys_nanosleep(uint64_t user_req, uint64_t user_rem) noexcept nogil:
    cdef uint64_t deadline = 0
    cdef int64_t rc = timeout_deadline_ns(user_req, TIMEOUT_RELATIVE, False, &deadline)
    if rc < 0:
        return rc
    rc = sleep_until(deadline)
    if rc == -EINTR and user_rem != 0:
        timespec_to_user(user_rem, deadline - monotonic_ns() if deadline > monotonic_ns() else 0)
    return rc

cdef int64_t sys_clock_nanosleep(uint64_t clock, uint64_t flags, uint64_t user_req,
                                 uint64_t user_rem) noexcept nogil:
    cdef uint64_t deadline = 0
    cdef int64_t rc
    if clock == CLOCK_THREAD_CPUTIME_ID:
        return -EINVAL
    if clock == CLOCK_PROCESS_CPUTIME_ID:
        return -ENOTSUP
    if clock != CLOCK_REALTIME and clock != CLOCK_MONOTONIC and clock != CLOCK_BOOTTIME:
        return -EINVAL
    if flags & TIMER_ABSTIME:
        rc = timeout_deadline_ns(user_req, TIMEOUT_ABSOLUTE, clock == CLOCK_REALTIME, &deadline)
    else:
        rc = timeout_deadline_ns(user_req, TIMEOUT_RELATIVE, False, &deadline)
    if rc < 0:
        return rc
    rc = sleep_until(deadline)
    if rc == -EINTR and user_rem != 0 and not (flags & TIMER_ABSTIME):
        timespec_to_user(user_rem, deadline - monotonic_ns() if deadline > monotonic_ns() else 0)
    return rc
