# System information: uname, resource limits, getrandom (over lib/crng), prctl.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memset, memcpy
from tyn.lib.crng cimport crng_random_bytes, crng_ready, crng_seed_boot
from tyn.arch.uaccess cimport copy_to_user, copy_from_user, strncpy_from_user
from tyn.proc.task cimport thread
from tyn.fs.context cimport fs_current
from tyn.fs.fdtable cimport fdtable_set_limit, fdtable_get_limit
from tyn.proc.sched cimport sched_current
from tyn.sys.errno cimport EFAULT, EINVAL, ESRCH, EPERM, ENAMETOOLONG, EAGAIN
from tyn.proc.task cimport process

cdef enum:
    UTS_FIELD = 65                  # struct new_utsname: six char[65]
    UTS_FIELDS = 6
    HOSTNAME_MAX = 64
    GRND_NONBLOCK = 1
    GRND_RANDOM = 2
    GRND_INSECURE = 4
    MAX_RW_COUNT = 0x7ffff000       # INT_MAX & PAGE_MASK: what one read/getrandom moves at most
    PAGE_BYTES = 4096
    GETRANDOM_CHUNK = 512
    # resources (include/uapi/asm-generic/resource.h)
    RLIMIT_STACK = 3
    RLIMIT_NOFILE = 7
    RLIMIT_NPROC = 6
    RLIMIT_SIGPENDING = 11
    RLIMIT_NLIMITS = 16
    RLIM_INFINITY = -1
    STACK_LIMIT = 8 * 1024 * 1024
    # prctl options
    PR_SET_PDEATHSIG = 1
    PR_GET_PDEATHSIG = 2
    PR_GET_DUMPABLE = 3
    PR_SET_DUMPABLE = 4
    PR_SET_NAME = 15
    PR_GET_NAME = 16
    TASK_COMM_LEN = 16
    SUID_DUMP_DISABLE = 0
    SUID_DUMP_USER = 1
    SIGNAL_MAX = 64                 # _NSIG

cdef struct rlimit64:
    uint64_t cur
    uint64_t max

cdef char hostname[HOSTNAME_MAX + 1]

cdef void info_set_hostname(const char *name, uint64_t length) noexcept nogil:
    cdef uint64_t i, n = 0
    for i in range(length):
        if name[i] == 10 or name[i] == 13 or name[i] == 0 or n >= HOSTNAME_MAX:
            break
        hostname[n] = name[i]
        n += 1
    hostname[n] = 0

cdef void put_field(char *uts, int index, const char *text) noexcept nogil:
    cdef int i = 0
    while text[i] != 0 and i < UTS_FIELD - 1:
        uts[index * UTS_FIELD + i] = text[i]
        i += 1

cdef int64_t sys_uname(uint64_t user_buf) noexcept nogil:
    cdef char uts[UTS_FIELD * UTS_FIELDS]
    memset(uts, 0, sizeof(uts))
    put_field(uts, 0, b"Linux")
    if hostname[0] != 0:
        put_field(uts, 1, hostname)
    else:
        put_field(uts, 1, b"localhost")
    # ERTS parses the release (CLOCK_MONOTONIC is trusted from 2.6.33 on).
    put_field(uts, 2, b"6.1.0-tyn")
    put_field(uts, 3, b"#1 SMP Tyn 0.1.0")
    put_field(uts, 4, b"x86_64")
    put_field(uts, 5, b"(none)")
    return -EFAULT if copy_to_user(user_buf, uts, sizeof(uts)) != 0 else 0

cdef void info_random_bytes(unsigned char *buf, uint64_t n) noexcept nogil:
    crng_random_bytes(<uint8_t *>buf, n)

cdef int64_t sys_getrandom(uint64_t user_buf, uint64_t count, uint64_t flags) noexcept nogil:
    """Linux 6.1's getrandom: one generator behind every flag; GRND_INSECURE never waits,
    the others wait for the first seeding (done at boot, so in practice never)."""
    cdef uint8_t chunk[GETRANDOM_CHUNK]
    cdef uint64_t done = 0, n, i
    cdef thread *t = sched_current()
    if flags & ~(<uint64_t>(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)):
        return -EINVAL
    if (flags & (GRND_INSECURE | GRND_RANDOM)) == (GRND_INSECURE | GRND_RANDOM):
        return -EINVAL
    if not crng_ready() and not (flags & GRND_INSECURE):
        if flags & GRND_NONBLOCK:
            return -EAGAIN
        crng_seed_boot()            # Linux's wait_for_random_bytes generates jitter entropy
    if count > MAX_RW_COUNT:
        count = MAX_RW_COUNT
    while done < count:
        n = count - done if count - done < GETRANDOM_CHUNK else GETRANDOM_CHUNK
        crng_random_bytes(chunk, n)
        if copy_to_user(user_buf + done, chunk, n) != 0:
            # As Linux's copy_to_iter: the bytes up to the fault count.
            i = 0
            while i < n and copy_to_user(user_buf + done + i, chunk + i, 1) == 0:
                i += 1
            done += i
            memset(chunk, 0, sizeof(chunk))
            return <int64_t>done if done > 0 else -EFAULT
        done += n
        # As Linux: a pending signal ends a long request at a page boundary.
        if done < count and done % PAGE_BYTES == 0 and (t.signal_pending & ~t.signal_mask):
            break
    memset(chunk, 0, sizeof(chunk))
    return <int64_t>done

