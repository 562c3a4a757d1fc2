# AF_UNIX stream socket pairs and the socket syscalls (see unix.pxd).  Semantics follow
# Linux net/unix/af_unix.c (unix_stream_sendmsg, unix_stream_read_generic, unix_poll,
# unix_shutdown, unix_release_sock) and net/socket.c / net/core/scm.c for argument
# decoding, control messages and the order of error checks.
#
# Like the other file kinds here, nothing runs concurrently with a syscall except while
# it sleeps in iowait_until; every change a sleeper may wait for is followed by io_notify().
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport (vfs_file, vfs_file_ops, vfs_kstat, vfs_file_new, vfs_file_get, vfs_file_put,
                         O_RDWR, O_NONBLOCK, O_CLOEXEC, POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP,
                         POLLRDNORM, POLLWRNORM, VFS_MAX_RW_COUNT)
from tyn.fs.bytering cimport *
from tyn.fs.iowait cimport iowait_until
from tyn.fs.wakeups cimport io_wakeups_init, io_wake_in, io_wake_out, io_wake_all
from tyn.fs.fsnode cimport S_IFSOCK
from tyn.fs.fdtable cimport fdtable_get, fdtable_install, fdtable_reserve, fdtable_close
from tyn.fs.context cimport fs_context, fs_current
from tyn.proc.waitq cimport io_notify
from tyn.mm.heap cimport kmalloc, kcalloc, kfree
from tyn.arch.cpu cimport memset, memcpy
from tyn.arch.uaccess cimport copy_to_user, copy_from_user, USER_ADDRESS_LIMIT
from tyn.sys.errno cimport *

cdef enum:
    POLLRDBAND = 0x080
    POLLWRBAND = 0x200
    POLLRDHUP = 0x2000
    UIO_MAXIOV = 1024
    IOVEC_SIZE = 16
    SOCKADDR_STORAGE = 128
    UCRED_SIZE = 12

cdef extern from *:
    """
    #define UNIX_SSIZE_MAX ((uint64_t)0x7fffffffffffffffULL)
    #define UNIX_INT_MAX ((uint64_t)0x7fffffffULL)
    """
    const uint64_t UNIX_SSIZE_MAX
    const uint64_t UNIX_INT_MAX

cdef vfs_file_ops stream_ops
cdef bint ops_ready
cdef uint64_t last_ino

# A decoded message: iovecs (user addresses) in kernel memory.
cdef struct umsg:
    uint64_t *iov                   # base, len pairs
    uint64_t iovcnt
    uint64_t total                  # bytes described (capped at MAX_RW_COUNT)
    bint user

cdef void setup_ops() noexcept nogil:
    global ops_ready
    memset(&stream_ops, 0, sizeof(vfs_file_ops))
    stream_ops.read = unix_file_read
    stream_ops.write = unix_file_write
    stream_ops.stat = unix_stat
    stream_ops.poll = unix_poll
    stream_ops.ioctl = unix_ioctl
    stream_ops.close = unix_release
    ops_ready = True

cdef inline unix_sock *sock_of(vfs_file *f) noexcept nogil:
    return <unix_sock *>f.priv

cdef inline unix_sock *peer_of(unix_sock *s) noexcept nogil:
    return &s.pair.ends[1 - s.side]

cdef bint unix_file_is_socket(vfs_file *f) noexcept nogil:
    return ops_ready and f.ops == &stream_ops

cdef int64_t unix_stream_pair(uint32_t flags, vfs_file **a, vfs_file **b) noexcept nogil:
    global last_ino
    cdef unix_pair *p
    cdef int i
    if not ops_ready:
        setup_ops()
    a[0] = NULL
    b[0] = NULL
    p = <unix_pair *>kcalloc(1, sizeof(unix_pair))
    if p == NULL:
        return -ENOMEM
    for i in range(2):
        p.ends[i].pair = p
        p.ends[i].side = <uint32_t>i
        p.ends[i].sndbuf = UNIX_WMEM_DEFAULT
        p.ends[i].rcvbuf = UNIX_WMEM_DEFAULT
        last_ino += 1
        p.ends[i].ino = last_ino
        # sock_def_readable's key; unix_write_space's
        io_wakeups_init(&p.ends[i].wq, POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND,
                        POLLOUT | POLLWRNORM | POLLWRBAND)
        if bytering_init(&p.ends[i].rx, UNIX_RING) < 0:
            bytering_free(&p.ends[0].rx)
            kfree(p)
            return -ENOMEM
    a[0] = vfs_file_new(&stream_ops, NULL, O_RDWR | (flags & O_NONBLOCK), &p.ends[0])
    b[0] = vfs_file_new(&stream_ops, NULL, O_RDWR | (flags & O_NONBLOCK), &p.ends[1])
    if a[0] == NULL or b[0] == NULL:
        if a[0] != NULL:
            a[0].ops = NULL
            vfs_file_put(a[0])
        if b[0] != NULL:
            b[0].ops = NULL
            vfs_file_put(b[0])
        a[0] = NULL
        b[0] = NULL
        bytering_free(&p.ends[0].rx)
        bytering_free(&p.ends[1].rx)
        kfree(p)
        return -ENOMEM
    a[0].wakeups = &p.ends[0].wq
    b[0].wakeups = &p.ends[1].wq
    p.ends[0].open = True
    p.ends[1].open = True
    return 0

