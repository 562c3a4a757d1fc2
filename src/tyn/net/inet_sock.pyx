# AF_INET sockets over the stack's TCP and UDP pcbs (see inet_sock.pxd).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from libc.string cimport memcpy
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.mm.heap cimport kmalloc, kfree
from tyn.fs.vfs cimport POLLIN, POLLOUT, POLLERR, POLLHUP, POLLRDNORM
from tyn.sys.errno cimport (EAGAIN, EINVAL, ENOBUFS, ENOTCONN, EISCONN, EALREADY, EINPROGRESS,
                            EADDRNOTAVAIL, ENOPROTOOPT, ENOTTY, EFAULT, EDESTADDRREQ, EOPNOTSUPP,
                            EMSGSIZE, EPROTONOSUPPORT, EPIPE)
from tyn.net.socket cimport *
from tyn.net.sockaddr cimport (AF_INET, SOCKADDR_IN_SIZE, SOCKADDR_UNSPEC_REFUSED, SOCKADDR_UNSPEC_IF_ANY,
                               SOCKADDR_UNSPEC_ACCEPTED, INADDR_ANY, sockaddr_in_parse, sockaddr_in_emit)
from tyn.net.unix cimport SIOCINQ, SIOCOUTQ
from tyn.net.netlock cimport net_lock_acquire, net_lock_release
from tyn.proc.task cimport process
from tyn.proc.process cimport process_current
from tyn.net.netinit cimport net_timer_update
from tyn.net.netif cimport netif_poll, netif_is_local_addr
from tyn.net.wire_ipv4 cimport IPPROTO_TCP, IPPROTO_UDP, IPDEFTTL, MAXTTL
from tyn.net.tcp_types cimport (tcp_pcb, tcp_copy_fn, TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_CLOSED,
                                TCP_EVENT_ERR, TCP_EVENT_SOFT_ERR, TF_NODELAY, TCP_RMEM_DEFAULT)
from tyn.net.tcp cimport (tcp_new, tcp_bind, tcp_listen, tcp_accept, tcp_connect, tcp_send, tcp_recv,
                          tcp_shutdown, tcp_close, tcp_abort, tcp_getsockname, tcp_getpeername, tcp_poll,
                          tcp_sock_error, tcp_soft_error, tcp_send_closing, tcp_readable, tcp_unacked_and_unsent, tcp_state, tcp_set_nodelay,
                          tcp_set_keepalive, tcp_set_keepalive_params, tcp_set_reuseaddr, tcp_set_sndbuf,
                          tcp_set_rcvbuf, tcp_buffer_size, tcp_set_user, tcp_user, tcp_set_event_hook, tcp_set_ip_tos,
                          tcp_set_ip_ttl, tcp_ip_tos, tcp_ip_ttl)
from tyn.net.udp cimport (udp_pcb, udp_new, udp_free, udp_bind, udp_connect, udp_disconnect, udp_sendto,
                          udp_send, udp_recv, udp_next_length, udp_set_rcvbuf, udp_set_event_callback,
                          udp_take_error, UDP_PCB_BOUND, IP_DEFAULT_MULTICAST_TTL,
                          UDP_PCB_REUSEADDR, UDP_PCB_CONNECTED, UDP_PCB_RCV_SHUTDOWN, UDP_PCB_SEND_SHUTDOWN, UDP_RECV_PEEK, UDP_MAX_PAYLOAD)

cdef enum:
    # What SO_SNDBUF reports for a new TCP socket: Linux's net.ipv4.tcp_wmem[1], its start
    # before autotuning.  Our pcb keeps its own default (TCP_WMEM_DEFAULT) until SO_SNDBUF.
    TCP_SO_SNDBUF_INITIAL = 16384

cdef sock_proto_ops stream_ops
cdef sock_proto_ops dgram_ops

cdef enum:
    LINGER_USEC_PER_SEC = 1000000       # l_linger is in seconds, socket waits in microseconds

# ------------------------------------------------------------------ locking

cdef uint64_t inet_lock(socket *sock) noexcept nogil:
    return net_lock_acquire()

cdef void inet_unlock(socket *sock, uint64_t flags) noexcept nogil:
    # Leave the stack: packets a call queued on loopback are delivered, timers re-armed.
    netif_poll()
    net_timer_update()
    net_lock_release(flags)

cdef int64_t wait_unlocked(socket *sock, iowait_cond_fn cond, uint64_t *timeo, uint64_t *flags) noexcept nogil:
    # socket_wait with net_lock let go for the sleep.
    cdef int64_t r
    inet_unlock(sock, flags[0])
    r = socket_wait(cond, sock, timeo)
    flags[0] = net_lock_acquire()
    return r

# ------------------------------------------------------------ user copies for TCP

cdef int64_t copy_in(void *dst, const void *src, uint64_t n) noexcept nogil:
    return copy_from_user(dst, <uint64_t>src, n)

cdef int64_t copy_out(void *dst, const void *src, uint64_t n) noexcept nogil:
    return copy_to_user(<uint64_t>dst, src, n)

# ------------------------------------------------------------------ addresses

cdef int64_t local_address_ok(uint32_t ip) noexcept nogil:
    # inet_bind: an address this host has (or any).
    if ip == INADDR_ANY or netif_is_local_addr(ip):
        return 0
    return -EADDRNOTAVAIL

# ================================================================== TCP (SOCK_STREAM)

cdef inline tcp_pcb *pcb_of(socket *sock) noexcept nogil:
    return <tcp_pcb *>sock.proto

