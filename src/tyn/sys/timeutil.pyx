# Time values crossing the syscall boundary, and the clocks behind clock_gettime.
from libc.stdint cimport int64_t, uint64_t
from tyn.arch.tsc cimport monotonic_ns, NSEC_PER_SEC
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.proc.sched cimport sched_current
from tyn.proc.cputime cimport cputime_thread_now, cputime_process_now
from tyn.sys.errno cimport EFAULT, EINVAL
from tyn.time.walltime cimport walltime_ns

cdef int64_t timespec_from_user(uint64_t user_ts, uint64_t *out_ns) noexcept nogil:
    cdef linux_timespec ts
    if copy_from_user(&ts, user_ts, sizeof(ts)) != 0:
        return -EFAULT
    if ts.tv_sec < 0 or ts.tv_nsec < 0 or ts.tv_nsec >= NSEC_PER_SEC:
        return -EINVAL
    out_ns[0] = <uint64_t>ts.tv_sec * NSEC_PER_SEC + <uint64_t>ts.tv_nsec
    return 0

cdef int64_t timespec_to_user(uint64_t user_ts, uint64_t ns) noexcept nogil:
    cdef linux_timespec ts
    ts.tv_sec = <int64_t>(ns // NSEC_PER_SEC)
    ts.tv_nsec = <int64_t>(ns % NSEC_PER_SEC)
    return -EFAULT if copy_to_user(user_ts, &ts, sizeof(ts)) != 0 else 0

cdef int64_t clock_now_ns(int64_t clock, uint64_t *out_ns) noexcept nogil:
    cdef uint64_t user_ns, system_ns
    if clock == CLOCK_REALTIME or clock == CLOCK_REALTIME_COARSE:
        out_ns[0] = walltime_ns()
    elif clock == CLOCK_MONOTONIC or clock == CLOCK_MONOTONIC_RAW or clock == CLOCK_MONOTONIC_COARSE \
            or clock == CLOCK_BOOTTIME:
        out_ns[0] = monotonic_ns()
    elif clock == CLOCK_THREAD_CPUTIME_ID:
        cputime_thread_now(sched_current(), &user_ns, &system_ns)
        out_ns[0] = user_ns + system_ns
    elif clock == CLOCK_PROCESS_CPUTIME_ID:
        cputime_process_now(sched_current(), &user_ns, &system_ns)
        out_ns[0] = user_ns + system_ns
    else:
        return -EINVAL
    return 0

cdef int64_t timeout_deadline_ns(uint64_t user_ts, int kind, bint realtime, uint64_t *deadline) noexcept nogil:
    cdef uint64_t ns = 0, now = monotonic_ns(), wall
    cdef int64_t rc = timespec_from_user(user_ts, &ns)
    if rc < 0:
        return rc
    if kind == TIMEOUT_RELATIVE:
        deadline[0] = now + ns if ns > 0 else 0
    elif realtime:
        wall = walltime_ns()
        deadline[0] = now + (ns - wall) if ns > wall else 0
    else:
        deadline[0] = ns if ns > now else 0
    return 0
