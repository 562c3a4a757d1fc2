# AF_UNIX datagram sockets (see unix_dgram.pxd).  Semantics follow Linux's
# unix_dgram_sendmsg, unix_dgram_recvmsg, unix_dgram_connect, unix_bind/unix_autobind,
# unix_dgram_poll and unix_release_sock.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport POLLIN, POLLOUT, POLLHUP, POLLRDNORM, POLLWRNORM
from tyn.fs.context cimport fs_context, fs_current
from tyn.mm.heap cimport kmalloc, kcalloc, kfree
from tyn.arch.cpu cimport memset, memcpy, memcmp
from tyn.arch.uaccess cimport copy_to_user
from tyn.proc.waitq cimport io_notify
from tyn.net.sockaddr cimport AF_UNIX, AF_UNSPEC, SA_FAMILY_SIZE, UNIX_SOCKADDR_MAX
from tyn.net.socket cimport *
from tyn.net.unix cimport (unix_address_check, unix_autobind_name, unix_name_put, unix_lock_acquire, unix_lock_release, unix_rights, unix_rights_parse,
                           unix_rights_deliver, unix_rights_drop, PF_UNIX, SIOCINQ, SIOCOUTQ)
from tyn.net.unix_conn cimport unix_conn_path_node, unix_conn_make_node, unix_conn_node_put
from tyn.sys.errno cimport *

cdef sock_proto_ops dgram_ops
cdef unix_dsock *all_socks
cdef uint32_t autobind_next

cdef void unix_dgram_init() noexcept nogil:
    global all_socks, autobind_next
    all_socks = NULL
    autobind_next = 0
    memset(&dgram_ops, 0, sizeof(sock_proto_ops))
    dgram_ops.lock = lock_sock
    dgram_ops.unlock = unlock_sock
    dgram_ops.release = dgram_release
    dgram_ops.bind = dgram_bind
    dgram_ops.connect = dgram_connect
    dgram_ops.sendmsg = dgram_sendmsg
    dgram_ops.recvmsg = dgram_recvmsg
    dgram_ops.shutdown = dgram_shutdown
    dgram_ops.getname = dgram_getname
    dgram_ops.ioctl = dgram_ioctl
    dgram_ops.socketpair = dgram_socketpair
    dgram_ops.option_changed = dgram_option_changed
    # listen/accept: NULL (sock_no_listen / sock_no_accept: EOPNOTSUPP), as Linux's
    # unix_dgram_ops.
    socket_register_family(AF_UNIX, SOCK_DGRAM, 0, dgram_create)

cdef uint64_t lock_sock(socket *sock) noexcept nogil:
    return unix_lock_acquire()

cdef void unlock_sock(socket *sock, uint64_t flags) noexcept nogil:
    unix_lock_release(flags)

cdef inline unix_dsock *dsock_of(socket *sock) noexcept nogil:
    return <unix_dsock *>sock.proto

cdef inline socket *sock_of(unix_dsock *d) noexcept nogil:
    return <socket *>d.sock

# ------------------------------------------------------------------ lifetime (unix_lock held)

cdef inline void dsock_get(unix_dsock *d) noexcept nogil:
    d.refs += 1

cdef void dsock_put(unix_dsock *d) noexcept nogil:
    global all_socks
    d.refs -= 1
    if d.refs != 0:
        return
    if d.all_prev != NULL:
        d.all_prev.all_next = d.all_next
    else:
        all_socks = d.all_next
    if d.all_next != NULL:
        d.all_next.all_prev = d.all_prev
    kfree(d)

cdef int64_t dgram_create(socket *sock, int32_t protocol, bint for_pair) noexcept nogil:
    global all_socks
    cdef unix_dsock *d
    cdef uint64_t lock
    if protocol != 0 and protocol != PF_UNIX:
        return -EPROTONOSUPPORT
    d = <unix_dsock *>kcalloc(1, sizeof(unix_dsock))
    if d == NULL:
        return -ENOMEM
    d.sock = sock
    d.refs = 1
    sock.ops = &dgram_ops
    sock.proto = d
    sock.protocol = 0
    sock.state = SS_UNCONNECTED
    lock = unix_lock_acquire()
    d.all_next = all_socks
    if all_socks != NULL:
        all_socks.all_prev = d
    all_socks = d
    refresh(d)
    unix_lock_release(lock)
    return 0

# ------------------------------------------------------------------ readiness (unix_lock held)

cdef inline bint rx_full(unix_dsock *d) noexcept nogil:
    return d.rx_count > UNIX_DGRAM_QLEN          # unix_recvq_full

