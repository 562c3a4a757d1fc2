# epoll (see epoll.pxd) and its syscalls.  One CPU: interrupts off (waitq_lock) is the
# lock over every interest list; waits scan and copy out with it held (user-copy faults
# are resolved with interrupts off).
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t, int32_t
from tyn.fs.wakeups cimport io_wakeups
from tyn.fs.vfs cimport (vfs_file, vfs_file_ops, vfs_file_new, vfs_file_get, vfs_file_put, vfs_poll, O_RDWR, O_PATH)
from tyn.fs.fdtable cimport fdtable_install, fdtable_get
from tyn.fs.anoninode cimport anon_inode_stat
from tyn.fs.context cimport fs_context, fs_current
from tyn.mm.heap cimport kcalloc, kfree
from tyn.arch.cpu cimport memset, memcpy
from tyn.arch.uaccess cimport copy_from_user, copy_to_user, USER_ADDRESS_LIMIT
from tyn.arch.tsc cimport monotonic_ns
from tyn.proc.waitq cimport waitq_lock, waitq_unlock, io_notify
from tyn.sys.poll cimport poll_block, poll_scan_fn, POLL_NSEC_PER_MSEC
from tyn.sys.errno cimport EINVAL, EFAULT, EBADF, EEXIST, ENOENT, EPERM, ENOMEM, ENOSYS, EINTR, ERESTARTNOHAND
from tyn.sys.signal cimport signal_wait_mask_begin, signal_wait_mask_end

cdef extern from *:
    """
    #define EPOLL_ET_BIT 0x80000000u
    #define EPOLL_PRIVATE_BITS (0x80000000u | (1u << 30) | (1u << 29) | (1u << 28))
    #define EPOLL_MAX_EVENTS (0x7fffffff / 12)
    """
    const uint32_t EPOLL_ET_BIT
    const uint32_t EPOLL_PRIVATE_BITS
    const int64_t EPOLL_MAX_EVENTS

cdef enum:
    EXCLUSIVE_OK_BITS = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLEXCLUSIVE   # | EPOLLET
    EP_SIGSET_SIZE = 8

cdef struct epoll_inst

cdef struct epoll_item:
    epoll_item *next            # the epoll's list (scan order: reported items move last)
    epoll_item *file_next       # the watched file's list (vfs_file.epoll_links)
    epoll_inst *ep
    vfs_file *file              # no reference (see epoll.pxd)
    int32_t fd
    uint32_t events             # as given, | EPOLLERR | EPOLLHUP; private bits only once a
                                # one-shot item has fired
    uint64_t data
    uint32_t seen               # EPOLLET without wakeup counts: ready bits at the last scan
    bint pending                # EPOLLET with wakeup counts: on Linux's ready list
    uint64_t seen_in            # the file's wakeup counts when the item last looked
    uint64_t seen_out
    uint64_t seen_all

cdef struct epoll_inst:
    epoll_item *head
    uint64_t count

cdef struct wait_args:
    epoll_inst *ep
    uint64_t uevents
    int64_t maxevents

cdef vfs_file_ops ep_ops
cdef bint ops_ready
cdef int nest_depth             # recursion guard for epolls inside epolls

# ------------------------------------------------------------------ items

cdef inline uint32_t wanted(epoll_item *it) noexcept nogil:
    return it.events & ~EPOLL_PRIVATE_BITS

cdef uint32_t item_poll(epoll_item *it) noexcept nogil:
    cdef uint32_t want = wanted(it)
    if want == 0:                       # a one-shot item that fired
        return 0
    return vfs_poll(it.file) & want

cdef inline bint exact_et(epoll_item *it) noexcept nogil:
    return (it.events & EPOLL_ET_BIT) != 0 and it.file.wakeups != NULL

cdef void et_snapshot(epoll_item *it) noexcept nogil:
    cdef io_wakeups *w = it.file.wakeups
    it.seen_in = w.keyed_in
    it.seen_out = w.keyed_out
    it.seen_all = w.unkeyed

cdef void et_collect(epoll_item *it) noexcept nogil:
    # Wakeups since the item last looked put it on the ready list (ep_poll_callback):
    # unkeyed ones always, keyed ones when the key meets its interest; none while a
    # one-shot item is disabled.
    cdef io_wakeups *w = it.file.wakeups
    cdef uint32_t want = wanted(it)
    if want != 0 and (w.unkeyed != it.seen_all
                      or (w.keyed_in != it.seen_in and (want & w.in_key) != 0)
                      or (w.keyed_out != it.seen_out and (want & w.out_key) != 0)):
        it.pending = True
    et_snapshot(it)

