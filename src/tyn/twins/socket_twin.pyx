# Host face of the socket layer (tyn.net.socket, tyn.net.sockaddr): a fake protocol that
# Python drives, registered only here (the host build's twin, never the kernel), so the
# generic machinery -- registry, EINPROGRESS/EALREADY and SO_ERROR, accept and its
# wakeups, sock.events readiness, option hooks, addresses -- is tested without a network.
#
# The fake: bind/connect take a sockaddr_in; connect always starts (-EINPROGRESS) and
# Python completes it; listen records the backlog; Python queues connections to accept
# and datagrams to receive; sendmsg records what it was given.  Readiness is kept in
# sock.events (ops.poll is NULL), as the inet glue does.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file, POLLIN, POLLOUT, POLLERR, POLLHUP
from tyn.fs.fdtable cimport fdtable_get
from tyn.fs.context cimport fs_current
from tyn.mm.heap cimport kcalloc, kfree
from tyn.arch.cpu cimport memset, memcpy
from tyn.net.sockaddr cimport (sockaddr_in_parse, sockaddr_in_emit, sockaddr_family, SOCKADDR_UNSPEC_REFUSED,
                               SOCKADDR_UNSPEC_IF_ANY, SOCKADDR_UNSPEC_ACCEPTED, SOCKADDR_IN_SIZE)
from tyn.net.socket cimport *
from tyn.sys.errno cimport EAGAIN, EALREADY, EISCONN, EINPROGRESS, ENOTCONN, ENOMEM, EPIPE

cdef enum:
    FAKE_DATA_MAX = 256

cdef struct fake_sock:
    uint32_t local_ip
    uint16_t local_port
    uint16_t peer_port
    uint32_t peer_ip
    int32_t backlog
    uint32_t pending                # connections waiting for accept
    uint32_t shutdown
    int32_t last_option
    int32_t last_namelen            # of the last sendmsg
    uint32_t last_flags
    uint32_t rx_len                 # one queued datagram
    uint32_t rx_src_ip
    uint16_t rx_src_port
    uint8_t rx[FAKE_DATA_MAX]
    uint32_t tx_len
    uint8_t tx[FAKE_DATA_MAX]

cdef sock_proto_ops fake_ops
cdef uint64_t releases

cdef inline fake_sock *fake_of(socket *sock) noexcept nogil:
    return <fake_sock *>sock.proto

cdef uint64_t fake_lock(socket *sock) noexcept nogil:
    return 0                        # a test protocol: its state is only the test's, no lock to take

cdef void fake_unlock(socket *sock, uint64_t flags) noexcept nogil:
    pass

cdef void fake_release(socket *sock) noexcept nogil:
    global releases
    releases += 1
    kfree(sock.proto)
    sock.proto = NULL

cdef int64_t fake_bind(socket *sock, const uint8_t *addr, int32_t len) noexcept nogil:
    cdef fake_sock *f = fake_of(sock)
    return sockaddr_in_parse(addr, len, SOCKADDR_UNSPEC_IF_ANY, &f.local_ip, &f.local_port)

cdef int64_t fake_listen(socket *sock, int32_t backlog) noexcept nogil:
    fake_of(sock).backlog = backlog
    return 0

cdef bint has_connection(void *arg) noexcept nogil:
    return fake_of(<socket *>arg).pending > 0

cdef int64_t fake_accept(socket *sock, socket *newsock, uint32_t flags) noexcept nogil:
    cdef fake_sock *f = fake_of(sock)
    cdef fake_sock *child
    cdef uint64_t timeo = socket_rcvtimeo(sock, flags)
    cdef int64_t rc = socket_wait(has_connection, sock, &timeo)
    if rc < 0:
        return rc
    child = <fake_sock *>kcalloc(1, sizeof(fake_sock))
    if child == NULL:
        return -ENOMEM
    f.pending -= 1
    if f.pending == 0:
        sock.events &= ~(<uint32_t>POLLIN)
    child.local_ip = f.local_ip
    child.local_port = f.local_port
    child.peer_ip = 0x0a000002
    child.peer_port = <uint16_t>(40000 + f.pending)
    newsock.proto = child
    newsock.events = POLLOUT
    return 0

