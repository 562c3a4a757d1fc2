# TCP's face to the rest of the kernel: the IP layer (tcp_input, tcp_set_output), the
# clock (tcp_timers_run / tcp_next_deadline_ns in tcp_timers.pxd) and the socket layer
# (the pcb API below, Linux's semantics for each call).
#
# Locking: every function here is called with net_lock held (net/netlock.pxd) and takes
# no lock itself; hooks are called with it held.  A pcb is owned by its socket until
# tcp_close/tcp_abort, then by the stack, which frees it when the connection is done.
# Errors are negative errnos.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.net.tcp_types cimport (tcp_pcb, tcp_stats, tcp_tunables, tcp_output_fn, tcp_event_fn,
                                tcp_route_fn, tcp_clock_fn, tcp_secret_fn, tcp_copy_fn)

# Start over: no pcbs, zero counters, Linux's default tunables, no hooks.
cdef extern void tcp_init() noexcept nogil
# Hooks (see tcp_types.pxd for the signatures).
cdef extern void tcp_set_output(tcp_output_fn fn) noexcept nogil
cdef extern void tcp_set_event_hook(tcp_event_fn fn) noexcept nogil
cdef extern void tcp_set_route(tcp_route_fn fn) noexcept nogil
cdef extern void tcp_set_clock(tcp_clock_fn fn) noexcept nogil
cdef extern void tcp_set_secret_source(tcp_secret_fn fn) noexcept nogil
cdef extern void tcp_get_stats(tcp_stats *out) noexcept nogil
# The live tunables (change them between calls; mem_limit through tcp_set_mem_limit).
cdef extern tcp_tunables *tcp_get_tunables() noexcept nogil
cdef extern void tcp_set_mem_limit(uint64_t bytes) noexcept nogil
cdef extern uint64_t tcp_mem_used() noexcept nogil
cdef extern uint32_t tcp_pcbs_in_use() noexcept nogil

# A new pcb (CLOSED, unbound) or NULL when the pcb cap or the heap is exhausted (ENOBUFS).
cdef extern tcp_pcb *tcp_new() noexcept nogil
# Bind to (addr, port); port 0 picks an ephemeral one.  -EINVAL (already bound),
# -EADDRINUSE.
cdef extern int tcp_bind(tcp_pcb *pcb, uint32_t addr, uint16_t port) noexcept nogil
# Listen with a backlog (SYN queue + accept queue together, clamped to 1..SOMAXCONN);
# binds an ephemeral port if unbound.  Again on a listener: new backlog.
cdef extern int tcp_listen(tcp_pcb *pcb, int32_t backlog) noexcept nogil
# Pop an established connection; NULL with *err = -EAGAIN (none) or -EINVAL.
cdef extern tcp_pcb *tcp_accept(tcp_pcb *listener, int *err) noexcept nogil
# Start connecting: -EINPROGRESS, then TCP_EVENT_OUT (done) or TCP_EVENT_ERR with
# so_error = ECONNREFUSED/ETIMEDOUT/...  -EALREADY, -EISCONN, -ENETUNREACH, -EADDRNOTAVAIL.
cdef extern int tcp_connect(tcp_pcb *pcb, uint32_t addr, uint16_t port) noexcept nogil
# Queue up to len bytes from src (copy: NULL = memcpy).  Bytes taken, or -EAGAIN (no
# room; wait for POLLOUT), -EPIPE (shut down for writing / closed), -ENOTCONN, a pending
# error (-ECONNRESET...), -EFAULT.
cdef extern int64_t tcp_send(tcp_pcb *pcb, const uint8_t *src, uint64_t len, tcp_copy_fn copy) noexcept nogil
# Read up to len bytes to dst (flags: MSG_PEEK).  Bytes, 0 at end of stream (and for len 0
# when data is queued: a 0-byte read waits for data as Linux's does), -EAGAIN,
# a pending error, -ENOTCONN, -EFAULT.
cdef extern int64_t tcp_recv(tcp_pcb *pcb, uint8_t *dst, uint64_t len, int flags, tcp_copy_fn copy) noexcept nogil
# SHUT_RD / SHUT_WR / SHUT_RDWR.  -ENOTCONN when not connected.
cdef extern int tcp_shutdown(tcp_pcb *pcb, int how) noexcept nogil
# The socket lets go: graceful close (FIN after queued data; RST if unread data remains,
# as Linux).  The pcb must not be used afterwards.
cdef extern void tcp_close(tcp_pcb *pcb) noexcept nogil
# The socket lets go with a reset (SO_LINGER with l_linger 0).  The pcb is freed.
cdef extern void tcp_abort(tcp_pcb *pcb) noexcept nogil
cdef extern int tcp_getsockname(tcp_pcb *pcb, uint32_t *addr, uint16_t *port) noexcept nogil
cdef extern int tcp_getpeername(tcp_pcb *pcb, uint32_t *addr, uint16_t *port) noexcept nogil
# Readiness as Linux's tcp_poll: POLLIN/POLLRDNORM, POLLOUT/POLLWRNORM, POLLERR, POLLHUP,
# POLLRDHUP.
cdef extern uint32_t tcp_poll(tcp_pcb *pcb) noexcept nogil
# SO_ERROR: the pending error (positive errno), cleared.
cdef extern int tcp_sock_error(tcp_pcb *pcb) noexcept nogil
# Our FIN is sent or queued and not yet acknowledged (FIN-WAIT-1, CLOSING, LAST-ACK:
# Linux's sk_stream_closing).  The change to false raises TCP_EVENT_SEND_DONE.
cdef extern bint tcp_send_closing(tcp_pcb *pcb) noexcept nogil
# The last ICMP soft error on the connection (positive errno, 0: none), not cleared.
cdef extern int tcp_soft_error(tcp_pcb *pcb) noexcept nogil
# FIONREAD / SIOCOUTQ.
cdef extern uint32_t tcp_readable(tcp_pcb *pcb) noexcept nogil
cdef extern uint32_t tcp_unacked_and_unsent(tcp_pcb *pcb) noexcept nogil
cdef extern int tcp_state(tcp_pcb *pcb) noexcept nogil