# ------------------------------------------------------------------ rights

cdef void rights_drop(unix_rights *r) noexcept nogil:
    # Release a chain of rights records and the files they hold (may release sockets).
    cdef unix_rights *next
    cdef uint32_t i
    while r != NULL:
        next = r.next
        for i in range(r.nfds):
            vfs_file_put(r.files[i])
        kfree(r)
        r = next

cdef unix_rights *rights_dup(unix_rights *r) noexcept nogil:
    # A copy holding its own references (MSG_PEEK), or NULL.
    cdef unix_rights *c = <unix_rights *>kmalloc(sizeof(unix_rights))
    cdef uint32_t i
    if c == NULL:
        return NULL
    memcpy(c, r, sizeof(unix_rights))
    c.next = NULL
    for i in range(c.nfds):
        vfs_file_get(c.files[i])
    return c

# ------------------------------------------------------------------ copies

cdef int64_t iov_copy(bytering *ring, uint64_t off, umsg *m, uint64_t skip, uint64_t n,
                      bint into_ring) noexcept nogil:
    # n bytes between the message (from its byte skip on) and the ring: appended to the
    # ring (into_ring), else taken from off bytes after the ring's head.  Bytes copied,
    # or -EFAULT when not even the first could be.
    cdef uint64_t done = 0, i = 0, base, length, k
    cdef int64_t got
    while i < m.iovcnt and done < n:
        base = m.iov[2 * i]
        length = m.iov[2 * i + 1]
        if skip >= length:
            skip -= length
            i += 1
            continue
        k = length - skip
        if k > n - done:
            k = n - done
        if into_ring:
            got = bytering_put(ring, base + skip, k, m.user)
        else:
            got = bytering_get(ring, off + done, base + skip, k, m.user)
        if got < 0:
            break
        done += <uint64_t>got
        if <uint64_t>got < k:
            break
        skip = 0
        i += 1
    if done == 0 and n > 0:
        return -EFAULT
    return <int64_t>done

# ------------------------------------------------------------------ send / receive

cdef inline bint sender_writable(unix_sock *receiver) noexcept nogil:
    # unix_writable of the peer that sends to receiver: what it has in flight (receiver's
    # ring) is at most a quarter of the buffer.
    return bytering_used(&receiver.rx) * 4 <= UNIX_RING

cdef void skb_queued(unix_sock *r, uint64_t end) noexcept nogil:
    # A chunk ending at stream offset end was queued to r.
    if r.skb_count == UNIX_SKB_MARKS:
        r.skb_ends[(r.skb_first + r.skb_count - 1) % UNIX_SKB_MARKS] = end
        return
    r.skb_ends[(r.skb_first + r.skb_count) % UNIX_SKB_MARKS] = end
    r.skb_count += 1

cdef bint skbs_freed(unix_sock *r) noexcept nogil:
    # Forget the chunks r has now read whole; whether there were any.
    cdef bint any = False
    while r.skb_count > 0 and r.skb_ends[r.skb_first] <= r.rx.head:
        r.skb_first = (r.skb_first + 1) % UNIX_SKB_MARKS
        r.skb_count -= 1
        any = True
    return any

cdef bint can_send(void *arg) noexcept nogil:
    cdef unix_sock *s = <unix_sock *>arg
    cdef unix_sock *peer = peer_of(s)
    return (bytering_room(&peer.rx) > 0 or (s.shutdown & SEND_SHUTDOWN) != 0 or not peer.open
            or (peer.shutdown & RCV_SHUTDOWN) != 0)

cdef bint can_recv(void *arg) noexcept nogil:
    cdef unix_sock *s = <unix_sock *>arg
    return bytering_used(&s.rx) > 0 or s.err != 0 or (s.shutdown & RCV_SHUTDOWN) != 0

