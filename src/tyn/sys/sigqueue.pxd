# Pending signals' bookkeeping: Linux's two struct sigpending (the thread's own and the
# process's shared one), kept on the thread a process-directed signal was given to.  Each
# class has its pending bits, each standard signal one siginfo, and real-time signals
# (SIGRTMIN..SIGRTMAX) a queue of instances: every raise waits with its own siginfo and
# is delivered once.  thread.signal_pending is the union, for wait conditions.
#
# Lock: sigqueue_lock (rank SPINLOCK_RANK_SIGQUEUE, above sched: signals are raised under
# waitq_lock by timer callbacks and the tty) protects every thread's rt_queue, siginfo
# slots, class bits, the changes of signal_pending (also atomic: wait conditions read it
# without the lock) and the count of held siginfos.  Nothing is allocated or woken under it.
from libc.stdint cimport uint64_t
from tyn.proc.task cimport thread, signal_info

cdef enum:
    SIGRTMIN_KERNEL = 32                # Linux's SIGRTMIN: from here on every instance queues
    SIGQUEUE_PRIVATE = 0                # thread-directed: tkill, tgkill, faults, SIGPIPE
    SIGQUEUE_SHARED = 1                 # process-directed: kill, sigqueue, timers, SIGCHLD
    SIGQUEUE_ADDED = 1                  # sigqueue_add: pending now (queued or first instance)
    SIGQUEUE_MERGED = 0                 # a standard signal already pending: nothing changes
    # RLIMIT_SIGPENDING's default: Linux's max_threads / 2 (fork_init), with Tyn's thread
    # table as max_threads.
    SIGQUEUE_DEFAULT_LIMIT = 512

cdef extern void sigqueue_init() noexcept nogil
# Make sig pending for t in class `cls`, with Linux's __send_signal_locked rules.  Every
# held siginfo counts against `limit` (the target's RLIMIT_SIGPENDING): a real-time signal
# queues an instance while the count is below it; a standard one keeps its siginfo
# regardless when si_code >= 0 (kill, the kernel) and only below it otherwise
# (sigqueue).  Past the limit (or out of memory): -EAGAIN for a real-time signal whose
# si_code is neither SI_USER nor SI_KERNEL (sigqueue, tgkill), else pending without its
# siginfo (delivered as SI_USER from pid 0).  SIGQUEUE_ADDED or SIGQUEUE_MERGED.
cdef extern int sigqueue_add(thread *t, int sig, const signal_info *info, uint64_t limit,
                             int cls) noexcept nogil
# Take the next pending signal among `wanted` (Linux's dequeue_signal: the thread's own
# before the shared ones; in each, synchronous faults first, then the lowest number; the
# oldest instance of a real-time one) into *out; a class's bit goes when no instance is
# left.  The signal, or 0 if none.
cdef extern int sigqueue_take_next(thread *t, uint64_t wanted, signal_info *out) noexcept nogil
# Drop every pending instance of sig (a disposition set to SIG_IGN, Linux's flush).
cdef extern void sigqueue_discard(thread *t, int sig) noexcept nogil
# `from` is leaving its process: its process-directed signals go to `to` (Linux keeps them
# in the process's shared set).  The signals now pending for `to` that were moved.
cdef extern uint64_t sigqueue_move_shared(thread *src, thread *dst) noexcept nogil
# t is being freed: its queued instances go.
cdef extern void sigqueue_release(thread *t) noexcept nogil
# Held siginfos in the whole system: Linux counts them per user, and every Tyn process
# runs as uid 0.
cdef extern uint64_t sigqueue_count() noexcept nogil