cdef inline bint blocked_by(unix_dsock *d, unix_dsock *other) noexcept nogil:
    # A receiver not connected back to us refuses us while its queue is full.
    return other.peer != d and rx_full(other)

cdef void refresh(unix_dsock *d) noexcept nogil:
    # unix_dgram_poll into sock.events (POLLERR: the socket layer adds it from sock.err).
    cdef socket *sock = sock_of(d)
    cdef uint32_t mask = 0
    if sock == NULL:
        return
    if d.shutdown & RCV_SHUTDOWN:
        mask |= POLLRDHUP | POLLIN | POLLRDNORM
    if d.shutdown == SHUTDOWN_MASK:
        mask |= POLLHUP
    if d.rx_count > 0:
        mask |= POLLIN | POLLRDNORM
    if d.wmem * 4 <= <uint64_t>sock.opt.sndbuf and not (d.peer != NULL and blocked_by(d, d.peer)):
        mask |= POLLOUT | POLLWRNORM | POLLWRBAND
    sock.events = mask

cdef void queue_changed(unix_dsock *r, uint32_t key) noexcept nogil:
    # r's queue grew or shrank: its readiness, and that of the sockets connected to it
    # (their POLLOUT depends on r's queue: Linux's peer_wake).
    cdef unix_dsock *d = all_socks
    refresh(r)
    if sock_of(r) != NULL:
        socket_wake(sock_of(r), key)
    while d != NULL:
        if d.peer == r and d != r and sock_of(d) != NULL:
            refresh(d)
            socket_wake(sock_of(d), POLLOUT)
        d = d.all_next
    io_notify()

cdef void dgram_option_changed(socket *sock, int32_t name) noexcept nogil:
    if name == SO_SNDBUF:
        refresh(dsock_of(sock))

# ------------------------------------------------------------------ names (unix_lock held)

cdef unix_dsock *find_bound(const uint8_t *addr, uint32_t len) noexcept nogil:
    cdef unix_dsock *d = all_socks
    while d != NULL:
        if d.sock != NULL and d.addrlen == len and memcmp(d.addr, addr, len) == 0:
            return d
        d = d.all_next
    return NULL

cdef unix_dsock *find_target(void *node, const uint8_t *addr, uint32_t len) noexcept nogil:
    # The socket a (resolved) address names: by inode for a path, else by abstract name.
    cdef unix_dsock *d = all_socks
    if node == NULL:
        return find_bound(addr, len)
    while d != NULL:
        if d.sock != NULL and d.node == node:
            return d
        d = d.all_next
    return NULL

cdef int64_t autobind(unix_dsock *d) noexcept nogil:
    # unix_autobind: the next free "\0%05x" name.
    global autobind_next
    cdef uint8_t name[UNIX_AUTOBIND_LEN]
    cdef uint32_t tries = 0
    while tries < UNIX_AUTOBIND_NAMES:
        unix_autobind_name(name, autobind_next)
        autobind_next = (autobind_next + 1) % UNIX_AUTOBIND_NAMES
        tries += 1
        if find_bound(name, UNIX_AUTOBIND_LEN) == NULL:
            memcpy(d.addr, name, UNIX_AUTOBIND_LEN)
            d.addrlen = UNIX_AUTOBIND_LEN
            return 0
    return -ENOSPC

cdef int64_t dgram_bind(socket *sock, const uint8_t *addr, int32_t len) noexcept nogil:
    cdef unix_dsock *d = dsock_of(sock)
    cdef int64_t r
    cdef uint16_t family
    cdef uint64_t lock
    if len == SA_FAMILY_SIZE:
        memcpy(&family, addr, SA_FAMILY_SIZE)
        if family != AF_UNIX:
            return -EINVAL
        lock = unix_lock_acquire()
        r = 0 if d.addrlen != 0 else autobind(d)     # already named: unix_autobind's 0
        unix_lock_release(lock)
        return r
    r = unix_address_check(addr, len)
    if r < 0:
        return r
    if addr[SA_FAMILY_SIZE] != 0:
        return bind_path(d, addr, len)
    lock = unix_lock_acquire()
    if d.addrlen != 0:
        r = -EINVAL
    elif find_bound(addr, <uint32_t>len) != NULL:
        r = -EADDRINUSE
    else:
        memcpy(d.addr, addr, <uint64_t>len)
        d.addrlen = <uint32_t>len
    unix_lock_release(lock)
    return r

