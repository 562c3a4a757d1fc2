# The AF_UNIX stream protocol behind socketpair (see unix.pxd).  Semantics follow Linux
# net/unix/af_unix.c (unix_stream_sendmsg, unix_stream_read_generic, unix_poll,
# unix_shutdown, unix_release_sock) and net/core/scm.c for control messages.  The
# socket layer (tyn.net.socket, tyn.sys.socket_syscall) has done the user-memory work of
# the call: these are the AF_UNIX/SOCK_STREAM sock_proto_ops.
#
# State is under unix_lock (unix.pxd).  Blocking waits release it (socket_wait); their
# conditions (can_send, can_recv) run under waitq_lock and read single words without it.
# Every change a sleeper may wait for is followed by a socket wakeup or io_notify().
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file, vfs_file_get, vfs_file_put, POLLIN, POLLOUT, POLLERR, POLLHUP, POLLRDNORM, POLLWRNORM
from tyn.fs.bytering cimport *
from tyn.fs.iowait cimport iowait_cond_fn
from tyn.fs.fdtable cimport fdtable_get, fdtable_install, fdtable_close
from tyn.fs.context cimport fs_context, fs_current
from tyn.proc.waitq cimport io_notify
from tyn.mm.heap cimport kmalloc, kcalloc, kfree
from tyn.arch.cpu cimport memset, memcpy, read_rflags, irq_disable, irq_enable, RFLAGS_IF
from tyn.arch.uaccess cimport copy_to_user
from tyn.lib.spinlock cimport spinlock, spinlock_init, spinlock_acquire, spinlock_release, SPINLOCK_RANK_UNIX
from tyn.net.sockaddr cimport AF_UNIX, SA_FAMILY_SIZE, UNIX_SOCKADDR_MAX
from tyn.net.socket cimport *
from tyn.net.unix_dgram cimport unix_dgram_init, UNIX_AUTOBIND_LEN
from tyn.net.unix_conn cimport (unix_conn_node_put, unix_conn_bind, unix_conn_listen, unix_conn_accept, unix_conn_connect,
                                unix_conn_getname, unix_conn_getsockopt, unix_conn_release,
                                unix_conn_init, unix_conn_set_pair_creds)
from tyn.sys.errno cimport *

cdef sock_proto_ops stream_ops

cdef spinlock unix_spin
cdef bint unix_spin_ready

cdef uint64_t unix_lock_acquire() noexcept nogil:
    global unix_spin_ready
    if not unix_spin_ready:             # first use comes from one CPU (socket creation)
        spinlock_init(&unix_spin, b"unix", SPINLOCK_RANK_UNIX)
        unix_spin_ready = True
    return spinlock_acquire(&unix_spin)

cdef void unix_lock_release(uint64_t flags) noexcept nogil:
    spinlock_release(&unix_spin, flags)

cdef uint64_t lock_sock(socket *sock) noexcept nogil:
    return unix_lock_acquire()

cdef void unlock_sock(socket *sock, uint64_t flags) noexcept nogil:
    unix_lock_release(flags)

cdef void unix_init() noexcept nogil:
    memset(&stream_ops, 0, sizeof(sock_proto_ops))
    stream_ops.lock = lock_sock
    stream_ops.unlock = unlock_sock
    stream_ops.release = unix_release
    stream_ops.sendmsg = unix_sendmsg
    stream_ops.recvmsg = unix_recvmsg
    stream_ops.shutdown = unix_shutdown
    stream_ops.poll = unix_poll
    stream_ops.ioctl = unix_ioctl
    stream_ops.socketpair = unix_socketpair
    stream_ops.bind = unix_conn_bind
    stream_ops.listen = unix_conn_listen
    stream_ops.accept = unix_conn_accept
    stream_ops.connect = unix_conn_connect
    stream_ops.getname = unix_conn_getname
    stream_ops.getsockopt = unix_conn_getsockopt
    unix_conn_init()
    socket_register_family(AF_UNIX, SOCK_STREAM, 0, unix_create)
    unix_dgram_init()

cdef inline unix_sock *unix_of(socket *sock) noexcept nogil:
    return <unix_sock *>sock.proto