cdef int64_t unix_send(unix_sock *s, umsg *m, unix_rights *rights, int flags, bint nonblock) noexcept nogil:
    # unix_stream_sendmsg: rights (owned; may be NULL) go with the first chunk; a stream
    # send of 0 bytes sends no rights.  Bytes sent, or -errno when none were.
    # Linux raises SIGPIPE with EPIPE unless MSG_NOSIGNAL; ERTS ignores SIGPIPE, so only
    # -EPIPE is returned (raise it at the pipe_err returns once signals are delivered).
    cdef unix_sock *peer = peer_of(s)
    cdef uint64_t sent = 0, room, k, start
    cdef int64_t r, err = 0
    if s.shutdown & SEND_SHUTDOWN:
        rights_drop(rights)
        return -EPIPE
    while sent < m.total:
        if not peer.open or (peer.shutdown & RCV_SHUTDOWN):
            err = -EPIPE
            break
        room = bytering_room(&peer.rx)
        if room == 0:
            if nonblock or (flags & MSG_DONTWAIT):
                err = -EAGAIN
                break
            r = iowait_until(can_send, s)
            if r < 0:
                err = r
                break
            if s.shutdown & SEND_SHUTDOWN:
                err = -EPIPE
                break
            continue
        k = m.total - sent
        if k > room:
            k = room
        start = peer.rx.tail
        r = iov_copy(&peer.rx, 0, m, sent, k, True)
        if r < 0:
            err = r
            break
        if rights != NULL:
            rights.seq = start
            rights.end = start + <uint64_t>r
            rights.next = NULL
            if peer.rights_tail == NULL:
                peer.rights_head = rights
            else:
                peer.rights_tail.next = rights
            peer.rights_tail = rights
            rights = NULL
        sent += <uint64_t>r
        skb_queued(peer, peer.rx.tail)
        io_wake_in(&peer.wq)        # sk_data_ready, per skb queued
        io_notify()
        if <uint64_t>r < k:
            break                   # a fault after some bytes: what was sent counts
    rights_drop(rights)
    if sent > 0:
        return <int64_t>sent
    return err

cdef int64_t unix_recv(unix_sock *s, umsg *m, int flags, bint nonblock, unix_rights **got) noexcept nogil:
    # unix_stream_read_generic: bytes received (rights in got[0], owned by the caller), or
    # -errno when none were.  A read stops after the bytes that carried rights, never
    # returns two sets of them, and waits for at least one byte (all with MSG_WAITALL).
    cdef uint64_t copied = 0, avail, want, off = 0, head
    cdef uint64_t target = m.total if (flags & MSG_WAITALL) else 1
    cdef unix_rights *r
    cdef bint take, peek = (flags & MSG_PEEK) != 0
    cdef int64_t c, e
    got[0] = NULL
    if target == 0:
        target = 1
    while True:
        avail = bytering_used(&s.rx) - off
        if avail == 0:
            if copied >= target:
                break
            if s.err != 0:
                e = s.err
                s.err = 0
                return <int64_t>copied if copied > 0 else -e
            if s.shutdown & RCV_SHUTDOWN:
                break
            if nonblock or (flags & MSG_DONTWAIT):
                return <int64_t>copied if copied > 0 else -EAGAIN
            c = iowait_until(can_recv, s)
            if c < 0:
                return <int64_t>copied if copied > 0 else c
            continue
        head = s.rx.head + off
        want = m.total - copied
        take = False
        r = s.rights_head
        while r != NULL and r.end <= head:      # peeked past already
            r = r.next
        if r != NULL and r.seq <= head:
            take = True
            if r.end - head < want:
                want = r.end - head
        elif r != NULL and r.seq - head < want:
            want = r.seq - head                 # up to the rights; they come next time round
        if want > avail:
            want = avail
        c = iov_copy(&s.rx, off, m, copied, want, False)
        if c < 0:
            if copied == 0:
                return c
            break
        copied += <uint64_t>c
        if take and (c > 0 or want == 0):
            if peek:
                got[0] = rights_dup(r)
            else:
                s.rights_head = r.next          # r is the head: records leave in order
                if s.rights_head == NULL:
                    s.rights_tail = NULL
                r.next = NULL
                got[0] = r
        if peek:
            off += <uint64_t>c
        else:
            bytering_consume(&s.rx, <uint64_t>c)
            # An skb read whole is freed and wakes its sender when that is writable
            # (sock_wfree, unix_write_space); a chunk here is one skb (Linux splits sends
            # above ~36 KiB differently).
            if skbs_freed(s) and peer_of(s).open and sender_writable(s):
                io_wake_out(&peer_of(s).wq)
            io_notify()
        if got[0] != NULL or <uint64_t>c < want or copied >= m.total:
            break
    return <int64_t>copied

# ------------------------------------------------------------------ file operations

