# UDP pcbs (see udp.pxd).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t
from tyn.net.byteorder cimport get_be16
from tyn.arch.cpu cimport memcpy
from tyn.mm.heap cimport kcalloc, kfree
from tyn.sys.errno cimport (EINVAL, EADDRNOTAVAIL, EADDRINUSE, EMSGSIZE, ENETUNREACH, ENOBUFS, EDESTADDRREQ,
                            EAGAIN)
from tyn.net.ipv4 cimport (ipv4_output_with, ipv4_register_protocol, ipv4_source_for, ipv4_current_datagram,
                           ipv4_current_netif)
from tyn.net.icmp cimport icmp_send_error
from tyn.net.netif cimport netif, netif_is_local_addr, netif_is_broadcast
from tyn.net.netstats cimport *
from tyn.net.pbuf cimport pbuf, pbuf_alloc, pbuf_free, pbuf_free_queue, pbuf_charge
from tyn.net.netdev cimport NETDEV_RX_CHECKSUM_OK
from tyn.net.wire_udp cimport udp_header, wire_udp_parse, wire_udp_emit, UDP_HEADER_LEN
from tyn.net.wire_ipv4 cimport (IPPROTO_UDP, IPDEFTTL, INADDR_ANY_HOST, INADDR_BROADCAST_HOST,
                                wire_ipv4_is_multicast)
from tyn.net.wire_icmp cimport ICMP_DEST_UNREACH, ICMP_PORT_UNREACH

cdef enum:
    EPHEMERAL_RANGE = UDP_EPHEMERAL_LAST - UDP_EPHEMERAL_FIRST + 1

cdef udp_pcb *pcbs
cdef uint32_t next_ephemeral


cdef void udp_init() noexcept nogil:
    global pcbs, next_ephemeral
    while pcbs != NULL:
        udp_free(pcbs)
    next_ephemeral = 0
    ipv4_register_protocol(IPPROTO_UDP, udp_input)


cdef udp_pcb *udp_new() noexcept nogil:
    cdef udp_pcb *pcb = <udp_pcb *>kcalloc(1, sizeof(udp_pcb))
    if pcb != NULL:
        pcb.rcvbuf = UDP_RCVBUF_DEFAULT
        pcb.ip_mc_ttl = IP_DEFAULT_MULTICAST_TTL
    return pcb


cdef void unlink(udp_pcb *pcb) noexcept nogil:
    cdef udp_pcb **link = &pcbs
    while link[0] != NULL:
        if link[0] == pcb:
            link[0] = pcb.next
            pcb.next = NULL
            return
        link = &link[0].next


cdef void udp_free(udp_pcb *pcb) noexcept nogil:
    unlink(pcb)
    pbuf_free_queue(pcb.rx_head)
    kfree(pcb)


cdef bint port_taken(uint32_t addr, uint16_t port, bint reuse) noexcept nogil:
    cdef udp_pcb *p = pcbs
    while p != NULL:
        if (p.local_port == port and (p.local_addr == addr or p.local_addr == INADDR_ANY_HOST
                                      or addr == INADDR_ANY_HOST)
                and not (reuse and p.flags & UDP_PCB_REUSEADDR)):
            return True
        p = p.next
    return False


cdef uint16_t ephemeral_port(uint32_t addr) noexcept nogil:
    global next_ephemeral
    cdef uint32_t i
    cdef uint16_t port
    for i in range(EPHEMERAL_RANGE):
        port = <uint16_t>(UDP_EPHEMERAL_FIRST + (next_ephemeral + i) % EPHEMERAL_RANGE)
        if not port_taken(addr, port, False):
            next_ephemeral = (next_ephemeral + i + 1) % EPHEMERAL_RANGE
            return port
    return 0


cdef int udp_bind(udp_pcb *pcb, uint32_t addr, uint16_t port) noexcept nogil:
    global pcbs
    if pcb.flags & UDP_PCB_BOUND:
        return -EINVAL
    if addr != INADDR_ANY_HOST and not netif_is_local_addr(addr):
        return -EADDRNOTAVAIL
    if port == 0:
        port = ephemeral_port(addr)
        if port == 0:
            return -EADDRINUSE
    elif port_taken(addr, port, (pcb.flags & UDP_PCB_REUSEADDR) != 0):
        return -EADDRINUSE
    pcb.local_addr = addr
    pcb.local_port = port
    pcb.flags |= UDP_PCB_BOUND
    pcb.next = pcbs
    pcbs = pcb
    return 0