cdef inline unix_sock *peer_of(unix_sock *s) noexcept nogil:
    return s.peer

cdef void unix_sock_wake(unix_sock *s, uint32_t key) noexcept nogil:
    if s.sock != NULL:
        socket_wake(s.sock, key)

# ------------------------------------------------------------------ creation

cdef int64_t unix_create(socket *sock, int32_t protocol, bint for_pair) noexcept nogil:
    cdef unix_sock *s
    if protocol != 0 and protocol != PF_UNIX:
        return -EPROTONOSUPPORT
    s = unix_sock_new(sock)
    if s == NULL:
        return -ENOMEM
    sock.ops = &stream_ops
    sock.proto = s
    sock.protocol = 0
    sock.state = SS_UNCONNECTED
    return 0

cdef unix_sock *unix_sock_new(socket *sock) noexcept nogil:
    cdef unix_sock *s = <unix_sock *>kcalloc(1, sizeof(unix_sock))
    if s == NULL:
        return NULL
    s.sock = sock
    s.open = True
    return s

cdef int64_t unix_sock_link(unix_sock *a, unix_sock *b) noexcept nogil:
    if bytering_init(&a.rx, UNIX_RING) < 0:
        return -ENOMEM
    if bytering_init(&b.rx, UNIX_RING) < 0:
        bytering_free(&a.rx)
        return -ENOMEM
    a.peer = b
    b.peer = a
    return 0

cdef int64_t unix_socketpair(socket *a, socket *b) noexcept nogil:
    # Two fresh sockets nobody else knows yet: no lock needed to set them up.
    cdef unix_sock *ua = unix_of(a)
    cdef unix_sock *ub = unix_of(b)
    if unix_sock_link(ua, ub) < 0:
        return -ENOMEM
    unix_conn_set_pair_creds(ua, ub)
    a.state = SS_CONNECTED
    b.state = SS_CONNECTED
    return 0

# ------------------------------------------------------------------ rights

cdef void unix_rights_drop(unix_rights *r) noexcept nogil:
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

cdef struct ring_copy_job:
    bytering *ring
    uint64_t off                    # receive: where in the ring the copy starts

cdef int64_t ring_put_segment(void *arg, uint64_t at, uint64_t addr, uint64_t len,
                              bint user) noexcept nogil:
    return bytering_put((<ring_copy_job *>arg).ring, addr, len, user)

cdef int64_t ring_get_segment(void *arg, uint64_t at, uint64_t addr, uint64_t len,
                              bint user) noexcept nogil:
    cdef ring_copy_job *job = <ring_copy_job *>arg
    return bytering_get(job.ring, job.off + at, addr, len, user)

cdef int64_t iov_copy(bytering *ring, uint64_t off, sock_msg *m, uint64_t skip, uint64_t n,
                      bint into_ring) noexcept nogil:
    # n bytes between the message (from its byte skip on) and the ring: appended to the
    # ring (into_ring), else taken from off bytes after the ring's head.  Bytes copied,
    # or -EFAULT when not even the first could be.
    cdef ring_copy_job job
    job.ring = ring
    job.off = off
    if into_ring:
        return socket_msg_walk(m, skip, n, ring_put_segment, &job)
    return socket_msg_walk(m, skip, n, ring_get_segment, &job)

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
    return bytering_used(&s.rx) > 0 or s.sock.err != 0 or (s.shutdown & RCV_SHUTDOWN) != 0

cdef int64_t wait_unlocked(iowait_cond_fn cond, unix_sock *s, uint64_t *timeo, uint64_t *lock) noexcept nogil:
    # socket_wait with unix_lock let go for the sleep.
    cdef int64_t r
    unix_lock_release(lock[0])
    r = socket_wait(cond, s, timeo)
    lock[0] = unix_lock_acquire()
    return r

