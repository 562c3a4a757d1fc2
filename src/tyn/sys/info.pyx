# System information: uname, resource limits, randomness, prctl.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport cpuid, rdtsc, memset, memcpy
from tyn.arch.uaccess cimport copy_to_user, copy_from_user
from tyn.fs.context cimport fs_current
from tyn.fs.fdtable cimport fdtable_set_limit, fdtable_get_limit
from tyn.proc.sched cimport sched_current
from tyn.proc.process cimport process_get_limit
from tyn.sys.errno cimport EFAULT, EINVAL, ESRCH, EPERM

cdef extern from *:
    """
    /* RDRAND/RDSEED: 1 and the value on success (carry set), 0 when the CPU had none ready. */
    static inline int tyn_rdrand64(unsigned long long *out) {
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok));
        return ok;
    }
    """
    int tyn_rdrand64(unsigned long long *out) nogil
    # Knuth's MMIX linear congruential generator.
    const uint64_t LCG_MULTIPLIER "6364136223846793005ULL"
    const uint64_t LCG_INCREMENT "1442695040888963407ULL"

cdef enum:
    UTS_FIELD = 65                  # struct new_utsname: six char[65]
    UTS_FIELDS = 6
    HOSTNAME_MAX = 64
    CPUID_FEATURES = 1
    CPUID_ECX_RDRAND = 1 << 30
    RDRAND_RETRIES = 10
    GRND_NONBLOCK = 1
    GRND_RANDOM = 2
    GRND_INSECURE = 4
    GETRANDOM_MAX = 33554431        # Linux caps one call at INT_MAX >> 6 bytes... of 32 MiB
    # resources (include/uapi/asm-generic/resource.h)
    RLIMIT_STACK = 3
    RLIMIT_NOFILE = 7
    RLIMIT_NPROC = 6
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
    SIGNAL_MAX = 64                 # _NSIG

cdef struct rlimit64:
    uint64_t cur
    uint64_t max

cdef char hostname[HOSTNAME_MAX + 1]
cdef char comm[TASK_COMM_LEN]       # PR_SET_NAME: per thread in Linux, one name kept here
cdef bint dumpable_cleared
cdef uint64_t entropy_state

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
    global entropy_state
    cdef uint32_t r[4]
    cdef unsigned long long v = 0
    cdef uint64_t i = 0, k
    cdef int tries
    cdef bint have_rdrand
    cpuid(CPUID_FEATURES, 0, r)
    have_rdrand = (r[2] & CPUID_ECX_RDRAND) != 0
    while i < n:
        tries = 0
        if have_rdrand:
            while tries < RDRAND_RETRIES and not tyn_rdrand64(&v):
                tries += 1
        if not have_rdrand or tries == RDRAND_RETRIES:
            # No RDRAND: a TSC-seeded generator (not cryptographic; said at boot by kmain).
            entropy_state ^= rdtsc()
            entropy_state = entropy_state * LCG_MULTIPLIER + LCG_INCREMENT
            v = entropy_state ^ (entropy_state >> 29)
        for k in range(8):
            if i < n:
                buf[i] = <unsigned char>(v >> (8 * k))
                i += 1

cdef int64_t sys_getrandom(uint64_t user_buf, uint64_t count, uint64_t flags) noexcept nogil:
    cdef unsigned char chunk[256]
    cdef uint64_t done = 0, n
    if flags & ~(<uint64_t>(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)):
        return -EINVAL
    if count > GETRANDOM_MAX:
        count = GETRANDOM_MAX
    while done < count:
        n = count - done if count - done < sizeof(chunk) else sizeof(chunk)
        info_random_bytes(chunk, n)
        if copy_to_user(user_buf + done, chunk, n) != 0:
            return <int64_t>done if done > 0 else -EFAULT
        done += n
    return <int64_t>done

cdef void current_limit(uint64_t resource, rlimit64 *out) noexcept nogil:
    out.cur = <uint64_t>RLIM_INFINITY
    out.max = <uint64_t>RLIM_INFINITY
    if resource == RLIMIT_STACK:
        out.cur = STACK_LIMIT
    elif resource == RLIMIT_NOFILE:
        fdtable_get_limit(&fs_current().fdt, &out.cur, &out.max)
    elif resource == RLIMIT_NPROC:
        out.cur = <uint64_t>process_get_limit()     # what fork enforces (nproc=)
        out.max = out.cur

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
        elif new.max != old.max or new.cur != old.cur:
            return -EPERM           # other limits are fixed here
    if user_old != 0 and copy_to_user(user_old, &old, sizeof(old)) != 0:
        return -EFAULT
    return 0

cdef int64_t sys_getrlimit(uint64_t resource, uint64_t user_old) noexcept nogil:
    return sys_prlimit64(0, resource, 0, user_old)

cdef int64_t sys_prctl(uint64_t option, uint64_t arg2, uint64_t arg3, uint64_t arg4, uint64_t arg5) noexcept nogil:
    global dumpable_cleared
    cdef int value
    if option == PR_SET_NAME:
        if copy_from_user(comm, arg2, TASK_COMM_LEN - 1) != 0:
            return -EFAULT
        comm[TASK_COMM_LEN - 1] = 0
        return 0
    if option == PR_GET_NAME:
        return -EFAULT if copy_to_user(arg2, comm, TASK_COMM_LEN) != 0 else 0
    if option == PR_SET_PDEATHSIG:
        if arg2 > SIGNAL_MAX:
            return -EINVAL
        sched_current().proc.pdeath_signal = <int>arg2
        return 0
    if option == PR_GET_PDEATHSIG:
        value = sched_current().proc.pdeath_signal
        return -EFAULT if copy_to_user(arg2, &value, 4) != 0 else 0
    if option == PR_GET_DUMPABLE:
        return 0 if dumpable_cleared else 1
    if option == PR_SET_DUMPABLE:
        if arg2 > 1:
            return -EINVAL
        dumpable_cleared = arg2 == 0
        return 0
    return -EINVAL
