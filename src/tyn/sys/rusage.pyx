# Resource usage: getrusage, times, sysinfo (kernel/sys.c, kernel/sys.c do_sysinfo).
# CPU times come from proc/cputime (charged at kernel entry/exit and context switches).
from libc.stdint cimport int64_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memset
from tyn.arch.tsc cimport monotonic_ns, NSEC_PER_SEC
from tyn.arch.uaccess cimport copy_to_user
from tyn.mm.pmm cimport pmm_total_count, pmm_free_count
from tyn.proc.cputime cimport cputime_thread_now, cputime_process_now, cputime_maxrss_pages
from tyn.proc.sched cimport sched_current
from tyn.proc.task cimport thread, process, task_count_live
from tyn.proc.waitq cimport waitq_lock, waitq_unlock
from tyn.sys.errno cimport EFAULT, EINVAL
from tyn.sys.timeutil cimport linux_timeval

cdef enum:
    RUSAGE_SELF = 0
    RUSAGE_CHILDREN = -1
    RUSAGE_THREAD = 1
    USER_HZ = 100                   # clock_t ticks of times() (Linux's USER_HZ on x86)
    NSEC_PER_USEC = 1000
    PAGE_SIZE_KB = 4                # ru_maxrss is in kilobytes
    PAGE_SIZE_BYTES = 4096
    # Load averages (include/linux/sched/loadavg.h): fixed point, 11 fraction bits,
    # folded every LOAD_FREQ with the decay factors 1/exp(5s/1min), 5 min, 15 min.
    FSHIFT = 11
    FIXED_1 = 1 << FSHIFT
    LOAD_FREQ_SEC = 5
    EXP_1 = 1884
    EXP_5 = 2014
    EXP_15 = 2037
    SI_LOAD_SHIFT = 16              # sysinfo reports loads << 16
    LOAD_INTERVALS_MAX = 2000       # after ~3 h without a fold the old loads have decayed

cdef struct linux_rusage:
    linux_timeval ru_utime
    linux_timeval ru_stime
    int64_t ru_maxrss
    int64_t ru_ixrss
    int64_t ru_idrss
    int64_t ru_isrss
    int64_t ru_minflt
    int64_t ru_majflt
    int64_t ru_nswap
    int64_t ru_inblock
    int64_t ru_oublock
    int64_t ru_msgsnd
    int64_t ru_msgrcv
    int64_t ru_nsignals
    int64_t ru_nvcsw
    int64_t ru_nivcsw

cdef struct linux_tms:
    int64_t tms_utime
    int64_t tms_stime
    int64_t tms_cutime
    int64_t tms_cstime

cdef struct linux_sysinfo:
    int64_t uptime
    uint64_t loads[3]
    uint64_t totalram
    uint64_t freeram
    uint64_t sharedram
    uint64_t bufferram
    uint64_t totalswap
    uint64_t freeswap
    uint16_t procs
    uint16_t pad
    uint64_t totalhigh
    uint64_t freehigh
    uint32_t mem_unit

# The load averages, FIXED_1-scaled; folded under waitq_lock when sysinfo reads them.
cdef uint64_t avenrun[3]
cdef uint64_t load_folded_until_ns