cdef int64_t fake_connect(socket *sock, const uint8_t *addr, int32_t len, uint32_t flags) noexcept nogil:
    cdef fake_sock *f = fake_of(sock)
    cdef int32_t rc
    if sock.state == SS_CONNECTING:
        return -EALREADY
    if sock.state == SS_CONNECTED:
        return -EISCONN
    rc = sockaddr_in_parse(addr, len, SOCKADDR_UNSPEC_REFUSED, &f.peer_ip, &f.peer_port)
    if rc < 0:
        return rc
    sock.state = SS_CONNECTING
    return -EINPROGRESS

cdef int64_t fake_sendmsg(socket *sock, sock_msg *m, uint32_t flags) noexcept nogil:
    cdef fake_sock *f = fake_of(sock)
    cdef uint64_t n = m.total if m.total < FAKE_DATA_MAX else FAKE_DATA_MAX
    f.last_namelen = m.namelen
    f.last_flags = flags
    if f.shutdown & SEND_SHUTDOWN:
        return -EPIPE
    if sock.state != SS_CONNECTED and m.namelen == 0:
        return -ENOTCONN
    f.tx_len = 0
    if n == 0:
        return 0
    n = <uint64_t>socket_msg_copy(m, 0, f.tx, n, False)
    if <int64_t>n > 0:
        f.tx_len = <uint32_t>n
    return <int64_t>n

cdef bint has_data(void *arg) noexcept nogil:
    return fake_of(<socket *>arg).rx_len > 0

cdef int64_t fake_recvmsg(socket *sock, sock_msg *m, uint32_t flags) noexcept nogil:
    # A datagram: truncated to the buffer (MSG_TRUNC), its source as the address.
    cdef fake_sock *f = fake_of(sock)
    cdef uint64_t timeo = socket_rcvtimeo(sock, flags)
    cdef int64_t rc = socket_wait(has_data, sock, &timeo)
    cdef uint64_t n
    cdef uint32_t full
    if rc < 0:
        return rc
    full = f.rx_len
    n = full if full < m.total else m.total
    if n > 0:
        rc = socket_msg_copy(m, 0, f.rx, n, True)
        if rc < 0:
            return rc
    if m.name != NULL:
        m.namelen = sockaddr_in_emit(m.name, f.rx_src_ip, f.rx_src_port)
    if full > m.total:
        m.msg_flags |= MSG_TRUNC
    socket_put_cmsg(m, SOL_SOCKET, 0x7f, &full, 4)      # a made-up control message
    if not (flags & MSG_PEEK):
        f.rx_len = 0
        sock.events &= ~(<uint32_t>POLLIN)
    return <int64_t>n

cdef int64_t fake_shutdown(socket *sock, uint32_t mode) noexcept nogil:
    fake_of(sock).shutdown |= mode
    socket_state_changed(sock)
    return 0

cdef int32_t fake_getname(socket *sock, uint8_t *addr, bint peer) noexcept nogil:
    cdef fake_sock *f = fake_of(sock)
    if peer:
        if sock.state != SS_CONNECTED:
            return -ENOTCONN
        return sockaddr_in_emit(addr, f.peer_ip, f.peer_port)
    return sockaddr_in_emit(addr, f.local_ip, f.local_port)

cdef void fake_option_changed(socket *sock, int32_t name) noexcept nogil:
    fake_of(sock).last_option = name

cdef int64_t fake_create(socket *sock, int32_t protocol, bint for_pair) noexcept nogil:
    sock.proto = kcalloc(1, sizeof(fake_sock))
    if sock.proto == NULL:
        return -ENOMEM
    sock.ops = &fake_ops
    sock.events = 0
    return 0

def register_fake(int family, int type, int protocol):
    """Register the fake protocol for (family, type, protocol); the registry's answer."""
    memset(&fake_ops, 0, sizeof(sock_proto_ops))
    fake_ops.lock = fake_lock
    fake_ops.unlock = fake_unlock
    fake_ops.release = fake_release
    fake_ops.bind = fake_bind
    fake_ops.listen = fake_listen
    fake_ops.accept = fake_accept
    fake_ops.connect = fake_connect
    fake_ops.sendmsg = fake_sendmsg
    fake_ops.recvmsg = fake_recvmsg
    fake_ops.shutdown = fake_shutdown
    fake_ops.getname = fake_getname
    fake_ops.option_changed = fake_option_changed
    return socket_register_family(family, type, protocol, fake_create)

