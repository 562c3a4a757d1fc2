# IPv4 input/output and routing (see ipv4.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.arch.cpu cimport memcpy
from tyn.sys.errno cimport EMSGSIZE, ENETUNREACH, ENOBUFS
from tyn.net.netif cimport (netif, netif_first, netif_loopback, netif_default, netif_is_local_addr,
                            netif_is_broadcast, netif_output_ipv4, NETIF_UP, NETIF_LOOPBACK)
from tyn.net.netstats cimport *
from tyn.net.pbuf cimport pbuf, pbuf_alloc, pbuf_free
from tyn.net.netdev cimport netdev_tx_offload, netdev_finish_checksum, NETDEV_OFFLOAD_CSUM, NETDEV_OFFLOAD_TSO4
from tyn.net.wire_ethernet cimport ETH_HLEN
from tyn.net.wire_ipv4 cimport *
from tyn.net.wire_icmp cimport ICMP_DEST_UNREACH, ICMP_PROT_UNREACH
from tyn.net.ipv4_reass cimport ipv4_reass_input
from tyn.net.icmp cimport icmp_send_error

cdef ipv4_handler handlers[IPV4_PROTOCOL_COUNT]
cdef uint16_t next_id
cdef const uint8_t *current_datagram
cdef uint32_t current_len
cdef netif *current_nif


cdef void ipv4_init() noexcept nogil:
    global next_id, current_datagram, current_len, current_nif
    cdef int i
    for i in range(IPV4_PROTOCOL_COUNT):
        handlers[i] = NULL
    next_id = 1
    current_datagram = NULL
    current_len = 0
    current_nif = NULL


cdef int ipv4_register_protocol(uint8_t protocol, ipv4_handler handler) noexcept nogil:
    handlers[protocol] = handler
    return 0


cdef netif *ipv4_route(uint32_t dst, uint32_t *next_hop) noexcept nogil:
    cdef netif *nif
    cdef netif *default_nif = netif_default()
    next_hop[0] = dst
    if wire_ipv4_is_loopback(dst) or netif_is_local_addr(dst):
        return netif_loopback()
    if wire_ipv4_is_multicast(dst) or dst == INADDR_ANY_HOST:
        return NULL
    if dst == INADDR_BROADCAST_HOST:
        return default_nif
    nif = netif_first()
    while nif != NULL:
        if (nif.flags & NETIF_UP and not nif.flags & NETIF_LOOPBACK and nif.addr != 0
                and (dst & nif.netmask) == (nif.addr & nif.netmask)):
            return nif
        nif = nif.next
    if default_nif != NULL and default_nif.addr != 0 and default_nif.gateway != 0:
        next_hop[0] = default_nif.gateway
        return default_nif
    return NULL


cdef uint32_t source_on(netif *nif, uint32_t dst) noexcept nogil:
    if nif.flags & NETIF_LOOPBACK and not wire_ipv4_is_loopback(dst):
        return dst                  # talking to one of our own addresses
    return nif.addr


cdef uint32_t ipv4_source_for(uint32_t dst) noexcept nogil:
    cdef uint32_t hop
    cdef netif *nif = ipv4_route(dst, &hop)
    return 0 if nif == NULL else source_on(nif, dst)


cdef int send_one(netif *nif, uint32_t next_hop, ipv4_header *hdr, const uint8_t *payload,
                  uint32_t len, const netdev_tx_offload *offload) noexcept nogil:
    cdef pbuf *p = pbuf_alloc(ETH_HLEN, IPV4_HEADER_MIN + len)
    if p == NULL:
        netstats_count(NET_DROP_NO_BUFFER)
        return -ENOBUFS
    hdr.total_len = <uint16_t>(IPV4_HEADER_MIN + len)
    wire_ipv4_emit(p.payload, hdr)
    memcpy(p.payload + IPV4_HEADER_MIN, payload, len)
    if offload != NULL:
        p.offload = offload[0]
        p.offload.csum_start += IPV4_HEADER_MIN
        p.offload.hdr_len += IPV4_HEADER_MIN
    return netif_output_ipv4(nif, p, next_hop)


cdef int ipv4_output(uint32_t src, uint32_t dst, uint8_t protocol, const uint8_t *payload,
                     uint32_t len) noexcept nogil:
    return ipv4_output_offload(src, dst, protocol, 0, IPDEFTTL, payload, len, NULL)


cdef int ipv4_output_with(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t tos, uint8_t ttl,
                          const uint8_t *payload, uint32_t len) noexcept nogil:
    return ipv4_output_offload(src, dst, protocol, tos, ttl, payload, len, NULL)


cdef inline uint32_t device_offloads(netif *nif) noexcept nogil:
    return nif.dev.tx_offloads if nif.dev != NULL else 0


cdef int output_in_software(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t tos, uint8_t ttl,
                            const uint8_t *payload, uint32_t len,
                            const netdev_tx_offload *offload) noexcept nogil:
    """What the device cannot do, done here on a copy (the payload is the caller's)."""
    cdef pbuf *copy = pbuf_alloc(0, len)
    cdef int rc
    if copy == NULL:
        netstats_count(NET_DROP_NO_BUFFER)
        return -ENOBUFS
    memcpy(copy.payload, payload, len)
    if offload.flags & NETDEV_OFFLOAD_CSUM:
        netdev_finish_checksum(copy.payload + offload.csum_start, len - offload.csum_start,
                               offload.csum_offset)
    netstats_count(NET_IP_TX_OFFLOAD_IN_SOFTWARE)
    rc = ipv4_output_offload(src, dst, protocol, tos, ttl, copy.payload, len, NULL)
    pbuf_free(copy)
    return rc


