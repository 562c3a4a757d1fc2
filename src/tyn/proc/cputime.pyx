# CPU time accounting: each interval a thread runs is charged to its user or its kernel
# time at the boundaries where the mode changes (trap entry from ring 3, return to ring 3)
# and where the CPU changes hands (context switch).  clock_gettime's CPU clocks, getrusage
# and times read it.
from libc.stdint cimport uint64_t
from tyn.arch.tsc cimport monotonic_ns
from tyn.proc.task cimport thread, process, THREAD_RUNNABLE
from tyn.proc.sched cimport sched_current

cdef extern from *:
    """
    static inline void cputime_atomic_add(__UINT64_TYPE__ *p, __UINT64_TYPE__ v) {
        __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
    }
    static inline __UINT64_TYPE__ cputime_atomic_read(__UINT64_TYPE__ *p) {
        return __atomic_load_n(p, __ATOMIC_RELAXED);
    }
    """
    void cputime_atomic_add(uint64_t *p, uint64_t v) nogil
    uint64_t cputime_atomic_read(uint64_t *p) nogil

cdef inline uint64_t take_interval(thread *t, uint64_t now) noexcept nogil:
    cdef uint64_t elapsed = now - t.cputime_mark_ns if now > t.cputime_mark_ns else 0
    t.cputime_mark_ns = now
    return elapsed

cdef inline void charge_user(thread *t, uint64_t ns) noexcept nogil:
    t.utime_ns += ns
    cputime_atomic_add(&t.proc.utime_ns, ns)

cdef inline void charge_system(thread *t, uint64_t ns) noexcept nogil:
    t.stime_ns += ns
    cputime_atomic_add(&t.proc.stime_ns, ns)

cdef void sample_rss(process *p) noexcept nogil:
    if p.mm.mapped_pages > p.maxrss_pages:
        p.maxrss_pages = p.mm.mapped_pages

cdef void cputime_user_entry(thread *t) noexcept nogil:
    if t != NULL and not t.is_idle:
        charge_user(t, take_interval(t, monotonic_ns()))

cdef void cputime_user_exit(thread *t) noexcept nogil:
    if t != NULL and not t.is_idle:
        charge_system(t, take_interval(t, monotonic_ns()))
        sample_rss(t.proc)

cdef void cputime_switch(thread *prev, thread *next, uint64_t now) noexcept nogil:
    if not prev.is_idle:
        charge_system(prev, take_interval(prev, now))
        # Still runnable: the scheduler took the CPU away (Linux's nivcsw); else it blocked or left.
        if prev.state == THREAD_RUNNABLE:
            prev.nivcsw += 1
            cputime_atomic_add(&prev.proc.nivcsw, 1)
        else:
            prev.nvcsw += 1
            cputime_atomic_add(&prev.proc.nvcsw, 1)
    next.cputime_mark_ns = now

cdef void cputime_count_fault(process *p) noexcept nogil:
    cdef thread *t = sched_current()
    cputime_atomic_add(&p.min_flt, 1)
    if t != NULL and not t.is_idle and t.proc == p:
        t.min_flt += 1

cdef void cputime_reap_child(process *parent, process *child) noexcept nogil:
    cdef uint64_t child_rss = child.maxrss_pages if child.maxrss_pages > child.cmaxrss_pages \
        else child.cmaxrss_pages
    parent.cutime_ns += cputime_atomic_read(&child.utime_ns) + child.cutime_ns
    parent.cstime_ns += cputime_atomic_read(&child.stime_ns) + child.cstime_ns
    parent.cnvcsw += child.nvcsw + child.cnvcsw
    parent.cnivcsw += child.nivcsw + child.cnivcsw
    parent.cmin_flt += child.min_flt + child.cmin_flt
    if child_rss > parent.cmaxrss_pages:
        parent.cmaxrss_pages = child_rss

cdef uint64_t running_interval(thread *t) noexcept nogil:
    cdef uint64_t now = monotonic_ns()
    return now - t.cputime_mark_ns if now > t.cputime_mark_ns else 0

cdef void cputime_thread_now(thread *t, uint64_t *user_ns, uint64_t *system_ns) noexcept nogil:
    # Called by t itself from a system call: the open interval is kernel time.
    user_ns[0] = t.utime_ns
    system_ns[0] = t.stime_ns + running_interval(t)

cdef void cputime_process_now(thread *t, uint64_t *user_ns, uint64_t *system_ns) noexcept nogil:
    user_ns[0] = cputime_atomic_read(&t.proc.utime_ns)
    system_ns[0] = cputime_atomic_read(&t.proc.stime_ns) + running_interval(t)

cdef uint64_t cputime_maxrss_pages(process *p) noexcept nogil:
    sample_rss(p)
    return p.maxrss_pages