cdef void refresh(socket *sock) noexcept nogil:
    if sock.proto != NULL:
        sock.events = tcp_poll(pcb_of(sock))

cdef void apply_options(socket *sock, tcp_pcb *pcb) noexcept nogil:
    # The SOL_SOCKET settings a pcb follows (a new pcb, or one accept hands out).
    tcp_set_reuseaddr(pcb, (sock.opt.flags & SOCKOPT_REUSEADDR) != 0)
    tcp_set_keepalive(pcb, (sock.opt.flags & SOCKOPT_KEEPALIVE) != 0)
    # Buffer sizes only once set (SOCK_SNDBUF_LOCK / SOCK_RCVBUF_LOCK): until then TCP
    # sizes them itself, as Linux autotunes.
    if sock.opt.flags & SOCKOPT_SNDBUF_LOCK:
        tcp_set_sndbuf(pcb, <uint32_t>sock.opt.sndbuf)
    if sock.opt.flags & SOCKOPT_RCVBUF_LOCK:
        tcp_set_rcvbuf(pcb, <uint32_t>sock.opt.rcvbuf)

cdef uint32_t stream_buffer_size(socket *sock, bint send) noexcept nogil:
    # Linux reports sk_sndbuf/sk_rcvbuf: the user's size once set (SOCK_*BUF_LOCK), else the
    # start values until the connection is made (tcp_init_buffer_space sizes the send
    # buffer then), and what autotuning made of them after.
    cdef uint32_t lock = SOCKOPT_SNDBUF_LOCK if send else SOCKOPT_RCVBUF_LOCK
    if sock.opt.flags & lock or sock.state != SS_CONNECTED or sock.proto == NULL:
        return <uint32_t>(sock.opt.sndbuf if send else sock.opt.rcvbuf)
    return tcp_buffer_size(pcb_of(sock), send)

cdef void tcp_event(tcp_pcb *pcb, void *user, uint32_t events) noexcept nogil:
    # TCP's readiness hook (net_lock held): mirror readiness, finish connects, move errors
    # to the socket (Linux keeps one sk_err, read by SO_ERROR and by the next call).
    cdef socket *sock = <socket *>user
    cdef int st, err
    if sock == NULL:
        return
    if events & TCP_EVENT_SOFT_ERR:
        sock.err_soft = tcp_soft_error(pcb)
    sock.events = tcp_poll(pcb)
    if sock.state == SS_CONNECTING:
        st = tcp_state(pcb)
        if st == TCP_ESTABLISHED or st == TCP_CLOSE_WAIT:
            socket_connected(sock)
        elif events & TCP_EVENT_ERR:
            socket_connect_failed(sock, tcp_sock_error(pcb))
        return
    if events & TCP_EVENT_ERR:
        err = tcp_sock_error(pcb)
        if err != 0:
            socket_set_error(sock, err)
            return
    socket_wake(sock, events & (POLLIN | POLLOUT))

cdef int64_t stream_create(socket *sock, int32_t protocol, bint for_pair) noexcept nogil:
    cdef uint64_t flags
    cdef tcp_pcb *pcb
    if protocol != 0 and protocol != IPPROTO_TCP:
        return -EPROTONOSUPPORT
    flags = net_lock_acquire()
    pcb = tcp_new()
    if pcb == NULL:
        net_lock_release(flags)
        return -ENOBUFS
    sock.protocol = IPPROTO_TCP
    sock.ops = &stream_ops
    sock.proto = pcb
    sock.state = SS_UNCONNECTED
    sock.opt.sndbuf = TCP_SO_SNDBUF_INITIAL     # tcp_init_sock: tcp_wmem[1], tcp_rmem[1]
    sock.opt.rcvbuf = TCP_RMEM_DEFAULT
    tcp_set_user(pcb, sock)
    apply_options(sock, pcb)
    refresh(sock)
    net_lock_release(flags)
    return 0

cdef bint linger_over(void *arg) noexcept nogil:
    # sk_stream_wait_close's condition: our FIN is no longer waiting for its ACK.  Read
    # without net_lock (see socket.pxd): one word of a pcb the socket still owns.
    return not tcp_send_closing(pcb_of(<socket *>arg))

cdef bint lingers(socket *sock) noexcept nogil:
    # inet_release: SO_LINGER with a time makes close wait, except in an exiting process.
    cdef process *p = process_current()
    return (sock.opt.flags & SOCKOPT_LINGER) != 0 and sock.opt.linger_secs != 0 and (p == NULL or not p.exiting)

cdef void stream_release(socket *sock) noexcept nogil:
    cdef uint64_t flags = net_lock_acquire()
    cdef tcp_pcb *pcb = pcb_of(sock)
    cdef uint64_t timeo
    if pcb != NULL:
        if (sock.opt.flags & SOCKOPT_LINGER) and sock.opt.linger_secs == 0:
            tcp_set_user(pcb, NULL)         # the stack owns it from now on
            sock.proto = NULL
            tcp_abort(pcb)                  # SO_LINGER {on, 0}: reset, drop what is queued
            inet_unlock(sock, flags)
            return
        if lingers(sock) and tcp_readable(pcb) == 0:
            # Linux's tcp_close with a linger time: the FIN goes now, then close waits up
            # to l_linger seconds (a signal ends it too) for its ACK, still owning the pcb;
            # close() returns 0 either way.  (Unread data means a reset: no wait.)
            tcp_shutdown(pcb, SHUT_WR)
            timeo = <uint64_t><uint32_t>sock.opt.linger_secs * LINGER_USEC_PER_SEC
            wait_unlocked(sock, linger_over, &timeo, &flags)
        tcp_set_user(pcb, NULL)             # the stack owns it from now on
        sock.proto = NULL
        tcp_close(pcb)                      # FIN after the queued data, in the background
    inet_unlock(sock, flags)

