# Per-thread CPU time, split into user and kernel mode (TSC-based monotonic_ns).
#
# Ownership: a thread's own fields (utime_ns, stime_ns, cputime_mark_ns, nvcsw/nivcsw) are
# written only by the CPU running it (at its kernel entries/exits) or switching away from it.
# Process totals are added with atomic adds (several CPUs may charge threads of one process);
# the children's totals (c*) change only in the parent's wait, under waitq_lock.
from libc.stdint cimport uint64_t
from tyn.proc.task cimport thread, process

# Kernel entry from user mode: the interval since the mark was user time.
cdef extern void cputime_user_entry(thread *t) noexcept nogil
# Return to user mode: the interval since the mark was kernel time.
cdef extern void cputime_user_exit(thread *t) noexcept nogil
# The scheduler switches prev -> next at `now` (kernel mode on both sides).
cdef extern void cputime_switch(thread *prev, thread *next, uint64_t now) noexcept nogil
# A resolved user page fault (ru_minflt).
cdef extern void cputime_count_fault(process *p) noexcept nogil
# wait4/waitid reaped `child`: its times and its own children's go to the parent.
cdef extern void cputime_reap_child(process *parent, process *child) noexcept nogil
# The calling thread's user and kernel time up to now (the running interval included).
cdef extern void cputime_thread_now(thread *t, uint64_t *user_ns, uint64_t *system_ns) noexcept nogil
# Its process's: every thread charged so far plus the caller's running interval.
cdef extern void cputime_process_now(thread *t, uint64_t *user_ns, uint64_t *system_ns) noexcept nogil
# The process's resident high-water mark in pages (sampled at each return to user mode).
cdef extern uint64_t cputime_maxrss_pages(process *p) noexcept nogil
