# poll, ppoll, select, pselect6 (see poll.pxd): Linux's argument checks and error order,
# struct pollfd / fd_set semantics, and the remaining time written back for the timeouts
# that Linux updates (ppoll, select, pselect6).  ppoll and pselect6 apply their signal
# mask for the wait (tyn.sys.signal); an interrupted wait returns -ERESTARTNOHAND, which
# becomes EINTR when a handler runs (the old mask comes back after it).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t, int32_t, int16_t
from tyn.fs.vfs cimport vfs_file, vfs_poll, O_PATH, POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL
from tyn.fs.fdtable cimport fdtable_get
from tyn.fs.context cimport fs_context, fs_current
from tyn.mm.heap cimport kmalloc, kcalloc, kfree
from tyn.arch.cpu cimport memset, memcpy
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.arch.tsc cimport monotonic_ns, NSEC_PER_SEC
from tyn.proc.waitq cimport waitq_lock, waitq_unlock, waitq_sleep, io_waitq
from tyn.proc.task cimport WAKE_TIMEOUT, WAKE_INTERRUPTED
from tyn.sys.timeutil cimport linux_timespec, linux_timeval
from tyn.sys.errno cimport EINVAL, EFAULT, EBADF, ENOMEM, ERESTARTNOHAND
from tyn.sys.signal cimport signal_wait_mask_begin, signal_wait_mask_end

cdef enum:
    POLLFD_SIZE = 8
    POLLRDNORM_ = 0x040
    POLLRDBAND_ = 0x080
    POLLWRNORM_ = 0x100
    POLLWRBAND_ = 0x200
    POLLIN_SET = POLLRDNORM_ | POLLRDBAND_ | POLLIN | POLLHUP | POLLERR
    POLLOUT_SET = POLLWRBAND_ | POLLWRNORM_ | POLLOUT | POLLERR
    POLLEX_SET = POLLPRI
    BITS_PER_WORD = 64
    SELECT_MIN_FDS = 64             # Linux's smallest fd table (NR_OPEN_DEFAULT)

cdef struct linux_pollfd:
    int32_t fd
    int16_t events
    int16_t revents

cdef struct poll_args:
    linux_pollfd *fds
    uint64_t n

cdef struct select_args:
    uint64_t n
    uint64_t *inp               # each: words(n) words; NULL when the user passed NULL
    uint64_t *outp
    uint64_t *exp
    uint64_t *res_in
    uint64_t *res_out
    uint64_t *res_ex

# ------------------------------------------------------------------ blocking

cdef int64_t poll_block(poll_scan_fn scan, void *arg, uint64_t deadline_ns) noexcept nogil:
    cdef uint64_t flags = waitq_lock()
    cdef int64_t n = 0
    cdef int reason
    while True:
        if deadline_ns != 0 and monotonic_ns() >= deadline_ns:
            n = scan(arg)
            break
        reason = waitq_sleep(io_waitq(), deadline_ns)
        n = scan(arg)
        if n != 0 or reason == WAKE_TIMEOUT:
            break
        if reason == WAKE_INTERRUPTED:
            n = -ERESTARTNOHAND
            break
    waitq_unlock(flags)
    return n

cdef int64_t run(poll_scan_fn scan, void *arg, bint has_timeout, uint64_t timeout_ns) noexcept nogil:
    # Scan once; block unless the timeout is zero.  has_timeout false: wait forever.
    cdef uint64_t flags, deadline = 0
    cdef int64_t n
    if has_timeout and timeout_ns != 0:
        deadline = monotonic_ns() + timeout_ns
    flags = waitq_lock()
    n = scan(arg)
    waitq_unlock(flags)
    if n == 0 and (not has_timeout or timeout_ns != 0):
        n = poll_block(scan, arg, deadline)
    return n