cdef int64_t unix_send(unix_sock *s, sock_msg *m, unix_rights *rights, uint32_t flags) noexcept nogil:
    # unix_stream_sendmsg: rights (owned; may be NULL) go with the first chunk; a stream
    # send of 0 bytes sends no rights.  Bytes sent, or -errno when none were (-EPIPE:
    # the socket layer raises SIGPIPE).
    cdef unix_sock *peer = peer_of(s)
    cdef uint64_t sent = 0, room, k, start
    cdef uint64_t timeo = socket_sndtimeo(s.sock, flags)
    cdef int64_t r, err = 0
    cdef uint64_t lock = unix_lock_acquire()
    if peer == NULL:
        unix_lock_release(lock)
        unix_rights_drop(rights)
        return -ENOTCONN
    if s.shutdown & SEND_SHUTDOWN:
        unix_lock_release(lock)
        unix_rights_drop(rights)
        return -EPIPE
    while sent < m.total:
        if not peer.open or (peer.shutdown & RCV_SHUTDOWN):
            err = -EPIPE
            break
        room = bytering_room(&peer.rx)
        if room == 0:
            r = wait_unlocked(can_send, s, &timeo, &lock)
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
        unix_sock_wake(peer, POLLIN)        # sk_data_ready, per skb queued
        if <uint64_t>r < k:
            break                   # a fault after some bytes: what was sent counts
    unix_lock_release(lock)
    unix_rights_drop(rights)
    if sent > 0:
        return <int64_t>sent
    return err

cdef int64_t unix_recv(unix_sock *s, sock_msg *m, uint32_t flags, unix_rights **got) noexcept nogil:
    # unix_stream_read_generic: bytes received (rights in got[0], owned by the caller), or
    # -errno when none were.  A read stops after the bytes that carried rights, never
    # returns two sets of them, and waits for at least one byte (all with MSG_WAITALL).
    cdef uint64_t copied = 0, avail, want, off = 0, head
    cdef uint64_t target = m.total if (flags & MSG_WAITALL) else 1
    cdef uint64_t timeo = socket_rcvtimeo(s.sock, flags)
    cdef unix_rights *r
    cdef bint take, peek = (flags & MSG_PEEK) != 0
    cdef int64_t c, e
    cdef uint64_t lock = unix_lock_acquire()
    got[0] = NULL
    if s.peer == NULL:                          # unconnected or listening: not TCP_ESTABLISHED
        unix_lock_release(lock)
        return -EINVAL
    if target == 0:
        target = 1
    while True:
        avail = bytering_used(&s.rx) - off
        if avail == 0:
            if copied >= target:
                break
            e = socket_take_error(s.sock)       # consumed even when bytes were read
            if e != 0:
                unix_lock_release(lock)
                return <int64_t>copied if copied > 0 else -e
            if s.shutdown & RCV_SHUTDOWN:
                break
            c = wait_unlocked(can_recv, s, &timeo, &lock)
            if c < 0:
                unix_lock_release(lock)
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
                unix_lock_release(lock)
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
            # above ~36 KiB differently).  Blocked senders wait for any room at all.
            if skbs_freed(s) and peer_of(s).open and sender_writable(s):
                unix_sock_wake(peer_of(s), POLLOUT)
            io_notify()
        if got[0] != NULL or <uint64_t>c < want or copied >= m.total:
            break
    unix_lock_release(lock)
    return <int64_t>copied

# ------------------------------------------------------------------ operations

cdef int64_t unix_sendmsg(socket *sock, sock_msg *m, uint32_t flags) noexcept nogil:
    # unix_stream_sendmsg's order: control messages, MSG_OOB, an address, then the data.
    cdef unix_rights *rights = NULL
    cdef int64_t rc
    if m.control != NULL:
        rc = unix_rights_parse(fs_current(), m.control, m.controllen, &rights)
        if rc < 0:
            return rc
    if flags & MSG_OOB:
        rc = -EOPNOTSUPP            # no out-of-band data (as without CONFIG_AF_UNIX_OOB)
    elif m.namelen != 0:
        rc = -EISCONN if unix_of(sock).peer != NULL else -EOPNOTSUPP
    else:
        return unix_send(unix_of(sock), m, rights, flags)
    unix_rights_drop(rights)
    return rc