cdef int ipv4_output_offload(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t tos, uint8_t ttl,
                             const uint8_t *payload, uint32_t len,
                             const netdev_tx_offload *offload) noexcept nogil:
    global next_id
    cdef ipv4_header hdr
    cdef uint32_t next_hop, chunk, offset = 0, max_chunk, wanted
    cdef int rc = 0, r
    cdef netif *nif
    if len > IP_MAXPACKET - IPV4_HEADER_MIN:
        netstats_count(NET_DROP_IP_TOO_BIG)
        return -EMSGSIZE
    nif = ipv4_route(dst, &next_hop)
    if nif == NULL:
        netstats_count(NET_DROP_IP_NO_ROUTE)
        return -ENETUNREACH
    wanted = offload.flags if offload != NULL else 0
    if wanted != 0 and ((wanted & device_offloads(nif)) != wanted
                        or (IPV4_HEADER_MIN + len > nif.mtu and not wanted & NETDEV_OFFLOAD_TSO4)):
        return output_in_software(src, dst, protocol, tos, ttl, payload, len, offload)
    hdr.tos = tos
    hdr.ttl = ttl
    hdr.protocol = protocol
    hdr.src = src if src != 0 else source_on(nif, dst)
    hdr.dst = dst
    hdr.id = next_id
    next_id += 1
    netstats_count(NET_IP_TX)
    if wanted & NETDEV_OFFLOAD_TSO4:
        hdr.frag = 0
        if len > offload.hdr_len and offload.gso_size > 0:
            # The device numbers the segments' IP ids from this one on (Linux's TSO does).
            next_id += <uint16_t>((len - offload.hdr_len - 1) // offload.gso_size)
        return send_one(nif, next_hop, &hdr, payload, len, offload)
    if IPV4_HEADER_MIN + len <= nif.mtu:
        hdr.frag = 0
        return send_one(nif, next_hop, &hdr, payload, len, offload if wanted != 0 else NULL)
    max_chunk = (nif.mtu - IPV4_HEADER_MIN) & ~(<uint32_t>IP_FRAG_UNIT - 1)
    while offset < len:
        chunk = len - offset
        hdr.frag = <uint16_t>(offset // IP_FRAG_UNIT)
        if chunk > max_chunk:
            chunk = max_chunk
            hdr.frag |= IP_MF
        netstats_count(NET_IP_FRAGMENTS_TX)
        r = send_one(nif, next_hop, &hdr, payload + offset, chunk, NULL)
        if r < 0 and rc == 0:
            rc = r
        offset += chunk
    return rc


cdef bint source_ok(netif *nif, uint32_t src) noexcept nogil:
    if nif.flags & NETIF_LOOPBACK:
        return True
    return not (wire_ipv4_is_multicast(src) or wire_ipv4_is_loopback(src) or netif_is_broadcast(nif, src))


cdef bint for_us(netif *nif, uint32_t dst) noexcept nogil:
    if nif.flags & NETIF_LOOPBACK:
        return True                 # only our own packets get here
    if dst == nif.addr or netif_is_broadcast(nif, dst):
        return True
    if nif.addr == 0:
        return not wire_ipv4_is_multicast(dst)  # unconfigured: DHCP offers come to the offered address
    return netif_is_local_addr(dst) and not wire_ipv4_is_loopback(dst)


cdef void deliver(netif *nif, const ipv4_header *hdr, const uint8_t *packet, uint32_t rx_flags) noexcept nogil:
    global current_datagram, current_len, current_nif
    cdef const uint8_t *saved_datagram = current_datagram
    cdef uint32_t saved_len = current_len
    cdef netif *saved_nif = current_nif
    cdef ipv4_handler handler = handlers[hdr.protocol]
    current_datagram = packet
    current_len = hdr.total_len
    current_nif = nif
    if handler == NULL:
        netstats_count(NET_DROP_IP_UNKNOWN_PROTOCOL)
        icmp_send_error(ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0, packet, hdr.total_len)
    else:
        netstats_count(NET_IP_RX)
        handler(hdr.src, hdr.dst, hdr.tos, packet + hdr.header_len, hdr.total_len - hdr.header_len, rx_flags)
    current_datagram = saved_datagram
    current_len = saved_len
    current_nif = saved_nif


cdef void ipv4_input(netif *nif, const uint8_t *packet, uint32_t len, uint32_t rx_flags) noexcept nogil:
    cdef ipv4_header hdr
    cdef pbuf *whole
    cdef int status = wire_ipv4_parse(packet, len, &hdr)
    if status != NET_OK:
        netstats_count(status)
        return
    if not source_ok(nif, hdr.src):
        netstats_count(NET_DROP_IP_BAD_SOURCE)
        return
    if not for_us(nif, hdr.dst):
        netstats_count(NET_DROP_IP_NOT_FOR_US)
        return
    if hdr.frag & (IP_MF | IP_OFFMASK):
        netstats_count(NET_IP_FRAGMENTS_RX)
        whole = ipv4_reass_input(&hdr, packet)
        if whole == NULL:
            return
        if wire_ipv4_parse(whole.payload, whole.len, &hdr) == NET_OK:
            deliver(nif, &hdr, whole.payload, 0)     # checked again: each fragment had its own
        pbuf_free(whole)
        return
    deliver(nif, &hdr, packet, rx_flags)


cdef const uint8_t *ipv4_current_datagram(uint32_t *len) noexcept nogil:
    len[0] = current_len
    return current_datagram


cdef netif *ipv4_current_netif() noexcept nogil:
    return current_nif