cdef int udp_connect(udp_pcb *pcb, uint32_t addr, uint16_t port) noexcept nogil:
    cdef int rc
    if ipv4_source_for(addr) == INADDR_ANY_HOST and addr != INADDR_BROADCAST_HOST:
        return -ENETUNREACH
    if not pcb.flags & UDP_PCB_BOUND:
        rc = udp_bind(pcb, INADDR_ANY_HOST, 0)
        if rc != 0:
            return rc
    pcb.remote_addr = addr
    pcb.remote_port = port
    pcb.flags |= UDP_PCB_CONNECTED
    return 0


cdef void udp_disconnect(udp_pcb *pcb) noexcept nogil:
    pcb.remote_addr = INADDR_ANY_HOST
    pcb.remote_port = 0
    pcb.flags &= ~UDP_PCB_CONNECTED


cdef int udp_sendto(udp_pcb *pcb, const uint8_t *data, uint32_t len, uint32_t dst,
                    uint16_t dst_port) noexcept nogil:
    cdef uint32_t src
    cdef pbuf *p
    cdef int rc
    cdef uint8_t ttl
    if len > UDP_MAX_PAYLOAD:
        return -EMSGSIZE
    if not pcb.flags & UDP_PCB_BOUND:
        rc = udp_bind(pcb, INADDR_ANY_HOST, 0)
        if rc != 0:
            return rc
    src = pcb.local_addr if pcb.local_addr != INADDR_ANY_HOST else ipv4_source_for(dst)
    p = pbuf_alloc(0, UDP_HEADER_LEN + len)
    if p == NULL:
        netstats_count(NET_DROP_NO_BUFFER)
        return -ENOBUFS
    memcpy(p.payload + UDP_HEADER_LEN, data, len)
    wire_udp_emit(p.payload, src, dst, pcb.local_port, dst_port, len)
    if wire_ipv4_is_multicast(dst):
        ttl = pcb.ip_mc_ttl
    else:
        ttl = pcb.ip_ttl if pcb.ip_ttl != 0 else IPDEFTTL
    rc = ipv4_output_with(src, dst, IPPROTO_UDP, pcb.ip_tos, ttl, p.payload, UDP_HEADER_LEN + len)
    pbuf_free(p)
    if rc != 0:
        return rc
    netstats_count(NET_UDP_TX)
    return <int>len


cdef int udp_send(udp_pcb *pcb, const uint8_t *data, uint32_t len) noexcept nogil:
    if not pcb.flags & UDP_PCB_CONNECTED:
        return -EDESTADDRREQ
    return udp_sendto(pcb, data, len, pcb.remote_addr, pcb.remote_port)


cdef int udp_recv(udp_pcb *pcb, uint8_t *buf, uint32_t cap, uint32_t *src, uint16_t *src_port,
                  int flags) noexcept nogil:
    cdef pbuf *p = pcb.rx_head
    cdef uint32_t n
    if p == NULL:
        return -EAGAIN
    n = p.tot_len if p.tot_len < cap else cap
    memcpy(buf, p.payload, n)
    src[0] = p.tag_addr
    src_port[0] = <uint16_t>p.tag_value
    n = p.tot_len
    if not flags & UDP_RECV_PEEK:
        pcb.rx_head = p.queue_next
        if pcb.rx_head == NULL:
            pcb.rx_tail = NULL
        pcb.rx_count -= 1
        pcb.rx_charged -= pbuf_charge(p)
        p.queue_next = NULL
        pbuf_free(p)
    return <int>n


cdef int udp_next_length(udp_pcb *pcb) noexcept nogil:
    return -1 if pcb.rx_head == NULL else <int>pcb.rx_head.tot_len


cdef void udp_set_rcvbuf(udp_pcb *pcb, uint32_t bytes) noexcept nogil:
    if bytes < UDP_RCVBUF_MIN:
        bytes = UDP_RCVBUF_MIN
    if bytes > UDP_RCVBUF_MAX:
        bytes = UDP_RCVBUF_MAX
    pcb.rcvbuf = bytes


cdef void udp_set_recv_callback(udp_pcb *pcb, udp_recv_fn fn, void *arg) noexcept nogil:
    pcb.recv_fn = fn
    pcb.recv_arg = arg


cdef void udp_set_event_callback(udp_pcb *pcb, udp_event_fn fn, void *arg) noexcept nogil:
    pcb.event_fn = fn
    pcb.event_arg = arg