cdef int64_t bind_path(unix_dsock *d, const uint8_t *addr, int32_t len) noexcept nogil:
    # unix_bind_bsd: the inode (EADDRINUSE if the path exists), then the name.
    cdef uint8_t name[UNIX_SOCKADDR_MAX]
    cdef uint32_t namelen
    cdef void *node
    cdef int64_t r
    cdef uint64_t lock = unix_lock_acquire()
    r = -EINVAL if d.addrlen != 0 else 0
    unix_lock_release(lock)
    if r < 0:
        return r
    r = unix_conn_make_node(addr, len, &node, name, &namelen)
    if r < 0:
        return r
    lock = unix_lock_acquire()
    if d.addrlen != 0:
        r = -EINVAL
    else:
        memcpy(d.addr, name, namelen)
        d.addrlen = namelen
        d.node = node
        node = NULL
    unix_lock_release(lock)
    unix_conn_node_put(node)
    return r

cdef int32_t dgram_getname(socket *sock, uint8_t *addr, bint peer) noexcept nogil:
    cdef unix_dsock *d = dsock_of(sock)
    cdef unix_dsock *who = d
    cdef int32_t n
    cdef uint64_t lock = unix_lock_acquire()
    if peer:
        who = d.peer
        if who == NULL:
            unix_lock_release(lock)
            return -ENOTCONN
    n = unix_name_put(addr, who.addr, who.addrlen)
    unix_lock_release(lock)
    return n

# ------------------------------------------------------------------ connect (unix_lock held)

cdef void set_peer(unix_dsock *d, unix_dsock *other) noexcept nogil:
    cdef unix_dsock *old = d.peer
    if other != NULL:
        dsock_get(other)
    d.peer = other
    sock_of(d).state = SS_CONNECTED if other != NULL else SS_UNCONNECTED
    refresh(d)
    if old != NULL:
        dsock_put(old)

cdef int64_t dgram_connect(socket *sock, const uint8_t *addr, int32_t len, uint32_t flags) noexcept nogil:
    # unix_dgram_connect: AF_UNSPEC disconnects; otherwise the bound socket at addr.
    cdef unix_dsock *d = dsock_of(sock)
    cdef unix_dsock *other
    cdef uint16_t family
    cdef int64_t r
    cdef uint64_t lock
    cdef void *node = NULL
    if len < SA_FAMILY_SIZE:
        return -EINVAL
    memcpy(&family, addr, SA_FAMILY_SIZE)
    if family == AF_UNSPEC:
        lock = unix_lock_acquire()
        set_peer(d, NULL)
        unix_lock_release(lock)
        return 0
    r = unix_address_check(addr, len)
    if r < 0:
        return r
    if len == SA_FAMILY_SIZE:
        return -EINVAL
    r = unix_conn_path_node(addr, len, &node)
    if r < 0:
        return r
    lock = unix_lock_acquire()
    other = find_target(node, addr, <uint32_t>len)
    if other == NULL:
        r = -ECONNREFUSED
    else:
        set_peer(d, other)
    unix_lock_release(lock)
    unix_conn_node_put(node)
    return r

cdef int64_t dgram_socketpair(socket *a, socket *b) noexcept nogil:
    cdef unix_dsock *da = dsock_of(a)
    cdef unix_dsock *db = dsock_of(b)
    cdef uint64_t lock = unix_lock_acquire()
    set_peer(da, db)
    set_peer(db, da)
    unix_lock_release(lock)
    return 0

# ------------------------------------------------------------------ send

cdef struct send_wait:
    unix_dsock *self
    unix_dsock *other