cdef int64_t unix_recvmsg(socket *sock, sock_msg *m, uint32_t flags) noexcept nogil:
    # Data, then the rights that came with it into the control buffer (none: closed,
    # MSG_CTRUNC).  The sender's name (unix_copy_addr): the peer's, if it is bound.
    cdef unix_rights *got = NULL
    cdef fs_context *ctx
    cdef unix_sock *who
    cdef uint64_t lock
    cdef int64_t n
    if flags & MSG_OOB:
        return -EOPNOTSUPP
    n = unix_recv(unix_of(sock), m, flags, &got)
    if n < 0:
        unix_rights_drop(got)
        return n
    m.namelen = 0
    if m.name != NULL:
        lock = unix_lock_acquire()
        who = unix_of(sock).peer if sock.proto != NULL else NULL
        if who != NULL and who.addrlen != 0:
            memcpy(m.name, who.addr, who.addrlen)
            m.namelen = <int32_t>who.addrlen
        unix_lock_release(lock)
    if got != NULL:
        ctx = fs_current()
        if ctx == NULL:
            unix_rights_drop(got)
        else:
            m.control_used = unix_rights_deliver(ctx, got, m.ucontrol, m.ucontrollen, flags, &m.msg_flags)
    return n

cdef uint32_t unix_poll(socket *sock) noexcept nogil:
    # Under waitq_lock, without unix_lock: single-word reads.  POLLERR: the socket layer.
    cdef unix_sock *s = unix_of(sock)
    cdef unix_sock *peer = peer_of(s)
    cdef uint32_t mask = 0
    if s.listening:
        return (POLLIN | POLLRDNORM) if s.queued > 0 else 0
    if peer == NULL:
        # TCP_CLOSE: hung up, and writable (nothing in flight)
        return POLLHUP | POLLOUT | POLLWRNORM | POLLWRBAND
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