cdef int64_t stream_bind(socket *sock, const uint8_t *addr, int32_t len) noexcept nogil:
    cdef uint32_t ip
    cdef uint16_t port
    cdef int64_t r = sockaddr_in_parse(addr, len, SOCKADDR_UNSPEC_IF_ANY, &ip, &port)
    cdef uint64_t flags
    if r < 0:
        return r
    flags = net_lock_acquire()
    r = local_address_ok(ip)
    if r == 0:
        r = tcp_bind(pcb_of(sock), ip, port)
    inet_unlock(sock, flags)
    return r

cdef int64_t stream_listen(socket *sock, int32_t backlog) noexcept nogil:
    cdef uint64_t flags = net_lock_acquire()
    cdef int64_t r
    if sock.state != SS_UNCONNECTED:
        r = -EINVAL
    else:
        r = tcp_listen(pcb_of(sock), backlog)
        refresh(sock)
    inet_unlock(sock, flags)
    return r

cdef bint can_accept(void *arg) noexcept nogil:
    cdef socket *sock = <socket *>arg
    return (sock.events & (POLLIN | POLLERR | POLLHUP)) != 0 or not (sock.flags & SOCKET_ACCEPTCONN)

cdef int64_t stream_accept(socket *sock, socket *newsock, uint32_t mflags) noexcept nogil:
    cdef uint64_t timeo = socket_rcvtimeo(sock, mflags)
    cdef uint64_t flags = net_lock_acquire()
    cdef tcp_pcb *pcb
    cdef int err = 0
    cdef int64_t r
    while True:
        if not (sock.flags & SOCKET_ACCEPTCONN):
            inet_unlock(sock, flags)
            return -EINVAL
        pcb = tcp_accept(pcb_of(sock), &err)
        refresh(sock)
        if pcb != NULL:
            newsock.proto = pcb
            newsock.state = SS_CONNECTED
            tcp_set_user(pcb, newsock)
            apply_options(newsock, pcb)
            refresh(newsock)
            inet_unlock(sock, flags)
            return 0
        if err != -EAGAIN:
            inet_unlock(sock, flags)
            return err
        r = wait_unlocked(sock, can_accept, &timeo, &flags)
        if r < 0:
            inet_unlock(sock, flags)
            return r

cdef int64_t stream_connect(socket *sock, const uint8_t *addr, int32_t len, uint32_t mflags) noexcept nogil:
    # Starts the handshake: -EINPROGRESS with sock.state = SS_CONNECTING (the socket layer
    # waits for a blocking caller; tcp_event finishes it), -EALREADY while one is under way.
    cdef uint32_t ip
    cdef uint16_t port
    cdef int64_t r = sockaddr_in_parse(addr, len, SOCKADDR_UNSPEC_REFUSED, &ip, &port)
    cdef uint64_t flags
    cdef tcp_pcb *pcb
    if r < 0:
        return r
    flags = net_lock_acquire()
    if sock.state == SS_CONNECTED:
        # The first connect() after a non-blocking one completed reports success
        # (__inet_stream_connect in SS_CONNECTING with the handshake done); then EISCONN.
        r = 0 if sock.flags & SOCKET_CONNECT_UNREPORTED else -EISCONN
        sock.flags &= ~(<uint32_t>SOCKET_CONNECT_UNREPORTED)
    elif sock.flags & SOCKET_ACCEPTCONN:
        r = -EISCONN                        # inet_stream_connect: not in TCP_CLOSE
    elif sock.state == SS_CONNECTING:
        r = -EALREADY
    else:
        pcb = pcb_of(sock)
        r = tcp_connect(pcb, ip, port)
        if r == -EISCONN and tcp_state(pcb) == TCP_CLOSED:
            # A connect that failed left its pcb spent: go on with a fresh one, as Linux
            # lets a socket connect again after ECONNREFUSED or ETIMEDOUT.
            pcb = tcp_new()
            if pcb == NULL:
                r = -ENOBUFS
            else:
                tcp_set_user(pcb_of(sock), NULL)
                tcp_abort(pcb_of(sock))
                sock.proto = pcb
                tcp_set_user(pcb, sock)
                apply_options(sock, pcb)
                r = tcp_connect(pcb, ip, port)
        if r == -EINPROGRESS:
            sock.state = SS_CONNECTING
        refresh(sock)
    inet_unlock(sock, flags)
    return r

cdef bint can_send(void *arg) noexcept nogil:
    return ((<socket *>arg).events & (POLLOUT | POLLERR | POLLHUP)) != 0

cdef bint can_recv(void *arg) noexcept nogil:
    cdef socket *sock = <socket *>arg
    return (sock.events & (POLLIN | POLLERR | POLLHUP)) != 0 or sock.err != 0

