# kernel_lock: the coarse lock over process-context kernel state (Linux 2.2's BKL, with
# its rules).
#
# Protects everything a system call or a user fault touches that has no lock of its own:
# processes and threads (table, signals, credentials), file tables, the vfs and its
# files (pipes, eventfd, epoll, timerfd, tmpfs), address spaces (vmas), futex words' keys.
# Taken on entry from user mode (syscall, exception) and on the way back (signal
# delivery), released before returning to user mode; schedule() drops it while the
# thread is off the CPU and takes it back before the thread goes on.  So it is never held
# in user mode or across a sleep: threads on different CPUs run user code in parallel and
# one of them at a time runs kernel code of this kind.
#
# Rank: lowest (taken first).  Interrupt handlers never take it (they use the spinlocks
# of what they touch: net_lock, the scheduler lock, the ktimer lock, mm_lock).  Waiting
# for it happens with interrupts enabled, so a CPU waiting here still answers IPIs
# (TLB shootdowns, reschedules) from the CPU that holds it.

cdef extern void kernel_lock_init() noexcept nogil
# Take it (interrupts enabled while waiting; as the caller had them afterwards).
cdef extern void kernel_lock_acquire() noexcept nogil
cdef extern void kernel_lock_release() noexcept nogil
# Whether the calling CPU holds it.
cdef extern bint kernel_lock_held() noexcept nogil
# Waiting for it is profiled (profile=1: "kernel_lock wait", lib/kprofile).
