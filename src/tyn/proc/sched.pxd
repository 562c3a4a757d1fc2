# The scheduler: preemptive round robin on one CPU (time slice 1/hz, time/clock), HLT
# when idle.
from libc.stdint cimport uint64_t
from tyn.proc.task cimport thread, process

cdef extern void sched_init() noexcept nogil
cdef extern thread *sched_current() noexcept nogil
cdef extern void sched_make_runnable(thread *t) noexcept nogil
# Give up the CPU (the caller stays runnable).
cdef extern void sched_yield_cpu() noexcept nogil
# Block the current thread until sched_wake() or the deadline (monotonic ns, 0 = none).
# Call with interrupts disabled, after putting the thread where its waker will find it.
# Returns WAKE_NORMAL, WAKE_TIMEOUT or WAKE_INTERRUPTED.
cdef extern int sched_block(uint64_t deadline_ns) noexcept nogil
cdef extern void sched_wake(thread *t, int reason) noexcept nogil
# The current thread ends; never returns.  Its memory is reclaimed after the switch.
cdef extern void sched_exit_current() noexcept nogil
# Called by the timer interrupt: wake the sleepers due, end the slice if it is over.
cdef extern void sched_tick(uint64_t now_ns) noexcept nogil
# When the scheduler next needs the timer: the earliest sleeper deadline or, while
# others wait for the CPU, the end of the running thread's slice (0: never).
cdef extern uint64_t sched_next_deadline() noexcept nogil
# Called on every return to user mode: switch if the time slice is over.
cdef extern void sched_user_return() noexcept nogil
# The boot thread becomes the idle thread: never returns.
cdef extern void sched_idle_loop() noexcept nogil
cdef extern uint64_t sched_switch_count() noexcept nogil