cdef int32_t udp_take_error(udp_pcb *pcb) noexcept nogil:
    cdef int32_t e = pcb.error
    pcb.error = 0
    return e


cdef void udp_icmp_error(uint32_t src, uint32_t dst, const uint8_t *quoted, uint32_t len,
                         uint8_t type, uint8_t code, uint32_t info, int32_t err, bint hard) noexcept nogil:
    # quoted: the UDP header we sent from src to dst (at least its ports).
    cdef udp_pcb *p = pcbs
    cdef uint16_t src_port, dst_port
    if len < 4 or not hard:
        return
    src_port = get_be16(quoted)
    dst_port = get_be16(quoted + 2)
    while p != NULL:
        if (p.flags & UDP_PCB_CONNECTED and p.local_port == src_port
                and (p.local_addr == INADDR_ANY_HOST or p.local_addr == src)
                and p.remote_addr == dst and p.remote_port == dst_port):
            p.error = err
            if p.event_fn != NULL:
                p.event_fn(p, p.event_arg)
            return
        p = p.next


cdef udp_pcb *lookup(uint32_t src, uint16_t src_port, uint32_t dst, uint16_t dst_port) noexcept nogil:
    """The best match: a connected pcb for exactly this flow, else one bound to dst, else a wildcard."""
    cdef udp_pcb *p = pcbs
    cdef udp_pcb *best = NULL
    cdef int score, best_score = -1
    cdef netif *nif = ipv4_current_netif()
    cdef bint broadcast = dst == INADDR_BROADCAST_HOST or (nif != NULL and netif_is_broadcast(nif, dst))
    while p != NULL:
        if p.local_port == dst_port and (p.local_addr == INADDR_ANY_HOST or p.local_addr == dst or broadcast):
            score = 0
            if p.flags & UDP_PCB_CONNECTED:
                if p.remote_addr != src or p.remote_port != src_port:
                    p = p.next
                    continue
                score += 2
            if p.local_addr == dst:
                score += 1
            if score > best_score:
                best = p
                best_score = score
        p = p.next
    return best


cdef void enqueue(udp_pcb *pcb, uint32_t src, uint16_t src_port, const uint8_t *data, uint32_t len) noexcept nogil:
    cdef pbuf *p = pbuf_alloc(0, len)
    cdef bint was_empty
    if p == NULL:
        pcb.rx_drops += 1
        netstats_count(NET_DROP_NO_BUFFER)
        return
    if pcb.rx_charged + pbuf_charge(p) > pcb.rcvbuf:
        pbuf_free(p)
        pcb.rx_drops += 1
        netstats_count(NET_DROP_UDP_RCVBUF_FULL)
        return
    memcpy(p.payload, data, len)
    p.tag_addr = src
    p.tag_value = src_port
    was_empty = pcb.rx_head == NULL
    if pcb.rx_tail == NULL:
        pcb.rx_head = p
    else:
        pcb.rx_tail.queue_next = p
    pcb.rx_tail = p
    pcb.rx_count += 1
    pcb.rx_charged += pbuf_charge(p)
    if was_empty and pcb.event_fn != NULL:
        pcb.event_fn(pcb, pcb.event_arg)


cdef void udp_input(uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *segment, uint32_t len,
                    uint32_t rx_flags) noexcept nogil:
    cdef udp_header hdr
    cdef udp_pcb *pcb
    cdef const uint8_t *datagram
    cdef uint32_t datagram_len
    cdef int status = wire_udp_parse(segment, len, src, dst, &hdr, (rx_flags & NETDEV_RX_CHECKSUM_OK) != 0)
    if status != NET_OK:
        netstats_count(status)
        return
    pcb = lookup(src, hdr.src_port, dst, hdr.dst_port)
    if pcb == NULL:
        netstats_count(NET_DROP_UDP_NO_PORT)
        datagram = ipv4_current_datagram(&datagram_len)
        if datagram != NULL:
            icmp_send_error(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, datagram, datagram_len)
        return
    netstats_count(NET_UDP_RX)
    if pcb.recv_fn != NULL:
        pcb.recv_fn(pcb, pcb.recv_arg, src, hdr.src_port, segment + UDP_HEADER_LEN, hdr.length - UDP_HEADER_LEN)
    else:
        enqueue(pcb, src, hdr.src_port, segment + UDP_HEADER_LEN, hdr.length - UDP_HEADER_LEN)
