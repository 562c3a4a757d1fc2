# The TCP pcb API for the socket layer.  See tcp.pxd.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.sys.errno cimport *
from tyn.fs.vfs cimport POLLIN, POLLOUT, POLLERR, POLLHUP, POLLRDNORM, POLLWRNORM
from tyn.net.tcp_types cimport *
from tyn.net.tcp_pcb cimport *
from tyn.net.tcp_buffers cimport (tcp_buffers_set_limit, tcp_buffers_mem_used, tcp_bq_append,
                                  tcp_bq_copy_out, tcp_bq_consume)
from tyn.net.tcp_iss cimport tcp_iss_set_secret_source, tcp_iss_generate
from tyn.net.tcp_rcvspace cimport tcp_rcvspace_adjust
from tyn.net.tcp_out cimport tcp_out_output, tcp_out_send_syn, tcp_out_send_rst_pcb, tcp_out_receive_space
from tyn.net.tcp_timers cimport tcp_timers_ms, tcp_timers_arm_keepalive
from tyn.net.tcp_seq cimport seq_gt
from tyn.net.wire_ipv4 cimport IPTOS_ECN_MASK

from tyn.net.tcp_tstamp cimport tcp_tstamp_offer
from tyn.net.tcp_sack cimport tcp_sack_offer
cdef enum:
    POLLRDHUP = 0x2000                  # Linux's; fs/vfs.pxd has no entry for it
    MS_PER_S = 1000


cdef void tcp_init() noexcept nogil:
    tcp_pcb_init()

cdef void tcp_set_output(tcp_output_fn fn) noexcept nogil:
    tcp_pcb_set_output(fn)

cdef void tcp_set_event_hook(tcp_event_fn fn) noexcept nogil:
    tcp_pcb_set_event_hook(fn)

cdef void tcp_set_route(tcp_route_fn fn) noexcept nogil:
    tcp_pcb_set_route(fn)

cdef void tcp_set_clock(tcp_clock_fn fn) noexcept nogil:
    tcp_pcb_set_clock(fn)

cdef void tcp_set_secret_source(tcp_secret_fn fn) noexcept nogil:
    tcp_iss_set_secret_source(fn)

cdef void tcp_get_stats(tcp_stats *out) noexcept nogil:
    out[0] = tcp_pcb_stats()[0]

cdef tcp_tunables *tcp_get_tunables() noexcept nogil:
    return tcp_pcb_tunables()

cdef void tcp_set_mem_limit(uint64_t bytes) noexcept nogil:
    tcp_pcb_tunables().mem_limit = bytes
    tcp_buffers_set_limit(bytes)

cdef uint64_t tcp_mem_used() noexcept nogil:
    return tcp_buffers_mem_used()

cdef uint32_t tcp_pcbs_in_use() noexcept nogil:
    return tcp_pcb_count()


cdef tcp_pcb *tcp_new() noexcept nogil:
    return tcp_pcb_alloc()


cdef int tcp_bind(tcp_pcb *pcb, uint32_t addr, uint16_t port) noexcept nogil:
    if pcb.state != TCP_CLOSED or pcb.flags & TF_BOUND:
        return -EINVAL
    if port == 0:
        port = tcp_pcb_ephemeral_port(pcb, addr, 0, 0)
        if port == 0:
            return -EADDRINUSE
    elif tcp_pcb_port_conflict(pcb, addr, port, (pcb.flags & TF_REUSEADDR) != 0):
        return -EADDRINUSE
    pcb.local_addr = addr
    pcb.local_port = port
    pcb.flags |= TF_BOUND
    return 0


cdef int tcp_listen(tcp_pcb *pcb, int32_t backlog) noexcept nogil:
    cdef int r
    if backlog < 1:
        backlog = 1
    if backlog > TCP_SOMAXCONN:
        backlog = TCP_SOMAXCONN
    if pcb.state == TCP_LISTEN:
        pcb.backlog = <uint32_t>backlog
        return 0
    if pcb.state != TCP_CLOSED or pcb.remote_port != 0:
        return -EINVAL
    if not (pcb.flags & TF_BOUND):
        r = tcp_bind(pcb, 0, 0)
        if r < 0:
            return r
    # Two listeners never share a port, SO_REUSEADDR or not.
    if tcp_pcb_port_conflict(pcb, pcb.local_addr, pcb.local_port, (pcb.flags & TF_REUSEADDR) != 0):
        return -EADDRINUSE
    pcb.backlog = <uint32_t>backlog
    pcb.state = TCP_LISTEN
    tcp_pcb_hash(pcb)
    return 0