def release_count():
    return releases

cdef socket *sock_at(int fd) except NULL:
    cdef vfs_file *f = fdtable_get(&fs_current().fdt, <uint64_t>fd)
    cdef socket *s
    if f == NULL:
        raise ValueError(f"fd {fd} is not open")
    s = socket_of_file(f)
    if s == NULL:
        raise ValueError(f"fd {fd} is not a socket")
    return s

cdef fake_sock *fake_at(int fd) except NULL:
    cdef socket *s = sock_at(fd)
    if s.ops != &fake_ops:
        raise ValueError(f"fd {fd} is not a fake socket")
    return fake_of(s)

def complete_connect(int fd, int err=0):
    """The fake's connection attempt ends: connected (err 0) or failed with err."""
    cdef socket *s = sock_at(fd)
    if err == 0:
        s.events |= POLLOUT
        socket_connected(s)
    else:
        s.events |= POLLOUT | POLLERR | POLLHUP
        socket_connect_failed(s, err)

def push_connection(int fd):
    """A connection arrives at the listener at fd (POLLIN, a keyed wakeup)."""
    cdef socket *s = sock_at(fd)
    fake_at(fd).pending += 1
    s.events |= POLLIN
    socket_wake(s, POLLIN)

def push_datagram(int fd, bytes data, uint32_t src_ip, uint16_t src_port):
    cdef socket *s = sock_at(fd)
    cdef fake_sock *f = fake_at(fd)
    if len(data) > FAKE_DATA_MAX:
        raise ValueError("too long")
    memcpy(f.rx, <const char *>data, len(data))
    f.rx_len = len(data)
    f.rx_src_ip = src_ip
    f.rx_src_port = src_port
    s.events |= POLLIN
    socket_wake(s, POLLIN)

def set_error(int fd, int err):
    socket_set_error(sock_at(fd), err)

def info(int fd):
    """What the fake recorded for the socket at fd."""
    cdef socket *s = sock_at(fd)
    cdef fake_sock *f = fake_at(fd)
    return {"state": s.state, "backlog": f.backlog, "local": (f.local_ip, f.local_port),
            "peer": (f.peer_ip, f.peer_port), "shutdown": f.shutdown, "last_option": f.last_option,
            "last_namelen": f.last_namelen, "last_flags": f.last_flags, "sent": f.tx[:f.tx_len],
            "keepalive": bool(s.opt.flags & SOCKOPT_KEEPALIVE), "sndbuf": s.opt.sndbuf}

def wakeups(int fd):
    """(keyed_in, keyed_out, unkeyed) wakeup counts of the socket at fd."""
    cdef socket *s = sock_at(fd)
    return s.wakeups.keyed_in, s.wakeups.keyed_out, s.wakeups.unkeyed

# sockaddr helpers
def sockaddr_in_parse_(bytes addr, int unspec):
    cdef uint32_t ip = 0
    cdef uint16_t port = 0
    cdef int32_t rc = sockaddr_in_parse(<const uint8_t *><const char *>addr, len(addr), unspec, &ip, &port)
    if rc < 0:
        return rc
    return (ip, port)

def sockaddr_in_emit_(uint32_t ip, uint16_t port):
    cdef uint8_t out[SOCKADDR_IN_SIZE]
    cdef int32_t n = sockaddr_in_emit(out, ip, port)
    return bytes(out[:n])

def sockaddr_family_(bytes addr):
    return sockaddr_family(<const uint8_t *><const char *>addr, len(addr))

UNSPEC_REFUSED = SOCKADDR_UNSPEC_REFUSED
UNSPEC_IF_ANY = SOCKADDR_UNSPEC_IF_ANY
UNSPEC_ACCEPTED = SOCKADDR_UNSPEC_ACCEPTED
