# The scheduler: preemptive round robin per CPU (time slice 1/hz, time/clock), a run
# queue per CPU with placement on idle CPUs and stealing, a reschedule IPI, HLT when idle.
# Locking: sched_lock (rank SPINLOCK_RANK_SCHED), described in sched.pyx; waitq_lock is
# the same lock.
from libc.stdint cimport uint32_t, uint64_t
from tyn.proc.task cimport thread, process

# The boot CPU (its idle thread is the caller); then each AP calls sched_ap_main.
cdef extern void sched_init() noexcept nogil
# An AP joins: it becomes CPU `cpu`'s idle thread and never returns.
cdef extern void sched_ap_main(uint32_t cpu) noexcept nogil
cdef extern uint32_t sched_cpus_online() noexcept nogil
cdef extern uint64_t sched_online_mask() noexcept nogil
cdef extern thread *sched_current() noexcept nogil
cdef extern uint64_t sched_lock_acquire() noexcept nogil
cdef extern void sched_lock_release(uint64_t flags) noexcept nogil
cdef extern void sched_make_runnable(thread *t) noexcept nogil
# Give up the CPU (the caller stays runnable).
cdef extern void sched_yield_cpu() noexcept nogil
# Block the current thread until sched_wake() or the deadline (monotonic ns, 0 = none).
# Call with sched_lock (waitq_lock) held, after putting the thread where its waker will
# find it; held again on return.  Returns WAKE_NORMAL, WAKE_TIMEOUT or WAKE_INTERRUPTED.
cdef extern int sched_block(uint64_t deadline_ns) noexcept nogil
# Wake a blocked thread (WAKE_INTERRUPTED on a thread running on another CPU: an IPI, so
# it sees its signal on the way back to user mode).  _locked: sched_lock held.
cdef extern void sched_wake(thread *t, int reason) noexcept nogil
cdef extern void sched_wake_locked(thread *t, int reason) noexcept nogil
# The current thread ends; never returns.  Its memory is reclaimed after the switch.
cdef extern void sched_exit_current() noexcept nogil
# A new thread's first code (shim/entry.S): releases the lock its creator's switch held.
cdef extern void sched_thread_start() noexcept nogil
# Called by this CPU's timer interrupt: wake the sleepers due, end the slice if it is over.
cdef extern void sched_tick(uint64_t now_ns) noexcept nogil
# When this CPU's scheduler next needs the timer: the earliest sleeper deadline or, while
# others wait for the CPU (or its process has a CPU-time itimer armed), the end of the
# running thread's slice (0: never).
cdef extern uint64_t sched_next_deadline() noexcept nogil
# The current process armed ITIMER_VIRTUAL/PROF: this CPU ticks once a slice from now on.
cdef extern void sched_cpu_timer_armed() noexcept nogil
# Whether this CPU's slice is over with others waiting (user return then switches).
cdef extern bint sched_resched_pending() noexcept nogil
# Called on every return to user mode: switch if the time slice is over.
cdef extern void sched_user_return() noexcept nogil
# The boot thread becomes the idle thread: never returns.
cdef extern void sched_idle_loop() noexcept nogil
# sched_getaffinity/sched_setaffinity: t's allowed CPUs (online ones only); set returns
# False for a mask without an online CPU, and moves the caller off a CPU it left out.
cdef extern uint64_t sched_get_affinity(thread *t) noexcept nogil
cdef extern bint sched_set_affinity(thread *t, uint64_t mask) noexcept nogil
cdef extern uint64_t sched_switch_count() noexcept nogil
cdef extern uint64_t sched_ipi_count() noexcept nogil