cdef int64_t stream_sendmsg(socket *sock, sock_msg *m, uint32_t mflags) noexcept nogil:
    cdef uint64_t timeo = socket_sndtimeo(sock, mflags)
    cdef uint64_t flags = net_lock_acquire()
    cdef uint64_t sent = 0, i = 0, off = 0, base, n
    cdef int64_t r = 0
    cdef int32_t err
    cdef tcp_copy_fn copy = NULL
    if m.user:
        copy = copy_in
    while sent < m.total and i < m.iovcnt:
        base = m.iov[2 * i]
        n = m.iov[2 * i + 1]
        if off >= n:
            i += 1
            off = 0
            continue
        if sock.err != 0:
            err = socket_take_error(sock)
            r = -err
            break
        r = tcp_send(pcb_of(sock), <const uint8_t *>(base + off), n - off, copy)
        refresh(sock)
        if r > 0:
            sent += <uint64_t>r
            off += <uint64_t>r
            continue
        if r != -EAGAIN:
            break
        r = wait_unlocked(sock, can_send, &timeo, &flags)
        if r < 0:
            break
    inet_unlock(sock, flags)
    if sent > 0:
        return <int64_t>sent
    if r == 0 and m.total == 0:
        return 0
    return r

cdef int64_t peek_into(socket *sock, sock_msg *m) noexcept nogil:
    # MSG_PEEK: TCP peeks from the start each time, so copy through one kernel buffer.
    cdef uint64_t n = m.total
    cdef uint8_t *buf
    cdef int64_t r
    if n > INET_PEEK_MAX:
        n = INET_PEEK_MAX
    if n == 0:
        return tcp_recv(pcb_of(sock), NULL, 0, MSG_PEEK, NULL)
    buf = <uint8_t *>kmalloc(n)
    if buf == NULL:
        return -ENOBUFS
    r = tcp_recv(pcb_of(sock), buf, n, MSG_PEEK, NULL)
    if r > 0:
        r = socket_msg_copy(m, 0, buf, <uint64_t>r, True)
    kfree(buf)
    return r

cdef int64_t stream_recvmsg(socket *sock, sock_msg *m, uint32_t mflags) noexcept nogil:
    cdef uint64_t timeo = socket_rcvtimeo(sock, mflags)
    cdef uint64_t flags = net_lock_acquire()
    cdef uint64_t got = 0, i = 0, off = 0
    cdef int64_t r = 0
    cdef tcp_copy_fn copy = NULL            # kernel buffers: memcpy
    if m.user:
        copy = copy_out
    m.namelen = 0                           # TCP reports no source address
    while True:
        if mflags & MSG_PEEK:
            r = peek_into(sock, m)
        elif m.total == 0:
            # A 0-byte recv waits for data like a 1-byte one (sock_rcvlowat's target of 1)
            # and then returns 0.
            r = tcp_recv(pcb_of(sock), NULL, 0, 0, copy)
        else:
            while i < m.iovcnt and off >= m.iov[2 * i + 1]:
                i += 1
                off = 0
            if i >= m.iovcnt:
                break                       # every buffer full
            r = tcp_recv(pcb_of(sock), <uint8_t *>(m.iov[2 * i] + off), m.iov[2 * i + 1] - off, 0, copy)
        refresh(sock)
        if r > 0:
            got += <uint64_t>r
            off += <uint64_t>r
            if mflags & MSG_PEEK:
                break
            continue
        if got > 0 and not (mflags & MSG_WAITALL):
            break
        if got == 0 and sock.err != 0:
            r = -socket_take_error(sock)    # a reset or timeout outranks end of stream
            break
        if r != -EAGAIN:
            break                           # end of stream, or an error
        if got > 0 and (mflags & MSG_DONTWAIT):
            break
        r = wait_unlocked(sock, can_recv, &timeo, &flags)
        if r < 0:
            break
    inet_unlock(sock, flags)
    if got > 0:
        return <int64_t>got
    return r

cdef int64_t stream_shutdown(socket *sock, uint32_t mode) noexcept nogil:
    cdef uint64_t flags = net_lock_acquire()
    cdef int64_t r
    if sock.flags & SOCKET_ACCEPTCONN:
        r = -ENOTCONN
    else:
        r = tcp_shutdown(pcb_of(sock), <int>mode - 1)   # RCV/SEND_SHUTDOWN bits -> SHUT_RD/WR/RDWR
        refresh(sock)
        socket_state_changed(sock)
    inet_unlock(sock, flags)
    return r

cdef int32_t stream_getname(socket *sock, uint8_t *addr, bint peer) noexcept nogil:
    cdef uint32_t ip = 0
    cdef uint16_t port = 0
    cdef uint64_t flags = net_lock_acquire()
    cdef int r
    if peer:
        r = tcp_getpeername(pcb_of(sock), &ip, &port)
    else:
        r = tcp_getsockname(pcb_of(sock), &ip, &port)
    net_lock_release(flags)
    if r < 0:
        return r
    return sockaddr_in_emit(addr, ip, port)

cdef void stream_option_changed(socket *sock, int32_t name) noexcept nogil:
    cdef tcp_pcb *pcb = pcb_of(sock)
    if pcb != NULL:
        apply_options(sock, pcb)