cdef void write_remaining(uint64_t uts, bint timeval, uint64_t deadline) noexcept nogil:
    # Linux's poll_select_finish: the time left (0 once passed); a failing copy is ignored.
    cdef uint64_t now = monotonic_ns()
    cdef uint64_t left = deadline - now if deadline > now else 0
    cdef linux_timespec ts
    cdef linux_timeval tv
    if timeval:
        tv.tv_sec = <int64_t>(left // NSEC_PER_SEC)
        tv.tv_usec = <int64_t>((left % NSEC_PER_SEC) // POLL_NSEC_PER_USEC)
        copy_to_user(uts, &tv, sizeof(tv))
    else:
        ts.tv_sec = <int64_t>(left // NSEC_PER_SEC)
        ts.tv_nsec = <int64_t>(left % NSEC_PER_SEC)
        copy_to_user(uts, &ts, sizeof(ts))

cdef vfs_file *file_at(fs_context *ctx, int64_t fd) noexcept nogil:
    cdef vfs_file *f
    if ctx == NULL or fd < 0:
        return NULL
    f = fdtable_get(&ctx.fdt, <uint64_t>fd)
    if f != NULL and (f.flags & O_PATH):
        return NULL
    return f

# ------------------------------------------------------------------ poll

cdef int64_t poll_scan(void *arg) noexcept nogil:
    cdef poll_args *a = <poll_args *>arg
    cdef fs_context *ctx = fs_current()
    cdef linux_pollfd *p
    cdef vfs_file *f
    cdef uint64_t i
    cdef int64_t count = 0
    cdef uint32_t mask
    for i in range(a.n):
        p = &a.fds[i]
        mask = 0
        if p.fd >= 0:
            f = file_at(ctx, p.fd)
            if f == NULL:
                mask = POLLNVAL
            else:
                mask = vfs_poll(f) & (<uint32_t><uint16_t>p.events | POLLERR | POLLHUP)
        p.revents = <int16_t>mask
        if mask != 0:
            count += 1
    return count

cdef int64_t do_poll(uint64_t ufds, uint64_t nfds, bint has_timeout, uint64_t timeout_ns) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef uint32_t n = <uint32_t>nfds
    cdef poll_args a
    cdef int64_t count
    cdef uint64_t i
    if ctx != NULL and n > ctx.fdt.nofile_cur:
        return -EINVAL
    a.n = n
    a.fds = NULL
    if n > 0:
        a.fds = <linux_pollfd *>kmalloc(<uint64_t>n * POLLFD_SIZE)
        if a.fds == NULL:
            return -ENOMEM
        if copy_from_user(a.fds, ufds, <uint64_t>n * POLLFD_SIZE) != 0:
            kfree(a.fds)
            return -EFAULT
    count = run(poll_scan, &a, has_timeout, timeout_ns)
    for i in range(a.n):            # revents only, as Linux (even after EINTR)
        if copy_to_user(ufds + i * POLLFD_SIZE + 6, &a.fds[i].revents, 2) != 0:
            count = -EFAULT
            break
    kfree(a.fds)
    return count

cdef int64_t sys_poll(uint64_t ufds, uint64_t nfds, uint64_t timeout) noexcept nogil:
    cdef int32_t ms = <int32_t>timeout
    return do_poll(ufds, nfds, ms >= 0, <uint64_t>ms * POLL_NSEC_PER_MSEC if ms > 0 else 0)

cdef int64_t sys_ppoll(uint64_t ufds, uint64_t nfds, uint64_t utsp, uint64_t usigmask,
                       uint64_t sigsetsize) noexcept nogil:
    cdef linux_timespec ts
    cdef uint64_t ns = 0, deadline
    cdef int64_t rc
    if utsp != 0:
        if copy_from_user(&ts, utsp, sizeof(ts)) != 0:
            return -EFAULT
        if ts.tv_sec < 0 or ts.tv_nsec < 0 or ts.tv_nsec >= NSEC_PER_SEC:
            return -EINVAL
        ns = <uint64_t>ts.tv_sec * NSEC_PER_SEC + <uint64_t>ts.tv_nsec
    rc = signal_wait_mask_begin(usigmask, sigsetsize)
    if rc < 0:
        return rc
    deadline = monotonic_ns() + ns
    rc = do_poll(ufds, nfds, utsp != 0, ns)
    if utsp != 0 and ns != 0:
        write_remaining(utsp, False, deadline)
    signal_wait_mask_end(rc == -ERESTARTNOHAND)
    return rc

# ------------------------------------------------------------------ select

cdef inline uint64_t words(uint64_t n) noexcept nogil:
    return (n + BITS_PER_WORD - 1) // BITS_PER_WORD

cdef inline bint bit(uint64_t *set, uint64_t i) noexcept nogil:
    return set != NULL and (set[i // BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1

cdef int64_t select_scan(void *arg) noexcept nogil:
    cdef select_args *a = <select_args *>arg
    cdef fs_context *ctx = fs_current()
    cdef uint64_t i, w = words(a.n)
    cdef uint64_t one
    cdef uint32_t mask
    cdef bint bi, bo, be
    cdef vfs_file *f
    cdef int64_t count = 0
    memset(a.res_in, 0, w * 8)
    memset(a.res_out, 0, w * 8)
    memset(a.res_ex, 0, w * 8)
    for i in range(a.n):
        bi = bit(a.inp, i)
        bo = bit(a.outp, i)
        be = bit(a.exp, i)
        if not (bi or bo or be):
            continue
        f = file_at(ctx, <int64_t>i)
        if f == NULL:
            return -EBADF               # closed since the check (another thread)
        mask = vfs_poll(f)
        one = (<uint64_t>1) << (i % BITS_PER_WORD)
        if bi and (mask & POLLIN_SET):
            a.res_in[i // BITS_PER_WORD] |= one
            count += 1
        if bo and (mask & POLLOUT_SET):
            a.res_out[i // BITS_PER_WORD] |= one
            count += 1
        if be and (mask & POLLEX_SET):
            a.res_ex[i // BITS_PER_WORD] |= one
            count += 1
    return count

cdef int64_t get_set(uint64_t uset, uint64_t *dst, uint64_t n) noexcept nogil:
    cdef uint64_t w = words(n)
    if uset == 0:
        return 0
    if copy_from_user(dst, uset, w * 8) != 0:
        return -EFAULT
    if n % BITS_PER_WORD:
        dst[w - 1] &= ((<uint64_t>1) << (n % BITS_PER_WORD)) - 1
    return 0

cdef int64_t core_select(int64_t n, uint64_t uin, uint64_t uout, uint64_t uex,
                         bint has_timeout, uint64_t timeout_ns) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef select_args a
    cdef uint64_t w, i, max_fds
    cdef uint64_t *mem
    cdef int64_t rc
    if n < 0:
        return -EINVAL
    max_fds = ctx.fdt.cap if ctx != NULL else 0
    if max_fds < SELECT_MIN_FDS:
        max_fds = SELECT_MIN_FDS
    if <uint64_t>n > max_fds:
        n = <int64_t>max_fds
    a.n = <uint64_t>n
    w = words(a.n)
    mem = <uint64_t *>kcalloc(6 * w + 1, 8)
    if mem == NULL:
        return -ENOMEM
    a.inp = mem if uin != 0 else NULL
    a.outp = mem + w if uout != 0 else NULL
    a.exp = mem + 2 * w if uex != 0 else NULL
    a.res_in = mem + 3 * w
    a.res_out = mem + 4 * w
    a.res_ex = mem + 5 * w
    rc = get_set(uin, mem, a.n)
    if rc == 0:
        rc = get_set(uout, mem + w, a.n)
    if rc == 0:
        rc = get_set(uex, mem + 2 * w, a.n)
    if rc == 0:
        for i in range(a.n):            # every fd named must be open (Linux: max_select_fd)
            if (bit(a.inp, i) or bit(a.outp, i) or bit(a.exp, i)) and file_at(ctx, <int64_t>i) == NULL:
                rc = -EBADF
                break
    if rc == 0:
        rc = run(select_scan, &a, has_timeout, timeout_ns)
        if rc >= 0:                     # interrupted: the sets are left as they were
            if (uin != 0 and copy_to_user(uin, a.res_in, w * 8) != 0) or \
               (uout != 0 and copy_to_user(uout, a.res_out, w * 8) != 0) or \
               (uex != 0 and copy_to_user(uex, a.res_ex, w * 8) != 0):
                rc = -EFAULT
    kfree(mem)
    return rc

cdef int64_t sys_select(uint64_t n, uint64_t uin, uint64_t uout, uint64_t uex, uint64_t utv) noexcept nogil:
    cdef linux_timeval tv
    cdef int64_t sec, nsec, rc
    cdef uint64_t ns = 0, deadline
    if utv != 0:
        if copy_from_user(&tv, utv, sizeof(tv)) != 0:
            return -EFAULT
        # Linux normalises the microseconds (C division), then requires a valid timespec.
        sec = tv.tv_sec + tv.tv_usec // 1000000
        nsec = (tv.tv_usec % 1000000) * POLL_NSEC_PER_USEC
        if sec < 0 or nsec < 0:
            return -EINVAL
        ns = <uint64_t>sec * NSEC_PER_SEC + <uint64_t>nsec
    deadline = monotonic_ns() + ns
    rc = core_select(<int32_t>n, uin, uout, uex, utv != 0, ns)
    if utv != 0 and ns != 0:
        write_remaining(utv, True, deadline)
    return rc

cdef int64_t sys_pselect6(uint64_t n, uint64_t uin, uint64_t uout, uint64_t uex, uint64_t utsp,
                          uint64_t usig) noexcept nogil:
    cdef linux_timespec ts
    cdef uint64_t sig[2]                # { const sigset_t *ss; size_t ss_len }
    cdef uint64_t ns = 0, deadline
    cdef int64_t rc
    if utsp != 0:
        if copy_from_user(&ts, utsp, sizeof(ts)) != 0:
            return -EFAULT
        if ts.tv_sec < 0 or ts.tv_nsec < 0 or ts.tv_nsec >= NSEC_PER_SEC:
            return -EINVAL
        ns = <uint64_t>ts.tv_sec * NSEC_PER_SEC + <uint64_t>ts.tv_nsec
    if usig != 0:
        if copy_from_user(sig, usig, sizeof(sig)) != 0:
            return -EFAULT
        rc = signal_wait_mask_begin(sig[0], sig[1])
        if rc < 0:
            return rc
    deadline = monotonic_ns() + ns
    rc = core_select(<int32_t>n, uin, uout, uex, utsp != 0, ns)
    if utsp != 0 and ns != 0:
        write_remaining(utsp, False, deadline)
    signal_wait_mask_end(rc == -ERESTARTNOHAND)
    return rc