cdef uint32_t item_report(epoll_item *it, uint32_t cur) noexcept nogil:
    # What a scan reports for an item whose current ready bits are cur (call after
    # item_poll: a poll may count a wakeup, as timerfd's expiry does).
    if exact_et(it):
        # Linux: an item on the ready list that is not ready when scanned leaves it.
        et_collect(it)
        if not it.pending:
            return 0
        if cur == 0:
            it.pending = False
        return cur
    if (it.events & EPOLL_ET_BIT) and (cur & ~it.seen) == 0:
        return 0                        # no counts: a bit that rose since the last scan
    return cur

cdef void et_arm(epoll_item *it) noexcept nogil:
    # EPOLL_CTL_ADD/MOD (ep_insert, ep_modify): queued when ready now.
    if exact_et(it) and item_poll(it) != 0:
        it.pending = True
    if it.file.wakeups != NULL:
        et_snapshot(it)

cdef epoll_item *find(epoll_inst *ep, vfs_file *f, int32_t fd) noexcept nogil:
    cdef epoll_item *it = ep.head
    while it != NULL:
        if it.file == f and it.fd == fd:
            return it
        it = it.next
    return NULL

cdef void unlink_ep(epoll_item *it) noexcept nogil:
    cdef epoll_item **link = &it.ep.head
    while link[0] != NULL:
        if link[0] == it:
            link[0] = it.next
            it.ep.count -= 1
            return
        link = &link[0].next

cdef void unlink_file(epoll_item *it) noexcept nogil:
    cdef epoll_item **link = <epoll_item **>&it.file.epoll_links
    while link[0] != NULL:
        if link[0] == it:
            link[0] = it.file_next
            return
        link = &link[0].file_next

cdef void epoll_file_release(vfs_file *f) noexcept nogil:
    cdef uint64_t flags = waitq_lock()
    cdef epoll_item *it = <epoll_item *>f.epoll_links
    cdef epoll_item *nxt
    f.epoll_links = NULL
    while it != NULL:
        nxt = it.file_next
        unlink_ep(it)
        kfree(it)
        it = nxt
    waitq_unlock(flags)

# ------------------------------------------------------------------ the epoll file

cdef uint32_t ep_poll(vfs_file *f) noexcept nogil:
    # Readable when a wait would report something (nested epolls; not destructive).
    global nest_depth
    cdef epoll_inst *ep = <epoll_inst *>f.priv
    cdef epoll_item *it
    cdef uint32_t r = 0
    cdef uint64_t flags
    if nest_depth >= EPOLL_MAX_NESTS:
        return 0
    flags = waitq_lock()
    nest_depth += 1
    it = ep.head
    while it != NULL:
        if item_report(it, item_poll(it)) != 0:
            r = EPOLLIN | EPOLLRDNORM
            break
        it = it.next
    nest_depth -= 1
    waitq_unlock(flags)
    return r

cdef void ep_close(vfs_file *f) noexcept nogil:
    cdef epoll_inst *ep = <epoll_inst *>f.priv
    cdef uint64_t flags = waitq_lock()
    cdef epoll_item *it = ep.head
    cdef epoll_item *nxt
    while it != NULL:
        nxt = it.next
        unlink_file(it)
        kfree(it)
        it = nxt
    ep.head = NULL
    waitq_unlock(flags)
    kfree(ep)
    f.priv = NULL

cdef void setup_ops() noexcept nogil:
    global ops_ready
    memset(&ep_ops, 0, sizeof(vfs_file_ops))
    ep_ops.poll = ep_poll
    ep_ops.close = ep_close
    ep_ops.stat = anon_inode_stat
    ops_ready = True

cdef bint epoll_is(vfs_file *f) noexcept nogil:
    return f != NULL and ops_ready and f.ops == &ep_ops

cdef int64_t epoll_item_count(vfs_file *f) noexcept nogil:
    if not epoll_is(f):
        return -1
    return <int64_t>(<epoll_inst *>f.priv).count

# ------------------------------------------------------------------ create / ctl