cdef int64_t unix_file_read(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    cdef uint64_t iov[2]
    cdef umsg m
    cdef unix_rights *got
    cdef int64_t r
    if n == 0:
        return 0                    # sock_read_iter
    iov[0] = buf
    iov[1] = n
    m.iov = iov
    m.iovcnt = 1
    m.total = n
    m.user = user
    r = unix_recv(sock_of(f), &m, 0, (f.flags & O_NONBLOCK) != 0, &got)
    rights_drop(got)                # no control buffer: the files are closed (MSG_CTRUNC)
    return r

cdef int64_t unix_file_write(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    cdef uint64_t iov[2]
    cdef umsg m
    iov[0] = buf
    iov[1] = n
    m.iov = iov
    m.iovcnt = 1
    m.total = n
    m.user = user
    return unix_send(sock_of(f), &m, NULL, 0, (f.flags & O_NONBLOCK) != 0)

cdef uint32_t unix_poll(vfs_file *f) noexcept nogil:
    cdef unix_sock *s = sock_of(f)
    cdef unix_sock *peer = peer_of(s)
    cdef uint32_t mask = 0
    if s.err != 0:
        mask |= POLLERR
    if s.shutdown == SHUTDOWN_MASK:
        mask |= POLLHUP
    if s.shutdown & RCV_SHUTDOWN:
        mask |= POLLRDHUP | POLLIN | POLLRDNORM
    if bytering_used(&s.rx) > 0:
        mask |= POLLIN | POLLRDNORM
    # unix_writable: what this end has in flight is at most a quarter of the buffer.
    if bytering_used(&peer.rx) * 4 <= UNIX_RING:
        mask |= POLLOUT | POLLWRNORM | POLLWRBAND
    return mask

cdef int64_t unix_stat(vfs_file *f, vfs_kstat *st) noexcept nogil:
    memset(st, 0, sizeof(vfs_kstat))
    st.dev = SOCKFS_DEV
    st.ino = sock_of(f).ino
    st.nlink = 1
    st.mode = S_IFSOCK | 0o777
    st.blksize = 4096
    return 0

cdef int64_t unix_ioctl(vfs_file *f, uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef unix_sock *s = sock_of(f)
    cdef int32_t n
    if cmd == SIOCINQ:
        n = <int32_t>bytering_used(&s.rx)
    elif cmd == SIOCOUTQ:
        n = <int32_t>bytering_used(&peer_of(s).rx)
    else:
        return -ENOTTY
    if copy_to_user(arg, &n, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

cdef void unix_release(vfs_file *f) noexcept nogil:
    # unix_release_sock: the peer is shut down both ways (and gets ECONNRESET if this end
    # left bytes unread); what was queued here is dropped, passed files included.  Those
    # may be sockets of this very pair, so the pair is not touched after they are put.
    # (A cycle of sockets passed to each other and then closed stays allocated: Linux's
    # unix_gc is not reproduced.)
    cdef unix_sock *s = sock_of(f)
    cdef unix_sock *peer = peer_of(s)
    cdef unix_rights *queued = s.rights_head
    s.rights_head = NULL
    s.rights_tail = NULL
    s.open = False
    s.shutdown = SHUTDOWN_MASK
    if peer.open:
        peer.shutdown = SHUTDOWN_MASK
        if bytering_used(&s.rx) > 0:
            peer.err = ECONNRESET
        io_wake_all(&peer.wq)       # sk_state_change
    bytering_free(&s.rx)
    if not peer.open:
        bytering_free(&peer.rx)
        kfree(s.pair)
    io_notify()
    rights_drop(queued)

# ------------------------------------------------------------------ syscall helpers

cdef int64_t lookup(fs_context *ctx, uint64_t fd, vfs_file **out) noexcept nogil:
    # sockfd_lookup_light: -EBADF, -ENOTSOCK, or 0 with a borrowed file.
    cdef vfs_file *f
    if ctx == NULL:
        return -EBADF
    f = fdtable_get(&ctx.fdt, <uint32_t>fd)
    if f == NULL:
        return -EBADF
    if not unix_file_is_socket(f):
        return -ENOTSOCK
    out[0] = f
    return 0

cdef int64_t import_iov(uint64_t uiov, uint64_t iovcnt, umsg *m) noexcept nogil:
    # import_iovec: -EMSGSIZE (too many), -EFAULT, -EINVAL (negative length); the total is
    # capped at MAX_RW_COUNT by shortening segments, as Linux does.
    cdef uint64_t i, length, total = 0
    m.iov = NULL
    m.iovcnt = iovcnt
    m.total = 0
    m.user = True
    if iovcnt > UIO_MAXIOV:
        return -EMSGSIZE
    if iovcnt == 0:
        return 0
    m.iov = <uint64_t *>kmalloc(iovcnt * IOVEC_SIZE)
    if m.iov == NULL:
        return -ENOMEM
    if copy_from_user(m.iov, uiov, iovcnt * IOVEC_SIZE) < 0:
        kfree(m.iov)
        m.iov = NULL
        return -EFAULT
    for i in range(iovcnt):
        length = m.iov[2 * i + 1]
        if length > UNIX_SSIZE_MAX:
            kfree(m.iov)
            m.iov = NULL
            return -EINVAL
        if length > VFS_MAX_RW_COUNT - total:
            length = VFS_MAX_RW_COUNT - total
            m.iov[2 * i + 1] = length
        if length > 0 and (m.iov[2 * i] >= USER_ADDRESS_LIMIT or length > USER_ADDRESS_LIMIT - m.iov[2 * i]):
            kfree(m.iov)
            m.iov = NULL
            return -EFAULT          # access_ok
        total += length
    m.total = total
    return 0

cdef inline bint range_ok(uint64_t buf, uint64_t n) noexcept nogil:
    return n == 0 or (buf < USER_ADDRESS_LIMIT and n <= USER_ADDRESS_LIMIT - buf)

cdef int64_t put_addr(uint64_t uaddr, uint64_t ulen, const void *kaddr, int32_t klen) noexcept nogil:
    # move_addr_to_user: copy min(*ulen, klen) bytes, then store klen in *ulen.
    cdef int32_t n
    if copy_from_user(&n, ulen, sizeof(int32_t)) < 0:
        return -EFAULT
    if n > klen:
        n = klen
    if n < 0:
        return -EINVAL
    if n > 0 and copy_to_user(uaddr, kaddr, <uint64_t>n) < 0:
        return -EFAULT
    if copy_to_user(ulen, &klen, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

cdef int64_t parse_control(fs_context *ctx, uint8_t *ctl, uint64_t len, unix_rights **out) noexcept nogil:
    # __scm_send over the control buffer (already in kernel memory): SCM_RIGHTS collects
    # files (at most SCM_MAX_FD in all; -EBADF for a bad fd); SCM_CREDENTIALS is accepted
    # and ignored; any other SOL_SOCKET type or a malformed header is -EINVAL; other
    # levels are skipped.
    cdef uint64_t at = 0, clen, num, i
    cdef int32_t level, ctype, fd
    cdef unix_rights *r = NULL
    cdef vfs_file *f
    out[0] = NULL
    while len >= CMSGHDR_SIZE and at + CMSGHDR_SIZE <= len:
        memcpy(&clen, ctl + at, 8)
        memcpy(&level, ctl + at + 8, 4)
        memcpy(&ctype, ctl + at + 12, 4)
        if clen < CMSGHDR_SIZE or clen > len - at:
            rights_drop(r)
            return -EINVAL
        if level == SOL_SOCKET:
            if ctype == SCM_RIGHTS:
                num = (clen - CMSGHDR_SIZE) // 4
                if num > 0:
                    if r == NULL:
                        r = <unix_rights *>kcalloc(1, sizeof(unix_rights))
                        if r == NULL:
                            return -ENOMEM
                    if num > SCM_MAX_FD or r.nfds + num > SCM_MAX_FD:
                        rights_drop(r)
                        return -EINVAL
                    for i in range(num):
                        memcpy(&fd, ctl + at + CMSGHDR_SIZE + 4 * i, 4)
                        f = fdtable_get(&ctx.fdt, <uint32_t>fd) if fd >= 0 else NULL
                        if f == NULL:
                            rights_drop(r)
                            return -EBADF
                        vfs_file_get(f)
                        r.files[r.nfds] = f
                        r.nfds += 1
            elif ctype == SCM_CREDENTIALS:
                if clen != CMSGHDR_SIZE + UCRED_SIZE:
                    rights_drop(r)
                    return -EINVAL
            else:
                rights_drop(r)
                return -EINVAL
        at += (clen + 7) & ~(<uint64_t>7)      # CMSG_ALIGN
    out[0] = r
    return 0

cdef int64_t deliver_rights(fs_context *ctx, unix_rights *got, uint64_t control, uint64_t controllen,
                            int flags, uint32_t *msg_flags) noexcept nogil:
    # scm_recv / scm_detach_fds: install as many files as the control buffer has room for
    # (and the fd table allows), write one SCM_RIGHTS header, set MSG_CTRUNC for the rest
    # (which are closed).  Returns the control bytes used.
    cdef uint64_t fdmax = 0, i = 0, used = 0, cmlen
    cdef int64_t fd
    cdef int32_t fd32
    cdef int32_t hdr[2]
    cdef bint cloexec = (flags & MSG_CMSG_CLOEXEC) != 0
    if got == NULL:
        return 0
    if control == 0:
        msg_flags[0] |= MSG_CTRUNC
        rights_drop(got)
        return 0
    if controllen > CMSGHDR_SIZE:
        fdmax = (controllen - CMSGHDR_SIZE) // 4
    if fdmax > got.nfds:
        fdmax = got.nfds
    while i < fdmax:
        vfs_file_get(got.files[i])
        fd = fdtable_install(&ctx.fdt, got.files[i], 0, cloexec)
        if fd < 0:
            vfs_file_put(got.files[i])
            break
        fd32 = <int32_t>fd
        if copy_to_user(control + CMSGHDR_SIZE + 4 * i, &fd32, 4) < 0:
            fdtable_close(&ctx.fdt, <uint64_t>fd)
            break
        i += 1
    if i > 0:
        cmlen = CMSGHDR_SIZE + 4 * i                    # CMSG_LEN
        hdr[0] = SOL_SOCKET
        hdr[1] = SCM_RIGHTS
        if copy_to_user(control, &cmlen, 8) == 0 and copy_to_user(control + 8, hdr, 8) == 0:
            used = (cmlen + 7) & ~(<uint64_t>7)           # CMSG_SPACE
            if used > controllen:
                used = controllen
    if i < got.nfds:
        msg_flags[0] |= MSG_CTRUNC
    rights_drop(got)
    return used

# ------------------------------------------------------------------ syscalls

cdef int64_t sys_socket(uint64_t family, uint64_t type, uint64_t protocol) noexcept nogil:
    # Nothing but socketpair's sockets exists yet: unbound AF_UNIX sockets and AF_INET are
    # for later, every family is refused as unsupported after Linux's argument checks.
    cdef int32_t fam = <int32_t>family
    cdef int32_t t = <int32_t>type
    if (t & ~SOCK_TYPE_MASK) & ~(SOCK_CLOEXEC | SOCK_NONBLOCK):
        return -EINVAL
    t &= SOCK_TYPE_MASK
    if fam < 0 or fam >= NPROTO:
        return -EAFNOSUPPORT
    if t < 0 or t >= SOCK_MAX:
        return -EINVAL
    return -EAFNOSUPPORT

cdef int64_t sys_socketpair(uint64_t family, uint64_t type, uint64_t protocol, uint64_t usv) noexcept nogil:
    # __sys_socketpair's order: flags, two free fds, the fds stored to sv (so EFAULT comes
    # before any family/type check), then the sockets.
    cdef fs_context *ctx = fs_current()
    cdef int32_t fam = <int32_t>family
    cdef int32_t t = <int32_t>type
    cdef int32_t proto = <int32_t>protocol
    cdef uint32_t flags
    cdef int64_t fd1, fd2, rc
    cdef int32_t v
    cdef vfs_file *a
    cdef vfs_file *b
    flags = <uint32_t>(t & ~SOCK_TYPE_MASK)
    if flags & ~(<uint32_t>(SOCK_CLOEXEC | SOCK_NONBLOCK)):
        return -EINVAL
    t &= SOCK_TYPE_MASK
    if ctx == NULL:
        return -ENOSYS
    fd1 = fdtable_reserve(&ctx.fdt, 0)
    if fd1 < 0:
        return fd1
    fd2 = fdtable_reserve(&ctx.fdt, <uint64_t>fd1 + 1)
    if fd2 < 0:
        return fd2
    v = <int32_t>fd1
    if copy_to_user(usv, &v, 4) < 0:
        return -EFAULT
    v = <int32_t>fd2
    if copy_to_user(usv + 4, &v, 4) < 0:
        return -EFAULT
    if fam < 0 or fam >= NPROTO:
        return -EAFNOSUPPORT
    if t < 0 or t >= SOCK_MAX:
        return -EINVAL
    if fam == AF_INET or fam == AF_INET6:
        return -EOPNOTSUPP          # those families have no socketpair
    if fam != AF_UNIX:
        return -EAFNOSUPPORT
    if proto != 0 and proto != AF_UNIX:
        return -EPROTONOSUPPORT
    if t != SOCK_STREAM:
        # Linux also pairs SOCK_DGRAM / SOCK_SEQPACKET (and SOCK_RAW as DGRAM): not here yet.
        return -ESOCKTNOSUPPORT
    rc = unix_stream_pair(flags, &a, &b)
    if rc < 0:
        return rc
    rc = fdtable_install(&ctx.fdt, a, <uint64_t>fd1, (flags & SOCK_CLOEXEC) != 0)
    if rc < 0:
        vfs_file_put(a)
        vfs_file_put(b)
        return rc
    rc = fdtable_install(&ctx.fdt, b, <uint64_t>fd2, (flags & SOCK_CLOEXEC) != 0)
    if rc < 0:
        fdtable_close(&ctx.fdt, <uint64_t>fd1)
        vfs_file_put(b)
        return rc
    return 0

cdef int64_t sys_sendmsg(uint64_t fd, uint64_t umsghdr, uint64_t flags) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef uint64_t h[7]
    cdef int32_t namelen
    cdef uint8_t name[SOCKADDR_STORAGE]
    cdef uint8_t *ctl = NULL
    cdef umsg m
    cdef unix_rights *rights = NULL
    cdef int64_t rc
    rc = lookup(ctx, fd, &f)
    if rc < 0:
        return rc
    if copy_from_user(h, umsghdr, MSGHDR_SIZE) < 0:
        return -EFAULT
    namelen = <int32_t>h[1] if h[0] != 0 else 0
    if namelen < 0:
        return -EINVAL
    if namelen > SOCKADDR_STORAGE:
        namelen = SOCKADDR_STORAGE
    if namelen > 0 and copy_from_user(name, h[0], <uint64_t>namelen) < 0:
        return -EFAULT
    rc = import_iov(h[2], h[3], &m)
    if rc < 0:
        return rc
    if h[5] > UNIX_INT_MAX or h[5] > UNIX_OPTMEM_MAX:
        kfree(m.iov)
        return -ENOBUFS
    if h[5] > 0:
        ctl = <uint8_t *>kmalloc(h[5])
        if ctl == NULL:
            kfree(m.iov)
            return -ENOBUFS
        if copy_from_user(ctl, h[4], h[5]) < 0:
            kfree(ctl)
            kfree(m.iov)
            return -EFAULT
        rc = parse_control(ctx, ctl, h[5], &rights)
        kfree(ctl)
        if rc < 0:
            kfree(m.iov)
            return rc
    if flags & MSG_OOB:
        rc = -EOPNOTSUPP            # no out-of-band data (as without CONFIG_AF_UNIX_OOB)
    elif namelen != 0:
        rc = -EISCONN
    else:
        vfs_file_get(f)             # the fd may be closed while this sleeps
        rc = unix_send(sock_of(f), &m, rights, <int>flags, (f.flags & O_NONBLOCK) != 0)
        rights = NULL
        vfs_file_put(f)
    rights_drop(rights)
    kfree(m.iov)
    return rc

cdef int64_t sys_recvmsg(uint64_t fd, uint64_t umsghdr, uint64_t flags) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef uint64_t h[7]
    cdef int32_t namelen
    cdef umsg m
    cdef unix_rights *got = NULL
    cdef uint32_t msg_flags
    cdef uint64_t used
    cdef int64_t rc, n
    rc = lookup(ctx, fd, &f)
    if rc < 0:
        return rc
    if copy_from_user(h, umsghdr, MSGHDR_SIZE) < 0:
        return -EFAULT
    namelen = <int32_t>h[1] if h[0] != 0 else 0
    if namelen < 0:
        return -EINVAL
    rc = import_iov(h[2], h[3], &m)
    if rc < 0:
        return rc
    if flags & MSG_OOB:
        kfree(m.iov)
        return -EOPNOTSUPP
    msg_flags = <uint32_t>flags & MSG_CMSG_CLOEXEC
    vfs_file_get(f)
    n = unix_recv(sock_of(f), &m, <int>flags, (f.flags & O_NONBLOCK) != 0, &got)
    vfs_file_put(f)
    kfree(m.iov)
    if n < 0:
        rights_drop(got)
        return n
    used = deliver_rights(ctx, got, h[4], h[5], <int>flags, &msg_flags)
    if h[0] != 0:
        namelen = 0                 # a socketpair peer has no address: msg_namelen = 0
        if copy_to_user(umsghdr + 8, &namelen, 4) < 0:
            return -EFAULT
    if copy_to_user(umsghdr + 48, &msg_flags, 4) < 0:
        return -EFAULT
    if copy_to_user(umsghdr + 40, &used, 8) < 0:
        return -EFAULT
    return n

cdef inline void one_buffer(umsg *m, uint64_t *iov, uint64_t buf, uint64_t len) noexcept nogil:
    """sendto/recvfrom: a message of one user buffer (iov: room for one iovec)."""
    iov[0] = buf
    iov[1] = len
    m.iov = iov
    m.iovcnt = 1
    m.total = len
    m.user = True

cdef int64_t sys_sendto(uint64_t fd, uint64_t buf, uint64_t len, uint64_t flags, uint64_t addr, uint64_t addrlen) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef uint64_t iov[2]
    cdef umsg m
    cdef int32_t alen = <int32_t>addrlen
    cdef uint8_t name[SOCKADDR_STORAGE]
    cdef int64_t rc
    if len > VFS_MAX_RW_COUNT:
        len = VFS_MAX_RW_COUNT
    if not range_ok(buf, len):
        return -EFAULT
    rc = lookup(ctx, fd, &f)
    if rc < 0:
        return rc
    if addr != 0:
        if alen < 0 or alen > SOCKADDR_STORAGE:
            return -EINVAL
        if alen > 0 and copy_from_user(name, addr, <uint64_t>alen) < 0:
            return -EFAULT
        if alen > 0:
            return -EISCONN
    if flags & MSG_OOB:
        return -EOPNOTSUPP
    one_buffer(&m, iov, buf, len)
    vfs_file_get(f)
    rc = unix_send(sock_of(f), &m, NULL, <int>flags, (f.flags & O_NONBLOCK) != 0)
    vfs_file_put(f)
    return rc

cdef int64_t sys_recvfrom(uint64_t fd, uint64_t buf, uint64_t len, uint64_t flags, uint64_t addr, uint64_t addrlen) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef uint64_t iov[2]
    cdef umsg m
    cdef unix_rights *got = NULL
    cdef int64_t rc, r2
    if len > VFS_MAX_RW_COUNT:
        len = VFS_MAX_RW_COUNT
    if not range_ok(buf, len):
        return -EFAULT
    rc = lookup(ctx, fd, &f)
    if rc < 0:
        return rc
    if flags & MSG_OOB:
        return -EOPNOTSUPP
    one_buffer(&m, iov, buf, len)
    vfs_file_get(f)
    rc = unix_recv(sock_of(f), &m, <int>flags, (f.flags & O_NONBLOCK) != 0, &got)
    vfs_file_put(f)
    rights_drop(got)
    if rc >= 0 and addr != 0:
        r2 = put_addr(addr, addrlen, NULL, 0)
        if r2 < 0:
            return r2
    return rc

cdef int64_t sys_shutdown(uint64_t fd, uint64_t how) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef unix_sock *s
    cdef unix_sock *peer
    cdef int32_t h = <int32_t>how
    cdef uint32_t mode
    cdef int64_t rc = lookup(ctx, fd, &f)
    if rc < 0:
        return rc
    if h < SHUT_RD or h > SHUT_RDWR:
        return -EINVAL
    mode = <uint32_t>(h + 1) & SHUTDOWN_MASK
    s = sock_of(f)
    peer = peer_of(s)
    s.shutdown |= mode
    io_wake_all(&s.wq)              # sk_state_change of both ends
    if peer.open:
        if mode & RCV_SHUTDOWN:
            peer.shutdown |= SEND_SHUTDOWN
        if mode & SEND_SHUTDOWN:
            peer.shutdown |= RCV_SHUTDOWN
        io_wake_all(&peer.wq)
    io_notify()
    return 0

cdef int64_t getname(uint64_t fd, uint64_t uaddr, uint64_t ulen) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef uint16_t family = AF_UNIX
    cdef int64_t rc = lookup(ctx, fd, &f)
    if rc < 0:
        return rc
    # Unbound, as both ends of a socketpair are: sun_family alone (sizeof(sa_family_t)).
    return put_addr(uaddr, ulen, &family, 2)

cdef int64_t sys_getsockname(uint64_t fd, uint64_t uaddr, uint64_t ulen) noexcept nogil:
    return getname(fd, uaddr, ulen)

cdef int64_t sys_getpeername(uint64_t fd, uint64_t uaddr, uint64_t ulen) noexcept nogil:
    return getname(fd, uaddr, ulen)     # the peer stays known after it closed, as in Linux

cdef int64_t sys_getsockopt(uint64_t fd, uint64_t level, uint64_t name, uint64_t uval, uint64_t ulen) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef unix_sock *s
    cdef int32_t len, v
    cdef int64_t rc = lookup(ctx, fd, &f)
    if rc < 0:
        return rc
    if <int32_t>level != SOL_SOCKET:
        return -EOPNOTSUPP          # AF_UNIX has no options of its own
    s = sock_of(f)
    if copy_from_user(&len, ulen, 4) < 0:
        return -EFAULT
    if len < 0:
        return -EINVAL
    name = <uint32_t>name
    if name == SO_TYPE:
        v = SOCK_STREAM
    elif name == SO_ERROR:
        v = s.err
        s.err = 0
    elif name == SO_DOMAIN:
        v = AF_UNIX
    elif name == SO_PROTOCOL or name == SO_ACCEPTCONN or name == SO_PASSCRED:
        v = 0
    elif name == SO_SNDBUF:
        v = s.sndbuf
    elif name == SO_RCVBUF:
        v = s.rcvbuf
    else:
        return -ENOPROTOOPT
    if len > 4:
        len = 4
    if len > 0 and copy_to_user(uval, &v, <uint64_t>len) < 0:
        return -EFAULT
    if copy_to_user(ulen, &len, 4) < 0:
        return -EFAULT
    return 0

cdef int64_t sys_setsockopt(uint64_t fd, uint64_t level, uint64_t name, uint64_t uval, uint64_t ulen) noexcept nogil:
    # SO_SNDBUF / SO_RCVBUF (and the *FORCE variants: root) are stored and reported the way
    # Linux does (doubled, clamped); they do not resize the ring.  Other options: ENOPROTOOPT.
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef unix_sock *s
    cdef int32_t v
    cdef uint32_t u
    cdef int64_t rc
    if <int32_t>ulen < 0:
        return -EINVAL
    rc = lookup(ctx, fd, &f)
    if rc < 0:
        return rc
    if <int32_t>level != SOL_SOCKET:
        return -EOPNOTSUPP
    s = sock_of(f)
    if <uint32_t>ulen < 4:
        return -EINVAL
    if copy_from_user(&v, uval, 4) < 0:
        return -EFAULT
    name = <uint32_t>name
    if name == SO_SNDBUF or name == SO_RCVBUF:
        u = <uint32_t>v
        if u > UNIX_WMEM_DEFAULT:
            u = UNIX_WMEM_DEFAULT
        v = <int32_t>u
    elif name == SO_SNDBUFFORCE or name == SO_RCVBUFFORCE:
        if v > 0x3fffffff:
            v = 0x3fffffff
        if v < 0:
            v = 0
    else:
        return -ENOPROTOOPT
    if name == SO_SNDBUF or name == SO_SNDBUFFORCE:
        s.sndbuf = v * 2 if v * 2 > SOCK_MIN_SNDBUF else SOCK_MIN_SNDBUF
    else:
        s.rcvbuf = v * 2 if v * 2 > SOCK_MIN_RCVBUF else SOCK_MIN_RCVBUF
    return 0
