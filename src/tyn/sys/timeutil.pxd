from libc.stdint cimport int64_t, uint64_t

cdef enum:
    # clockid_t values (include/uapi/linux/time.h)
    CLOCK_REALTIME = 0
    CLOCK_MONOTONIC = 1
    CLOCK_PROCESS_CPUTIME_ID = 2
    CLOCK_THREAD_CPUTIME_ID = 3
    CLOCK_MONOTONIC_RAW = 4
    CLOCK_REALTIME_COARSE = 5
    CLOCK_MONOTONIC_COARSE = 6
    CLOCK_BOOTTIME = 7
    TIMER_ABSTIME = 1
    TIMEOUT_RELATIVE = 0
    TIMEOUT_ABSOLUTE = 1

cdef struct linux_timespec:
    int64_t tv_sec
    int64_t tv_nsec

cdef struct linux_timeval:
    int64_t tv_sec
    int64_t tv_usec

# A user timespec -> ns (0 or -EFAULT/-EINVAL for tv_nsec outside 0..999999999 or tv_sec < 0).
cdef extern int64_t timespec_from_user(uint64_t user_ts, uint64_t *out_ns) noexcept nogil
cdef extern int64_t timespec_to_user(uint64_t user_ts, uint64_t ns) noexcept nogil
# The clock's current value in ns, or -EINVAL for an unknown clock.
cdef extern int64_t clock_now_ns(int64_t clock, uint64_t *out_ns) noexcept nogil
# A user timeout -> a monotonic deadline.  0 in *deadline means "already passed".
cdef extern int64_t timeout_deadline_ns(uint64_t user_ts, int kind, bint realtime, uint64_t *deadline) noexcept nogil