cdef tcp_pcb *tcp_accept(tcp_pcb *listener, int *err) noexcept nogil:
    cdef tcp_pcb *c
    if listener.state != TCP_LISTEN:
        err[0] = -EINVAL
        return NULL
    c = listener.accept_head
    if c == NULL:
        err[0] = -EAGAIN
        return NULL
    listener.accept_head = c.accept_next
    if listener.accept_head == NULL:
        listener.accept_tail = NULL
    listener.accept_queue_len -= 1
    c.accept_next = NULL
    c.listener = NULL
    c.flags &= ~TF_ACCEPT_QUEUED
    err[0] = 0
    return c


cdef int tcp_connect(tcp_pcb *pcb, uint32_t addr, uint16_t port) noexcept nogil:
    cdef uint32_t src
    cdef uint16_t mss
    if pcb.state == TCP_SYN_SENT or pcb.state == TCP_SYN_RECEIVED:
        return -EALREADY
    if pcb.state == TCP_LISTEN:
        return -EINVAL
    if pcb.state != TCP_CLOSED:
        return -EISCONN
    if pcb.remote_port != 0:
        return -EISCONN                         # used once already (Linux: a failed
                                                # connect may be retried; sockets here
                                                # take a new pcb for that)
    if addr == 0 or port == 0:
        return -ECONNREFUSED
    src = pcb.local_addr
    if tcp_pcb_route(addr, &src, &mss, &pcb.tx_offloads) < 0:
        return -ENETUNREACH
    if not (pcb.flags & TF_BOUND):
        pcb.local_port = tcp_pcb_ephemeral_port(pcb, src, addr, port)
        if pcb.local_port == 0:
            return -EADDRNOTAVAIL
        pcb.flags |= TF_BOUND
    if tcp_pcb_lookup(src, pcb.local_port, addr, port) != NULL:
        return -EADDRNOTAVAIL
    pcb.local_addr = src
    pcb.remote_addr = addr
    pcb.remote_port = port
    pcb.adv_mss = mss
    pcb.rcv_wscale = tcp_pcb_wscale()
    pcb.flags |= TF_SEND_WSCALE
    pcb.iss = tcp_iss_generate(src, pcb.local_port, addr, port, tcp_pcb_now())
    tcp_tstamp_offer(pcb)
    tcp_sack_offer(pcb)
    pcb.snd_una = pcb.iss
    pcb.snd_nxt = pcb.iss
    pcb.snd_max = pcb.iss
    pcb.recover = pcb.iss
    pcb.so_error = 0
    pcb.state = TCP_SYN_SENT
    tcp_pcb_hash(pcb)
    tcp_pcb_stats().active_opens += 1
    tcp_out_send_syn(pcb)
    return -EINPROGRESS


cdef inline int take_error(tcp_pcb *pcb) noexcept nogil:
    cdef int e = pcb.so_error
    pcb.so_error = 0
    return e


cdef int64_t tcp_send(tcp_pcb *pcb, const uint8_t *src, uint64_t len, tcp_copy_fn copy) noexcept nogil:
    cdef uint32_t room
    cdef int64_t n
    if pcb.so_error != 0:
        return -take_error(pcb)
    if pcb.flags & TF_FIN_QUEUED:
        return -EPIPE
    if pcb.state == TCP_SYN_SENT or pcb.state == TCP_SYN_RECEIVED:
        return -EAGAIN
    if pcb.state != TCP_ESTABLISHED and pcb.state != TCP_CLOSE_WAIT:
        return -EPIPE if pcb.remote_port != 0 else -ENOTCONN
    if len == 0:
        return 0
    room = pcb.sndbuf - pcb.sndq.len if pcb.sndq.len < pcb.sndbuf else 0
    if room == 0:
        return -EAGAIN
    if len > room:
        len = room
    n = tcp_bq_append(&pcb.sndq, src, <uint32_t>len, copy)
    if n == 0:
        tcp_pcb_stats().mem_drops += 1
        return -EAGAIN
    if n > 0:
        tcp_out_output(pcb)
    return n