# Options.  Buffer sizes are taken as given (clamped to buf_min..buf_max): the socket
# layer applies Linux's doubling of SO_SNDBUF/SO_RCVBUF.
cdef extern void tcp_set_nodelay(tcp_pcb *pcb, bint on) noexcept nogil
cdef extern void tcp_set_keepalive(tcp_pcb *pcb, bint on) noexcept nogil
# TCP_KEEPIDLE, TCP_KEEPINTVL (seconds), TCP_KEEPCNT; 0 leaves one unchanged.
cdef extern void tcp_set_keepalive_params(tcp_pcb *pcb, uint32_t idle_s, uint32_t intvl_s,
                                          uint32_t count) noexcept nogil
cdef extern void tcp_set_reuseaddr(tcp_pcb *pcb, bint on) noexcept nogil
cdef extern void tcp_set_sndbuf(tcp_pcb *pcb, uint32_t bytes) noexcept nogil
cdef extern void tcp_set_rcvbuf(tcp_pcb *pcb, uint32_t bytes) noexcept nogil
# The send (send true) or receive buffer's size now: the user's, or as autotuning grew it.
cdef extern uint32_t tcp_buffer_size(tcp_pcb *pcb, bint send) noexcept nogil
# IP_TOS (the ECN bits stay TCP's, as Linux masks them for stream sockets) and IP_TTL
# (0 = the default) of the segments the pcb sends from now on; children of a listener
# inherit both.  tcp_ip_tos/tcp_ip_ttl read them back (the TTL as stored, 0 = default).
cdef extern void tcp_set_ip_tos(tcp_pcb *pcb, uint8_t tos) noexcept nogil
cdef extern void tcp_set_ip_ttl(tcp_pcb *pcb, uint8_t ttl) noexcept nogil
cdef extern uint8_t tcp_ip_tos(tcp_pcb *pcb) noexcept nogil
cdef extern uint8_t tcp_ip_ttl(tcp_pcb *pcb) noexcept nogil
# The socket layer's pointer, passed back to the event hook.
cdef extern void tcp_set_user(tcp_pcb *pcb, void *user) noexcept nogil
cdef extern void *tcp_user(tcp_pcb *pcb) noexcept nogil