cdef void put_timeval(linux_timeval *tv, uint64_t ns) noexcept nogil:
    tv.tv_sec = <int64_t>(ns // NSEC_PER_SEC)
    tv.tv_usec = <int64_t>((ns % NSEC_PER_SEC) // NSEC_PER_USEC)

cdef int64_t sys_getrusage(uint64_t who, uint64_t user_usage) noexcept nogil:
    cdef linux_rusage r
    cdef thread *t = sched_current()
    cdef process *p = t.proc
    cdef uint64_t user_ns = 0, system_ns = 0, rss
    cdef int64_t w = <int64_t>who
    memset(&r, 0, sizeof(r))
    if w == RUSAGE_SELF:
        cputime_process_now(t, &user_ns, &system_ns)
        r.ru_nvcsw = <int64_t>p.nvcsw
        r.ru_nivcsw = <int64_t>p.nivcsw
        r.ru_minflt = <int64_t>p.min_flt
        r.ru_maxrss = <int64_t>(cputime_maxrss_pages(p) * PAGE_SIZE_KB)
    elif w == RUSAGE_THREAD:
        cputime_thread_now(t, &user_ns, &system_ns)
        r.ru_nvcsw = <int64_t>t.nvcsw
        r.ru_nivcsw = <int64_t>t.nivcsw
        r.ru_minflt = <int64_t>t.min_flt
        r.ru_maxrss = <int64_t>(cputime_maxrss_pages(p) * PAGE_SIZE_KB)
    elif w == RUSAGE_CHILDREN:
        user_ns = p.cutime_ns
        system_ns = p.cstime_ns
        r.ru_nvcsw = <int64_t>p.cnvcsw
        r.ru_nivcsw = <int64_t>p.cnivcsw
        r.ru_minflt = <int64_t>p.cmin_flt
        r.ru_maxrss = <int64_t>(p.cmaxrss_pages * PAGE_SIZE_KB)
    else:
        return -EINVAL
    put_timeval(&r.ru_utime, user_ns)
    put_timeval(&r.ru_stime, system_ns)
    return -EFAULT if copy_to_user(user_usage, &r, sizeof(r)) != 0 else 0

cdef int64_t rusage_put_wait(uint64_t user_usage, const wait_result *res) noexcept nogil:
    cdef linux_rusage r
    memset(&r, 0, sizeof(r))
    put_timeval(&r.ru_utime, res.utime_ns)
    put_timeval(&r.ru_stime, res.stime_ns)
    r.ru_nvcsw = <int64_t>res.nvcsw
    r.ru_nivcsw = <int64_t>res.nivcsw
    r.ru_minflt = <int64_t>res.min_flt
    r.ru_maxrss = <int64_t>(res.maxrss_pages * PAGE_SIZE_KB)
    return -EFAULT if copy_to_user(user_usage, &r, sizeof(r)) != 0 else 0

cdef int64_t ticks(uint64_t ns) noexcept nogil:
    return <int64_t>(ns // (NSEC_PER_SEC // USER_HZ))

cdef int64_t sys_times(uint64_t user_tms) noexcept nogil:
    cdef linux_tms tms
    cdef thread *t = sched_current()
    cdef uint64_t user_ns = 0, system_ns = 0
    if user_tms != 0:
        cputime_process_now(t, &user_ns, &system_ns)
        tms.tms_utime = ticks(user_ns)
        tms.tms_stime = ticks(system_ns)
        tms.tms_cutime = ticks(t.proc.cutime_ns)
        tms.tms_cstime = ticks(t.proc.cstime_ns)
        if copy_to_user(user_tms, &tms, sizeof(tms)) != 0:
            return -EFAULT
    return ticks(monotonic_ns())

cdef uint64_t calc_load(uint64_t load, uint64_t exp, uint64_t active) noexcept nogil:
    """Linux's calc_load: load * exp + active * (1 - exp), rounded up while rising."""
    cdef uint64_t newload = load * exp + active * (FIXED_1 - exp)
    if active >= load:
        newload += FIXED_1 - 1
    return newload // FIXED_1

cdef void fold_load(uint64_t now) noexcept nogil:
    """Fold the LOAD_FREQ intervals that ended since the last fold, with the number of
    threads running or runnable now (as Linux's calc_load_n folds missed NO_HZ intervals)."""
    global load_folded_until_ns
    cdef uint64_t freq = <uint64_t>LOAD_FREQ_SEC * NSEC_PER_SEC
    cdef uint64_t intervals, i
    cdef int busy = 0
    if now < load_folded_until_ns + freq:
        return
    intervals = (now - load_folded_until_ns) // freq
    load_folded_until_ns += intervals * freq
    if intervals > LOAD_INTERVALS_MAX:
        intervals = LOAD_INTERVALS_MAX
    task_count_live(&busy)
    for i in range(intervals):
        avenrun[0] = calc_load(avenrun[0], EXP_1, <uint64_t>busy * FIXED_1)
        avenrun[1] = calc_load(avenrun[1], EXP_5, <uint64_t>busy * FIXED_1)
        avenrun[2] = calc_load(avenrun[2], EXP_15, <uint64_t>busy * FIXED_1)

cdef int64_t sys_sysinfo(uint64_t user_info) noexcept nogil:
    cdef linux_sysinfo info
    cdef uint64_t now = monotonic_ns(), flags
    cdef int i, threads
    memset(&info, 0, sizeof(info))
    info.uptime = <int64_t>(now // NSEC_PER_SEC) + (1 if now % NSEC_PER_SEC else 0)
    flags = waitq_lock()
    fold_load(now)
    threads = task_count_live(NULL)
    for i in range(3):
        info.loads[i] = avenrun[i] << (SI_LOAD_SHIFT - FSHIFT)
    waitq_unlock(flags)
    info.totalram = pmm_total_count() * PAGE_SIZE_BYTES
    info.freeram = pmm_free_count() * PAGE_SIZE_BYTES
    info.procs = <uint16_t>threads
    info.mem_unit = 1
    return -EFAULT if copy_to_user(user_info, &info, sizeof(info)) != 0 else 0