cdef int64_t create(bint cloexec) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef epoll_inst *ep
    cdef vfs_file *f
    cdef int64_t fd
    if ctx == NULL:
        return -ENOSYS
    if not ops_ready:
        setup_ops()
    ep = <epoll_inst *>kcalloc(1, sizeof(epoll_inst))
    if ep == NULL:
        return -ENOMEM
    f = vfs_file_new(&ep_ops, NULL, O_RDWR, ep)
    if f == NULL:
        kfree(ep)
        return -ENOMEM
    fd = fdtable_install(&ctx.fdt, f, 0, cloexec)
    if fd < 0:
        vfs_file_put(f)
    return fd

cdef int64_t sys_epoll_create(uint64_t size) noexcept nogil:
    if <int32_t>size <= 0:
        return -EINVAL
    return create(False)

cdef int64_t sys_epoll_create1(uint64_t flags) noexcept nogil:
    if (<uint32_t>flags & ~(<uint32_t>EPOLL_CLOEXEC)) != 0:
        return -EINVAL
    return create(flags != 0)

cdef vfs_file *get_fd(fs_context *ctx, uint64_t fd) noexcept nogil:
    # The file at a user fd (an int), NULL for none or an O_PATH file (fdget semantics).
    cdef vfs_file *f = fdtable_get(&ctx.fdt, <uint32_t>fd)
    if f != NULL and (f.flags & O_PATH):
        return NULL
    return f

cdef int64_t insert(epoll_inst *ep, vfs_file *tf, int32_t fd, uint32_t events, uint64_t data) noexcept nogil:
    cdef epoll_item *it = <epoll_item *>kcalloc(1, sizeof(epoll_item))
    cdef epoll_item **link
    if it == NULL:
        return -ENOMEM
    it.ep = ep
    it.file = tf
    it.fd = fd
    it.events = events
    it.data = data
    et_arm(it)
    link = &ep.head                     # append: registration order is the first scan order
    while link[0] != NULL:
        link = &link[0].next
    link[0] = it
    ep.count += 1
    it.file_next = <epoll_item *>tf.epoll_links
    tf.epoll_links = it
    return 0

cdef int64_t sys_epoll_ctl(uint64_t epfd, uint64_t op, uint64_t fd, uint64_t uevent) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef uint8_t raw[EPOLL_EVENT_SIZE]
    cdef uint32_t events = 0
    cdef uint64_t data = 0, flags
    cdef int iop = <int>op
    cdef vfs_file *ef
    cdef vfs_file *tf
    cdef epoll_inst *ep
    cdef epoll_item *it
    cdef int64_t rc
    if iop != EPOLL_CTL_DEL:            # Linux copies the event for any op but DEL
        if copy_from_user(raw, uevent, EPOLL_EVENT_SIZE) != 0:
            return -EFAULT
        memcpy(&events, raw, 4)
        memcpy(&data, raw + 4, 8)
    if ctx == NULL:
        return -EBADF
    ef = get_fd(ctx, epfd)
    if ef == NULL:
        return -EBADF
    tf = get_fd(ctx, fd)
    if tf == NULL:
        return -EBADF
    if tf.ops.poll == NULL:             # regular files, directories, /dev/null: no poll
        return -EPERM
    if ef == tf or not epoll_is(ef):
        return -EINVAL
    if iop != EPOLL_CTL_DEL and (events & EPOLLEXCLUSIVE):
        if iop == EPOLL_CTL_MOD:
            return -EINVAL
        if iop == EPOLL_CTL_ADD and (epoll_is(tf) or (events & ~(<uint32_t>EXCLUSIVE_OK_BITS | EPOLL_ET_BIT)) != 0):
            return -EINVAL
    ep = <epoll_inst *>ef.priv
    flags = waitq_lock()
    it = find(ep, tf, <int32_t>fd)
    rc = -EINVAL
    if iop == EPOLL_CTL_ADD:
        if it == NULL:
            rc = insert(ep, tf, <int32_t>fd, events | EPOLLERR | EPOLLHUP, data)
        else:
            rc = -EEXIST
    elif iop == EPOLL_CTL_DEL:
        if it != NULL:
            unlink_ep(it)
            unlink_file(it)
            kfree(it)
            rc = 0
        else:
            rc = -ENOENT
    elif iop == EPOLL_CTL_MOD:
        if it == NULL:
            rc = -ENOENT
        elif (it.events & EPOLLEXCLUSIVE) == 0:
            if exact_et(it):
                et_collect(it)          # wakeups before the change still count (ready list)
            it.events = events | EPOLLERR | EPOLLHUP
            it.data = data
            it.seen = 0                 # re-armed: current readiness is reported again
            if not exact_et(it):
                it.pending = False
            et_arm(it)
            rc = 0
    waitq_unlock(flags)
    if rc == 0 and iop != EPOLL_CTL_DEL:
        io_notify()                     # a waiter on this epoll (or one nesting it) re-scans
    return rc

