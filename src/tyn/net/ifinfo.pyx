# Interfaces as Linux reports them (see ifinfo.pxd).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memset
from tyn.net.netif cimport netif, netif_first, NETIF_NAME_MAX, NETIF_UP, NETIF_LOOPBACK, NETIF_ETHERNET
from tyn.net.wire_netlink cimport (ARPHRD_ETHER, ARPHRD_LOOPBACK, IF_OPER_UNKNOWN, IF_OPER_DOWN,
                                   IF_OPER_UP, RT_SCOPE_HOST, RT_SCOPE_UNIVERSE)

cdef enum:
    IPV4_BITS = 32

cdef int32_t ifinfo_index(netif *nif) noexcept nogil:
    cdef netif *n = netif_first()
    cdef int32_t index = 1
    while n != NULL:
        if n == nif:
            return index
        index += 1
        n = n.next
    return 0

cdef netif *ifinfo_by_index(int32_t index) noexcept nogil:
    cdef netif *n = netif_first()
    cdef int32_t i = 1
    if index <= 0:
        return NULL
    while n != NULL and i < index:
        n = n.next
        i += 1
    return n

cdef bint name_is(netif *n, const char *name) noexcept nogil:
    # netif names end with a NUL within NETIF_NAME_MAX (< IFNAMSIZ) bytes.
    cdef int i = 0
    while i < NETIF_NAME_MAX:
        if name[i] != n.name[i]:
            return False
        if name[i] == 0:
            return True
        i += 1
    return False

cdef netif *ifinfo_by_name(const char *name) noexcept nogil:
    cdef netif *n = netif_first()
    while n != NULL:
        if name_is(n, name):
            return n
        n = n.next
    return NULL

cdef uint32_t ifinfo_flags(netif *nif) noexcept nogil:
    cdef uint32_t flags = 0
    if nif.flags & NETIF_LOOPBACK:
        flags |= IFF_LOOPBACK
    if nif.flags & NETIF_ETHERNET:
        flags |= IFF_BROADCAST | IFF_MULTICAST
    if nif.flags & NETIF_UP:
        flags |= IFF_UP | IFF_RUNNING | IFF_LOWER_UP
    return flags

cdef uint16_t ifinfo_dev_type(netif *nif) noexcept nogil:
    return ARPHRD_LOOPBACK if nif.flags & NETIF_LOOPBACK else ARPHRD_ETHER

cdef bint ifinfo_has_addr(netif *nif) noexcept nogil:
    return nif.addr != 0

cdef uint32_t ifinfo_broadcast(netif *nif) noexcept nogil:
    if not (nif.flags & NETIF_ETHERNET) or nif.addr == 0:
        return 0
    return nif.addr | ~nif.netmask

cdef uint8_t ifinfo_prefixlen(uint32_t netmask) noexcept nogil:
    cdef uint8_t n = 0
    while n < IPV4_BITS and (netmask & (<uint32_t>1 << (IPV4_BITS - 1 - n))):
        n += 1
    return n

cdef uint8_t ifinfo_scope(netif *nif) noexcept nogil:
    return RT_SCOPE_HOST if nif.flags & NETIF_LOOPBACK else RT_SCOPE_UNIVERSE

cdef uint8_t ifinfo_operstate(netif *nif) noexcept nogil:
    # Linux's lo has no operational state of its own (UNKNOWN); a NIC with carrier is UP.
    if nif.flags & NETIF_LOOPBACK:
        return IF_OPER_UNKNOWN
    return IF_OPER_UP if nif.flags & NETIF_UP else IF_OPER_DOWN

cdef void ifinfo_get_stats(netif *nif, ifinfo_stats *out) noexcept nogil:
    memset(out, 0, sizeof(ifinfo_stats))
    if nif.dev != NULL:                 # the driver's counters, as Linux's netdev stats
        out.rx_packets = nif.dev.rx_packets
        out.tx_packets = nif.dev.tx_packets
        out.rx_bytes = nif.dev.rx_bytes
        out.tx_bytes = nif.dev.tx_bytes
        out.rx_dropped = nif.dev.rx_drops
        out.tx_dropped = nif.dev.tx_drops
    else:
        out.rx_packets = nif.rx_packets
        out.tx_packets = nif.tx_packets
        out.rx_bytes = nif.rx_bytes
        out.tx_bytes = nif.tx_bytes