cdef int64_t dgram_sendmsg(socket *sock, sock_msg *m, uint32_t flags) noexcept nogil:
    cdef unix_dsock *d = dsock_of(sock)
    cdef unix_dsock *other = NULL
    cdef unix_datagram *dg = NULL
    cdef unix_rights *rights = NULL
    cdef uint64_t timeo = socket_sndtimeo(sock, flags)
    cdef uint64_t lock
    cdef int64_t r
    cdef send_wait w
    cdef void *node = NULL
    if flags & MSG_OOB:
        return -EOPNOTSUPP
    if m.namelen != 0:
        r = unix_address_check(m.name, m.namelen)
        if r < 0:
            return r
        if m.namelen == SA_FAMILY_SIZE:
            return -EINVAL
    if m.total > <uint64_t>sock.opt.sndbuf - UNIX_DGRAM_SNDBUF_RESERVE:
        return -EMSGSIZE
    if m.control != NULL:
        r = unix_rights_parse(fs_current(), m.control, m.controllen, &rights)
        if r < 0:
            return r
    if m.namelen != 0:
        r = unix_conn_path_node(m.name, m.namelen, &node)
        if r < 0:
            unix_rights_drop(rights)
            return r
    dg = <unix_datagram *>kmalloc(sizeof(unix_datagram) + m.total)
    if dg == NULL:
        unix_rights_drop(rights)
        unix_conn_node_put(node)
        return -ENOBUFS
    memset(dg, 0, sizeof(unix_datagram))
    dg.len = <uint32_t>m.total
    r = socket_msg_copy(m, 0, <uint8_t *>(dg + 1), m.total, False)
    if r < 0:
        kfree(dg)
        unix_rights_drop(rights)
        unix_conn_node_put(node)
        return r
    lock = unix_lock_acquire()
    while True:
        if m.namelen != 0:
            other = find_target(node, m.name, <uint32_t>m.namelen)
            if other == NULL:
                r = -ECONNREFUSED
                break
        else:
            other = d.peer
            if other == NULL:
                r = -ENOTCONN
                break
        if sock_of(other) == NULL:
            # The peer is gone (unix_dgram_sendmsg on a SOCK_DEAD other): forget it once.
            if other == d.peer:
                set_peer(d, NULL)
            r = -ECONNREFUSED
            break
        if other.peer != NULL and other.peer != d:
            r = -EPERM                          # unix_may_send: it talks to someone else
            break
        if other.shutdown & RCV_SHUTDOWN:
            r = -EPIPE
            break
        if blocked_by(d, other) or d.wmem + dg.len > <uint64_t>sock.opt.sndbuf:
            w.self = d
            w.other = other
            dsock_get(other)
            unix_lock_release(lock)
            r = socket_wait(can_send_or_room, &w, &timeo)
            lock = unix_lock_acquire()
            dsock_put(other)
            if r < 0:
                break
            continue
        # Queue it, with the sender's address as it is now.
        if d.addrlen != 0:
            memcpy(dg.addr, d.addr, d.addrlen)
            dg.addrlen = d.addrlen
        dg.sender = d
        dsock_get(d)
        d.wmem += dg.len
        dg.rights = rights
        rights = NULL
        if other.rx_tail == NULL:
            other.rx_head = dg
        else:
            other.rx_tail.next = dg
        other.rx_tail = dg
        other.rx_count += 1
        r = <int64_t>dg.len
        dg = NULL
        refresh(d)
        queue_changed(other, POLLIN)
        break
    unix_lock_release(lock)
    if dg != NULL:
        kfree(dg)
    unix_rights_drop(rights)
    unix_conn_node_put(node)
    return r

cdef bint can_send_or_room(void *arg) noexcept nogil:
    # The sender waits for the receiver's queue (or its own sndbuf) to drain, or for
    # either end to go away.
    cdef send_wait *w = <send_wait *>arg
    cdef socket *me = sock_of(w.self)
    if me == NULL or sock_of(w.other) == NULL:
        return True
    return not blocked_by(w.self, w.other) and w.self.wmem * 4 <= <uint64_t>me.opt.sndbuf

# ------------------------------------------------------------------ receive

cdef void datagram_free(unix_datagram *dg) noexcept nogil:
    # unix_lock held: the sender's charge goes, and it may write again.
    cdef unix_dsock *s = dg.sender
    s.wmem -= dg.len
    if sock_of(s) != NULL:
        refresh(s)
        socket_wake(sock_of(s), POLLOUT)
    dsock_put(s)
    kfree(dg)

cdef bint can_recv(void *arg) noexcept nogil:
    cdef socket *sock = <socket *>arg
    return (sock.events & (POLLIN | POLLHUP)) != 0 or sock.err != 0