# ------------------------------------------------------------------ wait

cdef int64_t scan(void *arg) noexcept nogil:
    # Report up to maxevents ready items (call with waitq_lock held): how many, or -EFAULT
    # when the first one cannot be copied out.  Reported items move to the end of the list
    # so that a small maxevents still serves every item in turn.
    cdef wait_args *w = <wait_args *>arg
    cdef epoll_inst *ep = w.ep
    cdef epoll_item *it = ep.head
    cdef epoll_item *nxt
    cdef epoll_item *kept = NULL
    cdef epoll_item **kept_tail = &kept
    cdef epoll_item *moved = NULL
    cdef epoll_item **moved_tail = &moved
    cdef uint8_t raw[EPOLL_EVENT_SIZE]
    cdef uint32_t cur, rep
    cdef int64_t n = 0
    cdef bint stop = False
    while it != NULL:
        nxt = it.next
        it.next = NULL
        if not stop and n < w.maxevents:
            cur = item_poll(it)
            rep = item_report(it, cur)
            if rep != 0:
                memcpy(raw, &rep, 4)
                memcpy(raw + 4, &it.data, 8)
                if copy_to_user(w.uevents + <uint64_t>n * EPOLL_EVENT_SIZE, raw, EPOLL_EVENT_SIZE) != 0:
                    stop = True
                    if n == 0:
                        n = -EFAULT
                else:
                    n += 1
                    it.seen = cur
                    it.pending = False
                    if it.events & EPOLLONESHOT:
                        it.events &= EPOLL_PRIVATE_BITS
                    moved_tail[0] = it
                    moved_tail = &it.next
                    it = nxt
                    continue
            else:
                it.seen = cur           # ET: a bit that dropped is new when it returns
        kept_tail[0] = it
        kept_tail = &it.next
        it = nxt
    kept_tail[0] = moved
    ep.head = kept
    return n

cdef int64_t do_wait(uint64_t epfd, uint64_t uevents, uint64_t maxevents, uint64_t timeout) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef int64_t maxev = <int32_t>maxevents
    cdef int32_t ms = <int32_t>timeout
    cdef vfs_file *ef
    cdef wait_args w
    cdef uint64_t flags, deadline = 0
    cdef int64_t n
    if maxev <= 0 or maxev > EPOLL_MAX_EVENTS:
        return -EINVAL
    if uevents >= USER_ADDRESS_LIMIT or <uint64_t>maxev * EPOLL_EVENT_SIZE > USER_ADDRESS_LIMIT - uevents:
        return -EFAULT
    if ctx == NULL:
        return -EBADF
    ef = get_fd(ctx, epfd)
    if ef == NULL:
        return -EBADF
    if not epoll_is(ef):
        return -EINVAL
    if ms > 0:
        deadline = monotonic_ns() + <uint64_t>ms * POLL_NSEC_PER_MSEC
    vfs_file_get(ef)                    # the epoll outlives a close by another thread
    w.ep = <epoll_inst *>ef.priv
    w.uevents = uevents
    w.maxevents = maxev
    flags = waitq_lock()
    n = scan(&w)
    waitq_unlock(flags)
    if n == 0 and ms != 0:
        n = poll_block(scan, &w, deadline)
        if n == -ERESTARTNOHAND:
            n = -EINTR                  # epoll_wait never restarts, SA_RESTART or not
    vfs_file_put(ef)
    return n

cdef int64_t sys_epoll_wait(uint64_t epfd, uint64_t uevents, uint64_t maxevents, uint64_t timeout) noexcept nogil:
    return do_wait(epfd, uevents, maxevents, timeout)

cdef int64_t sys_epoll_pwait(uint64_t epfd, uint64_t uevents, uint64_t maxevents, uint64_t timeout,
                             uint64_t usigmask, uint64_t sigsetsize) noexcept nogil:
    cdef int64_t rc = signal_wait_mask_begin(usigmask, sigsetsize)
    if rc < 0:
        return rc
    rc = do_wait(epfd, uevents, maxevents, timeout)
    signal_wait_mask_end(rc == -EINTR)
    return rc
