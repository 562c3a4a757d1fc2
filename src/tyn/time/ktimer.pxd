# Kernel timers: callbacks at monotonic deadlines, run from the kernel tick.
#
# A ktimer is embedded in its owner (no allocation).  Armed timers sit in one list sorted
# by deadline; ktimer_run(now) -- called by the tick -- unlinks every timer whose deadline
# has passed and calls its function (interrupt context: interrupts disabled, must not
# block; it may re-arm its timer -- fired again at the next run at the earliest -- and
# cancel others).  Resolution is the tick: a deadline is noticed on the
# first tick at or after it (10 ms at the default 100 Hz).
#
# SMP: the list is under ktimer_lock (rank SPINLOCK_RANK_KTIMER); any CPU's tick runs the
# due timers, each callback with the lock released (callbacks take net_lock, sched_lock),
# so two CPUs may run two different callbacks at once; one timer's callback never runs
# twice at once.  ktimer_cancel does not wait for a callback already running on another
# CPU (Linux's del_timer); ktimer_cancel_sync does (del_timer_sync: call it holding no
# lock that the callback takes) -- before freeing the timer's owner.
from libc.stdint cimport uint64_t

cdef struct ktimer

ctypedef void (*ktimer_fn)(ktimer *t) noexcept nogil

cdef struct ktimer:
    ktimer *next
    uint64_t deadline_ns        # monotonic
    ktimer_fn fn
    void *arg                   # the owner's, for fn
    bint armed
    uint64_t armed_seq          # the arming's sequence number (a run fires older armings only)

cdef extern void ktimer_init(ktimer *t, ktimer_fn fn, void *arg) noexcept nogil
# (Re-)arm at a monotonic deadline (an armed timer moves).
cdef extern void ktimer_arm(ktimer *t, uint64_t deadline_ns) noexcept nogil
# Disarm (no-op if not armed).  After it returns, fn is not called for this arming.
cdef extern void ktimer_cancel(ktimer *t) noexcept nogil
# Cancel, then wait until no CPU runs its callback.
cdef extern void ktimer_cancel_sync(ktimer *t) noexcept nogil
cdef extern void ktimer_lock_init() noexcept nogil
# Fire every timer due at now_ns; how many fired.  Called from the tick.
cdef extern int ktimer_run(uint64_t now_ns) noexcept nogil
# The earliest armed deadline, 0 if none.
cdef extern uint64_t ktimer_next_deadline() noexcept nogil
cdef extern uint64_t ktimer_armed_count() noexcept nogil
# Forget every timer (tests).
cdef extern void ktimer_reset() noexcept nogil