cdef void current_limit(uint64_t resource, rlimit64 *out) noexcept nogil:
    out.cur = <uint64_t>RLIM_INFINITY
    out.max = <uint64_t>RLIM_INFINITY
    if resource == RLIMIT_STACK:
        out.cur = STACK_LIMIT
    elif resource == RLIMIT_NOFILE:
        fdtable_get_limit(&fs_current().fdt, &out.cur, &out.max)
    elif resource == RLIMIT_NPROC:
        out.cur = sched_current().proc.rlimit_nproc_cur
        out.max = sched_current().proc.rlimit_nproc_max
    elif resource == RLIMIT_SIGPENDING:
        out.cur = sched_current().proc.rlimit_sigpending_cur
        out.max = sched_current().proc.rlimit_sigpending_max

cdef void set_process_limit(process *p, uint64_t resource, const rlimit64 *new) noexcept nogil:
    """Limits kept per process (fork copies them).  Raising the hard limit needs
    CAP_SYS_RESOURCE, which every Tyn process has (uid 0).  RLIMIT_NPROC is recorded and
    reported but, as Linux does for root (copy_process exempts INIT_USER), not enforced:
    the process table (nproc=) is the system-wide cap, Linux's threads-max."""
    if resource == RLIMIT_NPROC:
        p.rlimit_nproc_cur = new.cur
        p.rlimit_nproc_max = new.max
    else:
        p.rlimit_sigpending_cur = new.cur
        p.rlimit_sigpending_max = new.max

cdef int64_t sys_prlimit64(uint64_t pid, uint64_t resource, uint64_t user_new, uint64_t user_old) noexcept nogil:
    cdef rlimit64 old, new
    cdef int64_t rc
    if pid != 0 and <int64_t>pid != sched_current().proc.pid:
        return -ESRCH
    if resource >= RLIMIT_NLIMITS:
        return -EINVAL
    current_limit(resource, &old)
    if user_new != 0:
        if copy_from_user(&new, user_new, sizeof(new)) != 0:
            return -EFAULT
        if new.cur > new.max:
            return -EINVAL
        if resource == RLIMIT_NOFILE:
            rc = fdtable_set_limit(&fs_current().fdt, new.cur, new.max)
            if rc < 0:
                return rc
        elif resource == RLIMIT_NPROC or resource == RLIMIT_SIGPENDING:
            set_process_limit(sched_current().proc, resource, &new)
        elif new.max != old.max or new.cur != old.cur:
            return -EPERM           # other limits are fixed here
    if user_old != 0 and copy_to_user(user_old, &old, sizeof(old)) != 0:
        return -EFAULT
    return 0

cdef int64_t sys_getrlimit(uint64_t resource, uint64_t user_old) noexcept nogil:
    return sys_prlimit64(0, resource, 0, user_old)

cdef void info_exec_comm(thread *t, const char *path) noexcept nogil:
    """A new program image: the thread is named after the file (Linux's kbasename of the
    path given to execve, cut to TASK_COMM_LEN - 1) and the process is dumpable again."""
    cdef const char *base = path
    cdef int i = 0
    while path[i] != 0:
        if path[i] == 47:           # '/'
            base = path + i + 1
        i += 1
    memset(t.comm, 0, TASK_COMM_LEN)
    i = 0
    while base[i] != 0 and i < TASK_COMM_LEN - 1:
        t.comm[i] = base[i]
        i += 1
    t.proc.dumpable_cleared = False

cdef int64_t sys_prctl(uint64_t option, uint64_t arg2, uint64_t arg3, uint64_t arg4, uint64_t arg5) noexcept nogil:
    cdef thread *t = sched_current()
    cdef char name[TASK_COMM_LEN]
    cdef int value
    cdef int64_t n
    if option == PR_SET_NAME:
        # Per thread; a name longer than 15 bytes is cut (Linux's strncpy_from_user).
        memset(name, 0, TASK_COMM_LEN)
        n = strncpy_from_user(name, arg2, TASK_COMM_LEN - 1)
        if n < 0 and n != -ENAMETOOLONG:    # longer names are cut, not refused
            return -EFAULT
        name[TASK_COMM_LEN - 1] = 0
        memcpy(t.comm, name, TASK_COMM_LEN)
        return 0
    if option == PR_GET_NAME:
        memcpy(name, t.comm, TASK_COMM_LEN)
        name[TASK_COMM_LEN - 1] = 0
        return -EFAULT if copy_to_user(arg2, name, TASK_COMM_LEN) != 0 else 0
    if option == PR_SET_PDEATHSIG:
        if arg2 > SIGNAL_MAX:
            return -EINVAL
        sched_current().proc.pdeath_signal = <int>arg2
        return 0
    if option == PR_GET_PDEATHSIG:
        value = sched_current().proc.pdeath_signal
        return -EFAULT if copy_to_user(arg2, &value, 4) != 0 else 0
    if option == PR_GET_DUMPABLE:
        return SUID_DUMP_DISABLE if t.proc.dumpable_cleared else SUID_DUMP_USER
    if option == PR_SET_DUMPABLE:
        if arg2 != SUID_DUMP_DISABLE and arg2 != SUID_DUMP_USER:
            return -EINVAL
        t.proc.dumpable_cleared = arg2 == SUID_DUMP_DISABLE
        return 0
    return -EINVAL