cdef int64_t unix_ioctl(socket *sock, uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef unix_sock *s = unix_of(sock)
    cdef int32_t n
    cdef uint64_t lock
    if cmd != SIOCINQ and cmd != SIOCOUTQ:
        return -ENOTTY
    lock = unix_lock_acquire()
    if s.listening and cmd == SIOCINQ:
        unix_lock_release(lock)
        return -EINVAL
    n = 0
    if peer_of(s) != NULL:
        n = <int32_t>bytering_used(&s.rx if cmd == SIOCINQ else &peer_of(s).rx)
    unix_lock_release(lock)
    if copy_to_user(arg, &n, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

cdef int64_t unix_shutdown(socket *sock, uint32_t mode) noexcept nogil:
    cdef unix_sock *s = unix_of(sock)
    cdef unix_sock *peer = peer_of(s)
    cdef uint64_t lock = unix_lock_acquire()
    s.shutdown |= mode
    socket_state_changed(sock)      # sk_state_change of both ends
    if peer != NULL and peer.open:
        if mode & RCV_SHUTDOWN:
            peer.shutdown |= SEND_SHUTDOWN
        if mode & SEND_SHUTDOWN:
            peer.shutdown |= RCV_SHUTDOWN
        if peer.sock != NULL:
            socket_state_changed(peer.sock)
    unix_lock_release(lock)
    return 0

cdef void unix_release(socket *sock) noexcept nogil:
    # unix_release_sock: the name is given up and a listener's pending connections are
    # reset; then this end goes (unix_sock_drop).  Queued rights are dropped after
    # unix_lock is let go: they may be sockets of this very pair, so the pair is not
    # touched after they are put.  (A cycle of sockets passed to each other and then
    # closed stays allocated: Linux's unix_gc is not reproduced.)
    cdef unix_sock *s = unix_of(sock)
    cdef unix_sock *e
    cdef unix_rights *queued = NULL
    cdef unix_rights *more
    cdef void *node
    cdef uint64_t lock = unix_lock_acquire()
    node = unix_conn_release(s)
    while s.accept_head != NULL:
        e = s.accept_head
        s.accept_head = e.accept_next
        e.accept_next = NULL
        more = unix_sock_drop(e, True)
        if more != NULL:
            more_chain(more, queued)
            queued = more
    s.accept_tail = NULL
    s.queued = 0
    s.listening = False
    more = unix_sock_drop(s, False)
    if more != NULL:
        more_chain(more, queued)
        queued = more
    unix_lock_release(lock)
    unix_rights_drop(queued)
    unix_conn_node_put(node)

cdef void more_chain(unix_rights *head, unix_rights *rest) noexcept nogil:
    while head.next != NULL:
        head = head.next
    head.next = rest

cdef unix_rights *unix_sock_drop(unix_sock *s, bint embryo) noexcept nogil:
    # The peer is shut down both ways and gets ECONNRESET if this end left bytes unread
    # or was never accepted.  The ends are freed when both are gone.
    cdef unix_sock *peer = peer_of(s)
    cdef unix_rights *queued = s.rights_head
    s.rights_head = NULL
    s.rights_tail = NULL
    s.open = False
    if s.sock != NULL:
        s.sock.proto = NULL
    s.sock = NULL
    s.shutdown = SHUTDOWN_MASK
    if peer != NULL and peer.open:
        peer.shutdown = SHUTDOWN_MASK
        if peer.sock != NULL:
            if bytering_used(&s.rx) > 0 or embryo:
                peer.sock.err = ECONNRESET
            socket_state_changed(peer.sock)
    bytering_free(&s.rx)
    if peer == NULL:
        kfree(s)
    elif not peer.open:
        bytering_free(&peer.rx)
        kfree(peer)
        kfree(s)
    io_notify()
    return queued

# ------------------------------------------------------------------ control messages

cdef int64_t unix_rights_parse(fs_context *ctx, const uint8_t *ctl, uint64_t len, unix_rights **out) noexcept nogil:
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
            unix_rights_drop(r)
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
                        unix_rights_drop(r)
                        return -EINVAL
                    for i in range(num):
                        memcpy(&fd, ctl + at + CMSGHDR_SIZE + 4 * i, 4)
                        f = fdtable_get(&ctx.fdt, <uint32_t>fd) if fd >= 0 else NULL
                        if f == NULL:
                            unix_rights_drop(r)
                            return -EBADF
                        vfs_file_get(f)
                        r.files[r.nfds] = f
                        r.nfds += 1
            elif ctype == SCM_CREDENTIALS:
                if clen != CMSGHDR_SIZE + UCRED_SIZE:
                    unix_rights_drop(r)
                    return -EINVAL
            else:
                unix_rights_drop(r)
                return -EINVAL
        at += (clen + 7) & ~(<uint64_t>7)      # CMSG_ALIGN
    out[0] = r
    return 0

cdef int64_t unix_rights_deliver(fs_context *ctx, unix_rights *got, uint64_t control, uint64_t controllen,
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
        unix_rights_drop(got)
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
    unix_rights_drop(got)
    return used

# ------------------------------------------------------------ addresses

cdef int64_t unix_address_check(const uint8_t *addr, int32_t len) noexcept nogil:
    cdef uint16_t family
    if len < SA_FAMILY_SIZE or len > UNIX_SOCKADDR_MAX:
        return -EINVAL
    memcpy(&family, addr, SA_FAMILY_SIZE)
    return 0 if family == AF_UNIX else -EINVAL

cdef int32_t unix_name_put(uint8_t *addr, const uint8_t *name, uint32_t len) noexcept nogil:
    cdef uint16_t family = AF_UNIX
    if len == 0:
        memcpy(addr, &family, SA_FAMILY_SIZE)
        return SA_FAMILY_SIZE
    memcpy(addr, name, len)
    return <int32_t>len

cdef void unix_autobind_name(uint8_t *name, uint32_t number) noexcept nogil:
    cdef const char *digits = b"0123456789abcdef"
    cdef uint16_t family = AF_UNIX
    cdef int i
    memcpy(name, &family, SA_FAMILY_SIZE)
    name[SA_FAMILY_SIZE] = 0
    for i in range(UNIX_AUTOBIND_LEN - SA_FAMILY_SIZE - 1):
        name[UNIX_AUTOBIND_LEN - 1 - i] = <uint8_t>digits[(number >> (4 * i)) & 0xf]