# After the application read: tell the peer when the window grew a worthwhile amount
# (two segments, or half the buffer; RFC 9293 §3.8.6.2.2).
cdef void window_update(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t promised = pcb.rcv_adv - pcb.rcv_nxt if seq_gt(pcb.rcv_adv, pcb.rcv_nxt) else 0
    cdef uint32_t space = tcp_out_receive_space(pcb)
    if pcb.state < TCP_ESTABLISHED or pcb.state == TCP_TIME_WAIT or pcb.flags & TF_EOF:
        return
    if space > promised and (space - promised >= 2 * <uint32_t>pcb.mss or space - promised >= pcb.rcvbuf // 2):
        pcb.flags |= TF_ACK_NOW
        tcp_out_output(pcb)


cdef int64_t tcp_recv(tcp_pcb *pcb, uint8_t *dst, uint64_t len, int flags, tcp_copy_fn copy) noexcept nogil:
    cdef int64_t n
    if pcb.state == TCP_LISTEN:
        return -ENOTCONN
    if pcb.rcvq.len > 0:
        if len == 0:
            return 0                            # data there: a 0-byte read is done
        if len > pcb.rcvq.len:
            len = pcb.rcvq.len
        n = tcp_bq_copy_out(&pcb.rcvq, 0, dst, <uint32_t>len, copy)
        if n > 0 and not (flags & MSG_PEEK):
            tcp_bq_consume(&pcb.rcvq, <uint32_t>n)
            tcp_rcvspace_adjust(pcb, <uint32_t>n)
            window_update(pcb)
        return n
    if pcb.so_error != 0:
        return -take_error(pcb)
    if pcb.flags & (TF_EOF | TF_RD_SHUTDOWN):
        return 0
    if pcb.state == TCP_CLOSED:
        return 0 if pcb.remote_port != 0 else -ENOTCONN
    return -EAGAIN


cdef void start_close(tcp_pcb *pcb) noexcept nogil:
    if pcb.flags & TF_FIN_QUEUED:
        return
    pcb.flags |= TF_FIN_QUEUED
    if pcb.state == TCP_ESTABLISHED:
        pcb.state = TCP_FIN_WAIT_1
    elif pcb.state == TCP_CLOSE_WAIT:
        pcb.state = TCP_LAST_ACK
    # SYN-RECEIVED: FIN-WAIT-1 once established (tcp_input).
    tcp_out_output(pcb)


cdef int tcp_shutdown(tcp_pcb *pcb, int how) noexcept nogil:
    if how != SHUT_RD and how != SHUT_WR and how != SHUT_RDWR:
        return -EINVAL
    if pcb.state == TCP_CLOSED or pcb.state == TCP_LISTEN:
        return -ENOTCONN
    if how == SHUT_RD or how == SHUT_RDWR:
        pcb.flags |= TF_RD_SHUTDOWN
    if how == SHUT_WR or how == SHUT_RDWR:
        if pcb.state == TCP_SYN_SENT:
            tcp_pcb_terminate(pcb, 0)
            return 0
        start_close(pcb)
    tcp_pcb_event(pcb, TCP_EVENT_IN | TCP_EVENT_OUT)
    return 0


cdef void close_listener(tcp_pcb *l) noexcept nogil:
    # Unaccepted connections are reset, half-open ones forgotten (as Linux).
    cdef tcp_pcb *p = tcp_pcb_first()
    cdef tcp_pcb *next
    while p != NULL:
        next = p.next
        if p.listener == l:
            p.listener = NULL
            p.flags |= TF_USER_CLOSED
            if p.flags & TF_ACCEPT_QUEUED:
                tcp_pcb_stats().conn_aborted += 1
                if p.state != TCP_CLOSED:
                    tcp_out_send_rst_pcb(p)
            tcp_pcb_free(p)
        p = next
    tcp_pcb_free(l)


cdef void tcp_close(tcp_pcb *pcb) noexcept nogil:
    pcb.flags |= TF_USER_CLOSED
    pcb.user = NULL
    if pcb.state == TCP_LISTEN:
        close_listener(pcb)
        return
    if pcb.state == TCP_CLOSED or pcb.state == TCP_SYN_SENT:
        tcp_pcb_terminate(pcb, 0)
        return
    if pcb.rcvq.len > 0 and pcb.state != TCP_TIME_WAIT:
        # Unread data: the peer must not believe it was delivered (RFC 9293 §3.10.4,
        # RFC 2525 §2.17; Linux does the same).
        tcp_pcb_stats().conn_aborted += 1
        tcp_out_send_rst_pcb(pcb)
        tcp_pcb_terminate(pcb, 0)
        return
    start_close(pcb)
    if pcb.state == TCP_FIN_WAIT_2 and pcb.close_deadline == 0:
        pcb.close_deadline = tcp_pcb_now() + tcp_timers_ms(<uint64_t>tcp_pcb_tunables().fin_timeout_s * MS_PER_S)


cdef void tcp_abort(tcp_pcb *pcb) noexcept nogil:
    pcb.flags |= TF_USER_CLOSED
    pcb.user = NULL
    if pcb.state == TCP_LISTEN:
        close_listener(pcb)
        return
    if (pcb.state == TCP_SYN_RECEIVED or pcb.state == TCP_ESTABLISHED or pcb.state == TCP_CLOSE_WAIT
            or pcb.state == TCP_FIN_WAIT_1 or pcb.state == TCP_FIN_WAIT_2):
        tcp_pcb_stats().conn_aborted += 1
        tcp_out_send_rst_pcb(pcb)
    tcp_pcb_terminate(pcb, 0)


cdef int tcp_getsockname(tcp_pcb *pcb, uint32_t *addr, uint16_t *port) noexcept nogil:
    addr[0] = pcb.local_addr
    port[0] = pcb.local_port
    return 0

cdef int tcp_getpeername(tcp_pcb *pcb, uint32_t *addr, uint16_t *port) noexcept nogil:
    if (pcb.remote_port == 0 or pcb.state == TCP_LISTEN or pcb.state == TCP_SYN_SENT
            or pcb.state == TCP_CLOSED):         # inet_getname: TCPF_CLOSE | TCPF_SYN_SENT
        return -ENOTCONN
    addr[0] = pcb.remote_addr
    port[0] = pcb.remote_port
    return 0


cdef uint32_t tcp_poll(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t mask = 0, room
    if pcb.state == TCP_LISTEN:
        return (POLLIN | POLLRDNORM) if pcb.accept_head != NULL else 0
    if pcb.so_error != 0:
        mask |= POLLERR
    if pcb.state == TCP_CLOSED:
        mask |= POLLHUP | POLLOUT | POLLWRNORM
        if pcb.remote_port != 0:
            mask |= POLLIN | POLLRDNORM | POLLRDHUP
        return mask
    if (pcb.flags & TF_RD_SHUTDOWN) and (pcb.flags & TF_FIN_QUEUED):
        mask |= POLLHUP
    if pcb.flags & (TF_EOF | TF_RD_SHUTDOWN):
        mask |= POLLIN | POLLRDNORM | POLLRDHUP
    if pcb.state == TCP_SYN_SENT or pcb.state == TCP_SYN_RECEIVED:
        return mask
    if pcb.rcvq.len > 0:
        mask |= POLLIN | POLLRDNORM
    if pcb.flags & TF_FIN_QUEUED:
        mask |= POLLOUT | POLLWRNORM          # a write fails at once (EPIPE): not blocking
    else:
        room = pcb.sndbuf - pcb.sndq.len if pcb.sndq.len < pcb.sndbuf else 0
        if room > 0 and room >= pcb.sndq.len // 2:
            mask |= POLLOUT | POLLWRNORM
    return mask


cdef int tcp_sock_error(tcp_pcb *pcb) noexcept nogil:
    return take_error(pcb)

cdef bint tcp_send_closing(tcp_pcb *pcb) noexcept nogil:
    return pcb.state == TCP_FIN_WAIT_1 or pcb.state == TCP_CLOSING or pcb.state == TCP_LAST_ACK

cdef int tcp_soft_error(tcp_pcb *pcb) noexcept nogil:
    return pcb.soft_error

cdef uint32_t tcp_readable(tcp_pcb *pcb) noexcept nogil:
    return pcb.rcvq.len

cdef uint32_t tcp_unacked_and_unsent(tcp_pcb *pcb) noexcept nogil:
    return pcb.sndq.len

cdef int tcp_state(tcp_pcb *pcb) noexcept nogil:
    return pcb.state


cdef void tcp_set_nodelay(tcp_pcb *pcb, bint on) noexcept nogil:
    if on:
        pcb.flags |= TF_NODELAY
        tcp_out_output(pcb)
    else:
        pcb.flags &= ~TF_NODELAY

cdef void tcp_set_ip_tos(tcp_pcb *pcb, uint8_t tos) noexcept nogil:
    pcb.ip_tos = (tos & ~IPTOS_ECN_MASK) | (pcb.ip_tos & IPTOS_ECN_MASK)

cdef void tcp_set_ip_ttl(tcp_pcb *pcb, uint8_t ttl) noexcept nogil:
    pcb.ip_ttl = ttl

cdef uint8_t tcp_ip_tos(tcp_pcb *pcb) noexcept nogil:
    return pcb.ip_tos

cdef uint8_t tcp_ip_ttl(tcp_pcb *pcb) noexcept nogil:
    return pcb.ip_ttl

cdef void tcp_set_keepalive(tcp_pcb *pcb, bint on) noexcept nogil:
    if on:
        pcb.flags |= TF_KEEPALIVE
    else:
        pcb.flags &= ~TF_KEEPALIVE
    tcp_timers_arm_keepalive(pcb)

cdef void tcp_set_keepalive_params(tcp_pcb *pcb, uint32_t idle_s, uint32_t intvl_s,
                                   uint32_t count) noexcept nogil:
    if idle_s != 0:
        pcb.keep_idle_s = idle_s
    if intvl_s != 0:
        pcb.keep_intvl_s = intvl_s
    if count != 0:
        pcb.keep_cnt = count
    tcp_timers_arm_keepalive(pcb)

cdef void tcp_set_reuseaddr(tcp_pcb *pcb, bint on) noexcept nogil:
    if on:
        pcb.flags |= TF_REUSEADDR
    else:
        pcb.flags &= ~TF_REUSEADDR

cdef uint32_t clamp_buf(uint32_t bytes) noexcept nogil:
    cdef tcp_tunables *t = tcp_pcb_tunables()
    if bytes < t.buf_min:
        return t.buf_min
    if bytes > t.buf_max:
        return t.buf_max
    return bytes

cdef void tcp_set_sndbuf(tcp_pcb *pcb, uint32_t bytes) noexcept nogil:
    pcb.sndbuf = clamp_buf(bytes)
    pcb.flags |= TF_SNDBUF_LOCK                 # the size is the user's now (SOCK_SNDBUF_LOCK)
    tcp_pcb_event(pcb, TCP_EVENT_OUT)

cdef void tcp_set_rcvbuf(tcp_pcb *pcb, uint32_t bytes) noexcept nogil:
    pcb.rcvbuf = clamp_buf(bytes)
    pcb.flags |= TF_RCVBUF_LOCK                 # the size is the user's now (SOCK_RCVBUF_LOCK)

cdef uint32_t tcp_buffer_size(tcp_pcb *pcb, bint send) noexcept nogil:
    return pcb.sndbuf if send else pcb.rcvbuf

cdef void tcp_set_user(tcp_pcb *pcb, void *user) noexcept nogil:
    pcb.user = user

cdef void *tcp_user(tcp_pcb *pcb) noexcept nogil:
    return pcb.user
