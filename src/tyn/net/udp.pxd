# UDP (RFC 768, RFC 1122 §4.1): protocol control blocks and demultiplexing.
#
# A pcb is bound to a local address/port (0.0.0.0 = any local address; port 0 at bind or
# first send = an ephemeral port) and optionally connected to one remote address/port,
# which then is the only source it accepts and the default destination.  Received
# datagrams either go to the pcb's receive callback (in-kernel users like DHCP) or wait in
# its receive queue, bounded by rcvbuf bytes (buffer bytes charged, as Linux counts skb
# truesize); a full queue drops and counts.  The socket layer hooks the event callback,
# called when the queue goes from empty to non-empty, to call io_notify().  A datagram for
# a port nobody has bound is answered with ICMP port unreachable.  Under net_lock.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t
from tyn.net.pbuf cimport pbuf

cdef enum:
    UDP_RCVBUF_DEFAULT = 212992     # Linux net.core.rmem_default
    UDP_RCVBUF_MIN = 2304           # Linux SOCK_MIN_RCVBUF
    UDP_RCVBUF_MAX = 4 << 20
    UDP_EPHEMERAL_FIRST = 32768     # Linux's net.ipv4.ip_local_port_range (TCP's too)
    UDP_EPHEMERAL_LAST = 60999
    UDP_MAX_PAYLOAD = 65507         # 65535 - IPv4 header - UDP header
    IP_DEFAULT_MULTICAST_TTL = 1    # linux/in.h: a new socket's IP_MULTICAST_TTL
    # udp_pcb.flags
    UDP_PCB_BOUND = 1 << 0
    UDP_PCB_CONNECTED = 1 << 1
    UDP_PCB_REUSEADDR = 1 << 2      # SO_REUSEADDR: share a port already bound
    UDP_PCB_RCV_SHUTDOWN = 1 << 3   # shutdown(SHUT_RD): recv returns 0 once the queue is empty
    UDP_PCB_SEND_SHUTDOWN = 1 << 4  # shutdown(SHUT_WR): send is EPIPE
    # udp_recv flags
    UDP_RECV_PEEK = 1 << 0          # leave the datagram queued (MSG_PEEK)

cdef struct udp_pcb

# Direct delivery: the datagram is not queued.
ctypedef void (*udp_recv_fn)(udp_pcb *pcb, void *arg, uint32_t src, uint16_t src_port,
                             const uint8_t *data, uint32_t len) noexcept nogil
# Readiness changed: the receive queue became non-empty, or an error arrived (udp_take_error).
ctypedef void (*udp_event_fn)(udp_pcb *pcb, void *arg) noexcept nogil

cdef struct udp_pcb:
    udp_pcb *next
    uint32_t local_addr
    uint32_t remote_addr
    uint16_t local_port
    uint16_t remote_port
    uint32_t flags                  # UDP_PCB_*
    pbuf *rx_head                   # datagrams: tag_addr = source, tag_value = source port
    pbuf *rx_tail
    uint32_t rx_count
    uint32_t rx_charged             # bytes charged against rcvbuf
    uint32_t rcvbuf
    uint64_t rx_drops
    int32_t error                   # a hard ICMP error for the connected flow (positive errno), 0: none
    udp_recv_fn recv_fn
    void *recv_arg
    udp_event_fn event_fn
    void *event_arg
    uint8_t ip_tos                  # IP_TOS byte of every datagram sent
    uint8_t ip_ttl                  # IP_TTL for unicast/broadcast; 0 = the default (IPDEFTTL)
    uint8_t ip_mc_ttl               # IP_MULTICAST_TTL for multicast destinations

cdef extern void udp_init() noexcept nogil
# A new unbound pcb (NULL when out of memory).
cdef extern udp_pcb *udp_new() noexcept nogil
# Unlink and free pcb with its queue.
cdef extern void udp_free(udp_pcb *pcb) noexcept nogil
# 0, -EINVAL (already bound), -EADDRNOTAVAIL (not a local address), -EADDRINUSE.
cdef extern int udp_bind(udp_pcb *pcb, uint32_t addr, uint16_t port) noexcept nogil
# Set the peer (binding to an ephemeral port first if unbound).  0, -ENETUNREACH, -EADDRINUSE.
cdef extern int udp_connect(udp_pcb *pcb, uint32_t addr, uint16_t port) noexcept nogil
cdef extern void udp_disconnect(udp_pcb *pcb) noexcept nogil
# Send one datagram; len or -errno (-EMSGSIZE, -ENETUNREACH, -ENOBUFS, -EADDRINUSE).
cdef extern int udp_sendto(udp_pcb *pcb, const uint8_t *data, uint32_t len, uint32_t dst,
                           uint16_t dst_port) noexcept nogil
# To the connected peer; -EDESTADDRREQ if not connected.
cdef extern int udp_send(udp_pcb *pcb, const uint8_t *data, uint32_t len) noexcept nogil
# Take (or with UDP_RECV_PEEK, look at) the oldest datagram: copies up to cap bytes and
# returns the datagram's full length (bigger than cap: truncated), or -EAGAIN if none.
cdef extern int udp_recv(udp_pcb *pcb, uint8_t *buf, uint32_t cap, uint32_t *src, uint16_t *src_port,
                         int flags) noexcept nogil
# Length of the oldest queued datagram (FIONREAD), -1 if none.
cdef extern int udp_next_length(udp_pcb *pcb) noexcept nogil
cdef extern void udp_set_rcvbuf(udp_pcb *pcb, uint32_t bytes) noexcept nogil
cdef extern void udp_set_recv_callback(udp_pcb *pcb, udp_recv_fn fn, void *arg) noexcept nogil
cdef extern void udp_set_event_callback(udp_pcb *pcb, udp_event_fn fn, void *arg) noexcept nogil
# The pending error (positive errno, cleared), 0 if none.
cdef extern int32_t udp_take_error(udp_pcb *pcb) noexcept nogil
# ICMP's error handler for UDP (icmp_error_fn): a hard error about a datagram we sent goes
# to the pcb connected to exactly that flow (Linux reports to unconnected sockets only
# with IP_RECVERR, which we do not have).
cdef extern void udp_icmp_error(uint32_t src, uint32_t dst, const uint8_t *quoted, uint32_t len,
                                uint8_t type, uint8_t code, uint32_t info, int32_t err,
                                bint hard) noexcept nogil
# The IPPROTO_UDP handler.
cdef extern void udp_input(uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *segment,
                           uint32_t len, uint32_t rx_flags) noexcept nogil