cdef int64_t stream_setsockopt(socket *sock, int32_t level, int32_t name, uint64_t uval, uint32_t ulen) noexcept nogil:
    cdef int32_t v
    cdef int64_t r
    cdef uint64_t flags
    if level == IPPROTO_IP:
        return stream_ip_setsockopt(sock, name, uval, ulen)
    if level != IPPROTO_TCP:
        return -ENOPROTOOPT
    r = socket_opt_get_int(uval, ulen, &v)
    if r < 0:
        return r
    flags = net_lock_acquire()
    r = 0
    if name == TCP_NODELAY:
        tcp_set_nodelay(pcb_of(sock), v != 0)
    elif name == TCP_KEEPIDLE:
        if v < 1 or v > TCP_KEEPIDLE_MAX:
            r = -EINVAL
        else:
            tcp_set_keepalive_params(pcb_of(sock), <uint32_t>v, 0, 0)
    elif name == TCP_KEEPINTVL:
        if v < 1 or v > TCP_KEEPIDLE_MAX:
            r = -EINVAL
        else:
            tcp_set_keepalive_params(pcb_of(sock), 0, <uint32_t>v, 0)
    elif name == TCP_KEEPCNT:
        if v < 1 or v > TCP_KEEPCNT_MAX:
            r = -EINVAL
        else:
            tcp_set_keepalive_params(pcb_of(sock), 0, 0, <uint32_t>v)
    else:
        r = -ENOPROTOOPT
    inet_unlock(sock, flags)
    return r

cdef int64_t stream_getsockopt(socket *sock, int32_t level, int32_t name, uint64_t uval, uint64_t ulen) noexcept nogil:
    cdef uint64_t flags
    cdef int32_t v
    if level == IPPROTO_IP:
        return stream_ip_getsockopt(sock, name, uval, ulen)
    if level != IPPROTO_TCP:
        return -ENOPROTOOPT
    flags = net_lock_acquire()
    if name == TCP_NODELAY:
        v = 1 if (pcb_of(sock).flags & TF_NODELAY) else 0
    elif name == TCP_KEEPIDLE:
        v = <int32_t>pcb_of(sock).keep_idle_s
    elif name == TCP_KEEPINTVL:
        v = <int32_t>pcb_of(sock).keep_intvl_s
    elif name == TCP_KEEPCNT:
        v = <int32_t>pcb_of(sock).keep_cnt
    else:
        net_lock_release(flags)
        return -ENOPROTOOPT
    net_lock_release(flags)
    return socket_opt_put_int(uval, ulen, v)

