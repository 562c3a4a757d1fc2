# Interval timers: setitimer/getitimer/alarm.  ITIMER_REAL only: SIGALRM from a kernel
# timer at its monotonic deadline, re-armed by the interval.  The CPU-time timers
# (ITIMER_VIRTUAL, ITIMER_PROF) are not implemented: EINVAL.
from libc.stdint cimport int64_t, uint64_t
from tyn.proc.task cimport process

cdef enum:
    ITIMER_REAL = 0
    ITIMER_VIRTUAL = 1
    ITIMER_PROF = 2
    SIGALRM = 14

# A new process: its timer is set up, disarmed (timers are not inherited by fork).
cdef extern void itimer_process_init(process *p) noexcept nogil
# The process ends: its timer is cancelled (exec keeps it, as Linux).
cdef extern void itimer_process_stop(process *p) noexcept nogil
cdef extern int64_t sys_setitimer(uint64_t which, uint64_t user_new, uint64_t user_old) noexcept nogil
cdef extern int64_t sys_getitimer(uint64_t which, uint64_t user_value) noexcept nogil
cdef extern int64_t sys_alarm(uint64_t seconds) noexcept nogil
