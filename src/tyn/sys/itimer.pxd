# Interval timers: setitimer/getitimer/alarm.  ITIMER_REAL: SIGALRM from a kernel timer
# at its monotonic deadline, re-armed by the interval.  ITIMER_VIRTUAL/ITIMER_PROF:
# SIGVTALRM/SIGPROF when the process's user (user + system) CPU time reaches the expiry,
# sampled at returns to user mode and at the scheduler's tick.
from libc.stdint cimport int64_t, uint64_t
from tyn.proc.task cimport process, thread

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
# On the way back to user mode (kernel_lock held): whether a CPU-time timer of t's process
# is due (cheap: the user-return path asks it), and raising its signal.
cdef extern bint itimer_cpu_due(thread *t) noexcept nogil
cdef extern void itimer_cpu_check(thread *t) noexcept nogil