cdef int64_t stream_ioctl(socket *sock, uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef int32_t n
    cdef uint64_t flags
    if cmd != SIOCINQ and cmd != SIOCOUTQ:
        return -ENOTTY
    flags = net_lock_acquire()
    if sock.flags & SOCKET_ACCEPTCONN:
        net_lock_release(flags)
        return -EINVAL
    if cmd == SIOCINQ:
        n = <int32_t>tcp_readable(pcb_of(sock))
    else:
        n = <int32_t>tcp_unacked_and_unsent(pcb_of(sock))
    net_lock_release(flags)
    if copy_to_user(arg, &n, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

# ---------------------------------------------------------------- IPPROTO_IP level
# Linux's do_ip_setsockopt / do_ip_getsockopt for what an AF_INET socket keeps per socket:
# IP_TOS and IP_TTL (every datagram or segment it sends), IP_MULTICAST_TTL (UDP to a
# multicast group).  The values live in the pcb, under net_lock.

cdef int64_t ip_opt_value(int32_t name, int32_t sock_type, uint64_t uval, uint32_t ulen,
                          int32_t *v) noexcept nogil:
    # The value to store, after Linux's checks: an int, or one unsigned byte when optlen is
    # shorter (0 with no bytes at all); TTL -1 = the default (stored as 0); a multicast TTL
    # of -1 = 1.  -ENOPROTOOPT for the options not kept.
    cdef uint8_t byte
    if name != IP_TOS and name != IP_TTL and name != IP_MULTICAST_TTL:
        return -ENOPROTOOPT
    v[0] = 0
    if ulen >= sizeof(int32_t):
        if copy_from_user(v, uval, sizeof(int32_t)) < 0:
            return -EFAULT
    elif ulen >= 1:
        if copy_from_user(&byte, uval, 1) < 0:
            return -EFAULT
        v[0] = byte
    if name == IP_TOS:
        v[0] = <uint8_t>v[0]            # inet_sock.tos is one byte: the value is truncated
        return 0
    if name == IP_MULTICAST_TTL and sock_type == SOCK_STREAM:
        return -EINVAL
    if ulen < 1:
        return -EINVAL
    if name == IP_TTL:
        if v[0] == -1:
            v[0] = 0
        elif v[0] < 1 or v[0] > MAXTTL:
            return -EINVAL
        return 0
    if v[0] == -1:
        v[0] = IP_DEFAULT_MULTICAST_TTL
    if v[0] < 0 or v[0] > MAXTTL:
        return -EINVAL
    return 0

cdef int64_t ip_opt_put(uint64_t uval, uint64_t ulen, int32_t v) noexcept nogil:
    # do_ip_getsockopt's reply: one byte when the buffer is shorter than an int and the
    # value fits (optlen becomes 1), else up to an int's bytes.
    cdef int32_t len
    cdef uint8_t byte
    if copy_from_user(&len, ulen, sizeof(int32_t)) < 0:
        return -EFAULT
    if len < 0:
        return -EINVAL
    if 0 < len < <int32_t>sizeof(int32_t) and v == <int32_t><uint8_t>v:
        byte = <uint8_t>v
        len = 1
        if copy_to_user(uval, &byte, 1) < 0:
            return -EFAULT
    else:
        if len > <int32_t>sizeof(int32_t):
            len = sizeof(int32_t)
        if len > 0 and copy_to_user(uval, &v, <uint64_t>len) < 0:
            return -EFAULT
    if copy_to_user(ulen, &len, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

cdef int64_t ip_opt_known(int32_t name, uint64_t ulen) noexcept nogil:
    # getsockopt's order: optlen is read and checked before the option name.
    cdef int32_t len
    if copy_from_user(&len, ulen, sizeof(int32_t)) < 0:
        return -EFAULT
    if len < 0:
        return -EINVAL
    if name != IP_TOS and name != IP_TTL and name != IP_MULTICAST_TTL:
        return -ENOPROTOOPT
    return 0

cdef int64_t stream_ip_setsockopt(socket *sock, int32_t name, uint64_t uval, uint32_t ulen) noexcept nogil:
    cdef int32_t v
    cdef uint64_t flags
    cdef int64_t r = ip_opt_value(name, SOCK_STREAM, uval, ulen, &v)
    if r < 0:
        return r
    flags = net_lock_acquire()
    if name == IP_TOS:
        tcp_set_ip_tos(pcb_of(sock), <uint8_t>v)
    else:
        tcp_set_ip_ttl(pcb_of(sock), <uint8_t>v)
    net_lock_release(flags)
    return 0

cdef int64_t stream_ip_getsockopt(socket *sock, int32_t name, uint64_t uval, uint64_t ulen) noexcept nogil:
    cdef int32_t v
    cdef uint64_t flags
    cdef int64_t r = ip_opt_known(name, ulen)
    if r < 0:
        return r
    flags = net_lock_acquire()
    if name == IP_TOS:
        v = tcp_ip_tos(pcb_of(sock))
    elif name == IP_TTL:
        v = tcp_ip_ttl(pcb_of(sock))
        if v == 0:
            v = IPDEFTTL
    else:
        v = IP_DEFAULT_MULTICAST_TTL    # every inet socket has one; TCP never sends multicast
    net_lock_release(flags)
    return ip_opt_put(uval, ulen, v)

# ================================================================== UDP (SOCK_DGRAM)

cdef inline udp_pcb *udp_of(socket *sock) noexcept nogil:
    return <udp_pcb *>sock.proto

cdef void udp_refresh(socket *sock) noexcept nogil:
    # datagram_poll: shutdown(SHUT_RD) reads as readable (recv returns 0), both halves as HUP.
    cdef uint32_t ev = POLLOUT
    cdef uint32_t shut = udp_of(sock).flags & (UDP_PCB_RCV_SHUTDOWN | UDP_PCB_SEND_SHUTDOWN)
    if udp_next_length(udp_of(sock)) >= 0:
        ev |= POLLIN | POLLRDNORM
    if sock.err != 0:
        ev |= POLLERR
    if shut & UDP_PCB_RCV_SHUTDOWN:
        ev |= POLLIN | POLLRDNORM | POLLRDHUP
    if shut == UDP_PCB_RCV_SHUTDOWN | UDP_PCB_SEND_SHUTDOWN:
        ev |= POLLHUP
    sock.events = ev

cdef void udp_event(udp_pcb *pcb, void *arg) noexcept nogil:
    # A datagram arrived, or an ICMP error for this (connected) pcb: Linux's sk_err.
    cdef socket *sock = <socket *>arg
    cdef int32_t err
    if sock == NULL:
        return
    err = udp_take_error(pcb)
    if err != 0:
        socket_set_error(sock, err)
    udp_refresh(sock)
    socket_wake(sock, POLLIN)

cdef int64_t dgram_create(socket *sock, int32_t protocol, bint for_pair) noexcept nogil:
    cdef uint64_t flags
    cdef udp_pcb *pcb
    if protocol != 0 and protocol != IPPROTO_UDP:
        return -EPROTONOSUPPORT
    flags = net_lock_acquire()
    pcb = udp_new()
    if pcb == NULL:
        net_lock_release(flags)
        return -ENOBUFS
    sock.protocol = IPPROTO_UDP
    sock.ops = &dgram_ops
    sock.proto = pcb
    sock.state = SS_UNCONNECTED
    udp_set_event_callback(pcb, udp_event, sock)
    udp_set_rcvbuf(pcb, <uint32_t>sock.opt.rcvbuf)
    udp_refresh(sock)
    net_lock_release(flags)
    return 0

cdef void dgram_release(socket *sock) noexcept nogil:
    cdef uint64_t flags = net_lock_acquire()
    if sock.proto != NULL:
        udp_set_event_callback(udp_of(sock), NULL, NULL)
        udp_free(udp_of(sock))
        sock.proto = NULL
    inet_unlock(sock, flags)

cdef int64_t dgram_bind(socket *sock, const uint8_t *addr, int32_t len) noexcept nogil:
    cdef uint32_t ip
    cdef uint16_t port
    cdef int64_t r = sockaddr_in_parse(addr, len, SOCKADDR_UNSPEC_IF_ANY, &ip, &port)
    cdef uint64_t flags
    if r < 0:
        return r
    flags = net_lock_acquire()
    r = local_address_ok(ip)
    if r == 0:
        if sock.opt.flags & SOCKOPT_REUSEADDR:
            udp_of(sock).flags |= UDP_PCB_REUSEADDR
        r = udp_bind(udp_of(sock), ip, port)
    inet_unlock(sock, flags)
    return r

cdef int64_t dgram_connect(socket *sock, const uint8_t *addr, int32_t len, uint32_t mflags) noexcept nogil:
    cdef uint32_t ip
    cdef uint16_t port
    cdef int64_t r
    cdef uint64_t flags
    if len >= 2 and addr[0] == 0 and addr[1] == 0:     # AF_UNSPEC: dissolve the association
        flags = net_lock_acquire()
        udp_disconnect(udp_of(sock))
        sock.state = SS_UNCONNECTED
        inet_unlock(sock, flags)
        return 0
    r = sockaddr_in_parse(addr, len, SOCKADDR_UNSPEC_REFUSED, &ip, &port)
    if r < 0:
        return r
    flags = net_lock_acquire()
    r = udp_connect(udp_of(sock), ip, port)
    if r == 0:
        sock.state = SS_CONNECTED
    inet_unlock(sock, flags)
    return r

cdef int64_t dgram_sendmsg(socket *sock, sock_msg *m, uint32_t mflags) noexcept nogil:
    # One datagram: gathered into a kernel buffer (UDP copies it into a packet buffer).
    # udp_sendmsg's order: autobind (inet_send_prepare, even if the send then fails), the
    # size, the destination, then a pending error (sock_alloc_send_pskb).
    cdef uint32_t ip = 0
    cdef uint16_t port = 0
    cdef int64_t r
    cdef uint8_t *buf
    cdef uint64_t flags = net_lock_acquire()
    if not (udp_of(sock).flags & UDP_PCB_BOUND):
        udp_bind(udp_of(sock), INADDR_ANY, 0)
    net_lock_release(flags)
    if m.total > UDP_MAX_PAYLOAD:
        return -EMSGSIZE
    if m.name != NULL and m.namelen > 0:
        r = sockaddr_in_parse(m.name, m.namelen, SOCKADDR_UNSPEC_ACCEPTED, &ip, &port)
        if r < 0:
            return r
    buf = <uint8_t *>kmalloc(m.total if m.total > 0 else 1)
    if buf == NULL:
        return -ENOBUFS
    r = socket_msg_copy(m, 0, buf, m.total, False) if m.total > 0 else 0
    if r >= 0:
        flags = net_lock_acquire()
        if (m.name == NULL or m.namelen <= 0) and not (udp_of(sock).flags & UDP_PCB_CONNECTED):
            r = -EDESTADDRREQ
        elif sock.err != 0:
            r = -socket_take_error(sock)
            udp_refresh(sock)
        elif udp_of(sock).flags & UDP_PCB_SEND_SHUTDOWN:
            r = -EPIPE                      # sock_alloc_send_pskb after shutdown(SHUT_WR)
        elif m.name != NULL and m.namelen > 0:
            r = udp_sendto(udp_of(sock), buf, <uint32_t>m.total, ip, port)
        else:
            r = udp_send(udp_of(sock), buf, <uint32_t>m.total)
        inet_unlock(sock, flags)
    kfree(buf)
    return r

cdef bint dgram_can_recv(void *arg) noexcept nogil:
    return ((<socket *>arg).events & (POLLIN | POLLERR)) != 0

cdef int64_t dgram_recvmsg(socket *sock, sock_msg *m, uint32_t mflags) noexcept nogil:
    cdef uint64_t timeo = socket_rcvtimeo(sock, mflags)
    cdef uint64_t flags = net_lock_acquire()
    cdef uint32_t src = 0, cap
    cdef uint16_t port = 0
    cdef int64_t r, full
    cdef int next_len
    cdef uint8_t *buf
    while True:
        if sock.err != 0:
            r = -socket_take_error(sock)
            udp_refresh(sock)
            inet_unlock(sock, flags)
            return r
        next_len = udp_next_length(udp_of(sock))
        if next_len >= 0:
            break
        if udp_of(sock).flags & UDP_PCB_RCV_SHUTDOWN:
            inet_unlock(sock, flags)
            return 0                        # __skb_wait_for_more_packets: shut down, empty
        r = wait_unlocked(sock, dgram_can_recv, &timeo, &flags)
        if r < 0:
            inet_unlock(sock, flags)
            return r
    cap = <uint32_t>next_len
    if cap > m.total:
        cap = <uint32_t>m.total
    buf = <uint8_t *>kmalloc(cap if cap > 0 else 1)
    if buf == NULL:
        inet_unlock(sock, flags)
        return -ENOBUFS
    full = udp_recv(udp_of(sock), buf, cap, &src, &port, UDP_RECV_PEEK if (mflags & MSG_PEEK) else 0)
    udp_refresh(sock)
    inet_unlock(sock, flags)
    r = socket_msg_copy(m, 0, buf, cap, True) if cap > 0 else 0
    kfree(buf)
    if r < 0:
        return r
    if m.name != NULL:
        m.namelen = sockaddr_in_emit(m.name, src, port)
    if full > cap:
        m.msg_flags |= MSG_TRUNC
        if mflags & MSG_TRUNC:
            return full                 # MSG_TRUNC: the datagram's real length
    return cap

cdef int32_t dgram_getname(socket *sock, uint8_t *addr, bint peer) noexcept nogil:
    cdef uint64_t flags = net_lock_acquire()
    cdef udp_pcb *pcb = udp_of(sock)
    cdef uint32_t ip
    cdef uint16_t port
    if peer:
        if not (pcb.flags & UDP_PCB_CONNECTED):
            net_lock_release(flags)
            return -ENOTCONN
        ip = pcb.remote_addr
        port = pcb.remote_port
    else:
        ip = pcb.local_addr
        port = pcb.local_port
    net_lock_release(flags)
    return sockaddr_in_emit(addr, ip, port)

cdef int64_t dgram_shutdown(socket *sock, uint32_t mode) noexcept nogil:
    # inet_shutdown: the halves are shut even on an unconnected socket (which also gets
    # ENOTCONN, Linux's "hack to wake up other listeners"), and waiters see the change.
    cdef uint64_t flags = net_lock_acquire()
    if mode & RCV_SHUTDOWN:
        udp_of(sock).flags |= UDP_PCB_RCV_SHUTDOWN
    if mode & SEND_SHUTDOWN:
        udp_of(sock).flags |= UDP_PCB_SEND_SHUTDOWN
    udp_refresh(sock)
    socket_state_changed(sock)
    inet_unlock(sock, flags)
    return 0 if sock.state == SS_CONNECTED else -ENOTCONN

cdef void dgram_option_changed(socket *sock, int32_t name) noexcept nogil:
    if name == SO_RCVBUF or name == SO_RCVBUFFORCE:
        udp_set_rcvbuf(udp_of(sock), <uint32_t>sock.opt.rcvbuf)
    elif name == SO_REUSEADDR:
        if sock.opt.flags & SOCKOPT_REUSEADDR:
            udp_of(sock).flags |= UDP_PCB_REUSEADDR
        else:
            udp_of(sock).flags &= ~UDP_PCB_REUSEADDR

cdef int64_t dgram_setsockopt(socket *sock, int32_t level, int32_t name, uint64_t uval, uint32_t ulen) noexcept nogil:
    cdef int32_t v
    cdef uint64_t flags
    cdef int64_t r
    cdef udp_pcb *pcb
    if level != IPPROTO_IP:
        return -ENOPROTOOPT
    r = ip_opt_value(name, SOCK_DGRAM, uval, ulen, &v)
    if r < 0:
        return r
    flags = net_lock_acquire()
    pcb = udp_of(sock)
    if name == IP_TOS:
        pcb.ip_tos = <uint8_t>v
    elif name == IP_TTL:
        pcb.ip_ttl = <uint8_t>v
    else:
        pcb.ip_mc_ttl = <uint8_t>v
    net_lock_release(flags)
    return 0

cdef int64_t dgram_getsockopt(socket *sock, int32_t level, int32_t name, uint64_t uval, uint64_t ulen) noexcept nogil:
    cdef int32_t v
    cdef uint64_t flags
    cdef int64_t r
    cdef udp_pcb *pcb
    if level != IPPROTO_IP:
        return -ENOPROTOOPT
    r = ip_opt_known(name, ulen)
    if r < 0:
        return r
    flags = net_lock_acquire()
    pcb = udp_of(sock)
    if name == IP_TOS:
        v = pcb.ip_tos
    elif name == IP_TTL:
        v = pcb.ip_ttl if pcb.ip_ttl != 0 else IPDEFTTL
    else:
        v = pcb.ip_mc_ttl
    net_lock_release(flags)
    return ip_opt_put(uval, ulen, v)

cdef int64_t dgram_ioctl(socket *sock, uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef int32_t n
    cdef uint64_t flags
    if cmd != SIOCINQ and cmd != SIOCOUTQ:
        return -ENOTTY
    flags = net_lock_acquire()
    if cmd == SIOCINQ:
        n = udp_next_length(udp_of(sock))
        if n < 0:
            n = 0                       # Linux: the size of the next datagram, 0 if none
    else:
        n = 0                           # datagrams leave at once: nothing queued to send
    net_lock_release(flags)
    if copy_to_user(arg, &n, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

# ------------------------------------------------------------------ registration

cdef void inet_init() noexcept nogil:
    cdef uint64_t flags
    stream_ops.lock = inet_lock
    stream_ops.unlock = inet_unlock
    stream_ops.release = stream_release
    stream_ops.bind = stream_bind
    stream_ops.listen = stream_listen
    stream_ops.accept = stream_accept
    stream_ops.connect = stream_connect
    stream_ops.sendmsg = stream_sendmsg
    stream_ops.recvmsg = stream_recvmsg
    stream_ops.shutdown = stream_shutdown
    stream_ops.getname = stream_getname
    stream_ops.poll = NULL                  # sock.events, kept current by refresh/tcp_event
    stream_ops.setsockopt = stream_setsockopt
    stream_ops.getsockopt = stream_getsockopt
    stream_ops.option_changed = stream_option_changed
    stream_ops.buffer_size = stream_buffer_size
    stream_ops.ioctl = stream_ioctl
    dgram_ops.lock = inet_lock
    dgram_ops.unlock = inet_unlock
    dgram_ops.release = dgram_release
    dgram_ops.bind = dgram_bind
    dgram_ops.connect = dgram_connect
    dgram_ops.sendmsg = dgram_sendmsg
    dgram_ops.recvmsg = dgram_recvmsg
    dgram_ops.shutdown = dgram_shutdown
    dgram_ops.getname = dgram_getname
    dgram_ops.poll = NULL
    dgram_ops.setsockopt = dgram_setsockopt
    dgram_ops.getsockopt = dgram_getsockopt
    dgram_ops.option_changed = dgram_option_changed
    dgram_ops.ioctl = dgram_ioctl
    flags = net_lock_acquire()
    tcp_set_event_hook(tcp_event)
    net_lock_release(flags)
    socket_register_family(AF_INET, SOCK_STREAM, IPPROTO_TCP, stream_create)
    socket_register_family(AF_INET, SOCK_DGRAM, IPPROTO_UDP, dgram_create)