cdef int64_t dgram_recvmsg(socket *sock, sock_msg *m, uint32_t flags) noexcept nogil:
    # unix_dgram_recvmsg: one datagram, truncated to the buffer (MSG_TRUNC in msg_flags;
    # the flag MSG_TRUNC returns its real length), the sender's address, its rights.
    cdef unix_dsock *d = dsock_of(sock)
    cdef unix_datagram *dg
    cdef unix_rights *rights = NULL
    cdef uint64_t timeo = socket_rcvtimeo(sock, flags)
    cdef uint64_t lock, n
    cdef int64_t r, e
    cdef fs_context *ctx
    if flags & MSG_OOB:
        return -EOPNOTSUPP
    lock = unix_lock_acquire()
    while d.rx_head == NULL:
        e = socket_take_error(sock)
        if e != 0:
            unix_lock_release(lock)
            return -e
        if d.shutdown & RCV_SHUTDOWN:
            unix_lock_release(lock)
            return 0
        unix_lock_release(lock)
        r = socket_wait(can_recv, sock, &timeo)
        lock = unix_lock_acquire()
        if r < 0:
            unix_lock_release(lock)
            return r
    dg = d.rx_head
    n = dg.len if dg.len < m.total else m.total
    if n > 0:
        r = socket_msg_copy(m, 0, <uint8_t *>(dg + 1), n, True)
        if r < 0:
            unix_lock_release(lock)
            return r
    if dg.len > m.total:
        m.msg_flags |= MSG_TRUNC
    if m.name != NULL:
        memcpy(m.name, dg.addr, dg.addrlen)
        m.namelen = <int32_t>dg.addrlen
    if flags & MSG_PEEK:
        r = <int64_t>(dg.len if flags & MSG_TRUNC else n)
        unix_lock_release(lock)
        return r                                # rights stay with the datagram
    d.rx_head = dg.next
    if d.rx_head == NULL:
        d.rx_tail = NULL
    d.rx_count -= 1
    rights = <unix_rights *>dg.rights
    r = <int64_t>(dg.len if flags & MSG_TRUNC else n)
    datagram_free(dg)
    queue_changed(d, POLLOUT)
    unix_lock_release(lock)
    if rights != NULL:
        ctx = fs_current()
        if ctx == NULL:
            unix_rights_drop(rights)
        else:
            m.control_used = <uint64_t>unix_rights_deliver(ctx, rights, m.ucontrol, m.ucontrollen,
                                                           flags, &m.msg_flags)
    return r

# ------------------------------------------------------------------ the rest

cdef int64_t dgram_ioctl(socket *sock, uint64_t cmd, uint64_t arg) noexcept nogil:
    # unix_ioctl: SIOCINQ is the next datagram's length, SIOCOUTQ the bytes in flight.
    cdef unix_dsock *d = dsock_of(sock)
    cdef int32_t n
    cdef uint64_t lock
    if cmd != SIOCINQ and cmd != SIOCOUTQ:
        return -ENOTTY
    lock = unix_lock_acquire()
    if cmd == SIOCINQ:
        n = <int32_t>(d.rx_head.len if d.rx_head != NULL else 0)
    else:
        n = <int32_t>d.wmem
    unix_lock_release(lock)
    if copy_to_user(arg, &n, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

cdef int64_t dgram_shutdown(socket *sock, uint32_t mode) noexcept nogil:
    # unix_shutdown: a datagram socket shuts its own halves only.
    cdef unix_dsock *d = dsock_of(sock)
    cdef uint64_t lock = unix_lock_acquire()
    d.shutdown |= mode
    refresh(d)
    socket_state_changed(sock)
    unix_lock_release(lock)
    return 0

cdef void dgram_release(socket *sock) noexcept nogil:
    # unix_release_sock: the name goes, the queue is dropped (senders uncharged), the peer
    # reference is let go; sockets connected to this one learn it on their next send
    # (ECONNREFUSED).  Rights are dropped after unix_lock.
    cdef unix_dsock *d = dsock_of(sock)
    cdef unix_datagram *dg
    cdef unix_rights *rights = NULL
    cdef unix_rights *r
    cdef unix_dsock *other
    cdef void *node
    cdef uint64_t lock = unix_lock_acquire()
    d.sock = NULL
    sock.proto = NULL
    d.addrlen = 0
    node = d.node
    d.node = NULL
    d.shutdown = SHUTDOWN_MASK
    while d.rx_head != NULL:
        dg = d.rx_head
        d.rx_head = dg.next
        r = <unix_rights *>dg.rights
        if r != NULL:
            r.next = rights
            rights = r
        datagram_free(dg)
    d.rx_tail = NULL
    d.rx_count = 0
    if d.peer != NULL:
        other = d.peer
        d.peer = NULL
        dsock_put(other)
    other = all_socks
    while other != NULL:
        # Sockets connected here: readiness changes (they can write: the send fails).
        if other.peer == d and sock_of(other) != NULL:
            refresh(other)
            socket_wake(sock_of(other), POLLOUT)
        other = other.all_next
    io_notify()
    dsock_put(d)
    unix_lock_release(lock)
    unix_rights_drop(rights)
    unix_conn_node_put(node)
