# Network interfaces: Ethernet input/output and the loopback queue (see netif.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.mm.heap cimport kcalloc, kfree
from tyn.sys.errno cimport ENOBUFS
from tyn.net.netdev cimport netdev, netdev_tx_offload, netdev_finish_checksum, NETDEV_OFFLOAD_CSUM
from tyn.net.netclock cimport netclock_advance, netclock_now_ns
from tyn.net.netstats cimport *
from tyn.net.pbuf cimport pbuf, pbuf_free, pbuf_free_queue, pbuf_add_header
from tyn.net.wire_ethernet cimport *
from tyn.net.wire_arp cimport arp_packet, wire_arp_parse
from tyn.net.wire_ipv4 cimport (INADDR_BROADCAST_HOST, INADDR_LOOPBACK_HOST, IN_LOOPBACKNET_MASK,
                                wire_ipv4_is_loopback)
from tyn.net.arp cimport arp_input, arp_output, arp_timers_run, arp_next_deadline_ns, arp_flush
from tyn.net.ipv4 cimport ipv4_input
from tyn.net.ipv4_reass cimport ipv4_reass_timers_run, ipv4_reass_next_deadline_ns
from tyn.net.dhcp cimport dhcp_timers_run, dhcp_next_deadline_ns

cdef netif loopback
cdef netif *interfaces              # lo first, then Ethernet interfaces in the order added
cdef netif *default_nif
cdef uint32_t ethernet_count
cdef netif_hook_fn deadline_hook
cdef bint polling                   # netif_poll is delivering (a nested call returns at once)
cdef uint8_t broadcast_mac[ETH_ALEN]
cdef uint8_t short_frame[ETH_ZLEN]


cdef enum:
    ASCII_ZERO = 48
    NO_NUMBER = -1


cdef void set_name(netif *nif, const char *prefix, int number) noexcept nogil:
    """prefix followed by number (0..99) unless NO_NUMBER."""
    cdef int i = 0
    while prefix[i] != 0 and i < NETIF_NAME_MAX - 3:
        nif.name[i] = prefix[i]
        i += 1
    if number >= 10:
        nif.name[i] = <char>(ASCII_ZERO + number // 10)
        i += 1
    if number >= 0:
        nif.name[i] = <char>(ASCII_ZERO + number % 10)
        i += 1
    nif.name[i] = 0


cdef void netif_init() noexcept nogil:
    global interfaces, default_nif, ethernet_count, polling, deadline_hook
    cdef netif *nif = interfaces
    cdef netif *next
    while nif != NULL:
        next = nif.next
        if nif != &loopback:
            if nif.dev != NULL:
                nif.dev.receive = NULL
                nif.dev.receive_done = NULL
                nif.dev.stack = NULL
            kfree(nif)
        nif = next
    pbuf_free_queue(loopback.loop_head)
    memset(&loopback, 0, sizeof(netif))
    set_name(&loopback, b"lo", NO_NUMBER)
    loopback.flags = NETIF_UP | NETIF_LOOPBACK
    loopback.addr = INADDR_LOOPBACK_HOST
    loopback.netmask = IN_LOOPBACKNET_MASK
    loopback.mtu = LOOPBACK_MTU
    interfaces = &loopback
    default_nif = NULL
    ethernet_count = 0
    polling = False
    deadline_hook = NULL
    memset(broadcast_mac, 0xff, ETH_ALEN)


cdef void netdev_receive(netdev *dev, const uint8_t *frame, uint32_t len, uint32_t rx_flags) noexcept nogil:
    if dev.stack == NULL:
        netstats_count(NET_DROP_NO_INTERFACE)
        return
    netif_input(<netif *>dev.stack, frame, len, rx_flags)


# Once per batch, not per frame: the deadline scan walks every TCP connection.
cdef void netdev_receive_done(netdev *dev) noexcept nogil:
    netif_poll()
    if deadline_hook != NULL:
        deadline_hook()


cdef void netif_set_deadline_hook(netif_hook_fn fn) noexcept nogil:
    global deadline_hook
    deadline_hook = fn


cdef netif *netif_add_netdev(netdev *dev) noexcept nogil:
    global default_nif, ethernet_count
    cdef netif *nif = <netif *>kcalloc(1, sizeof(netif))
    cdef netif *last = interfaces
    if nif == NULL:
        return NULL
    set_name(nif, b"eth", <int>ethernet_count)
    ethernet_count += 1
    nif.dev = dev
    nif.flags = NETIF_UP | NETIF_ETHERNET
    nif.mtu = dev.mtu if dev.mtu != 0 else ETH_DATA_LEN
    memcpy(nif.mac, dev.mac, ETH_ALEN)
    while last.next != NULL:
        last = last.next
    last.next = nif
    dev.stack = nif
    dev.receive = netdev_receive
    dev.receive_done = netdev_receive_done
    if default_nif == NULL:
        default_nif = nif
    return nif


cdef void netif_set_addr(netif *nif, uint32_t addr, uint32_t netmask, uint32_t gateway) noexcept nogil:
    if nif.addr != addr:
        arp_flush(nif)
    nif.addr = addr
    nif.netmask = netmask
    nif.gateway = gateway


cdef netif *netif_first() noexcept nogil:
    return interfaces


cdef netif *netif_loopback() noexcept nogil:
    return &loopback


cdef netif *netif_default() noexcept nogil:
    return default_nif


cdef void netif_set_default(netif *nif) noexcept nogil:
    global default_nif
    default_nif = nif


cdef bint netif_is_local_addr(uint32_t addr) noexcept nogil:
    cdef netif *nif = interfaces
    if wire_ipv4_is_loopback(addr):
        return True
    while nif != NULL:
        if nif.addr != 0 and nif.addr == addr:
            return True
        nif = nif.next
    return False


cdef bint netif_is_broadcast(netif *nif, uint32_t addr) noexcept nogil:
    if addr == INADDR_BROADCAST_HOST:
        return True
    return (nif.addr != 0 and not nif.flags & NETIF_LOOPBACK and nif.netmask != INADDR_BROADCAST_HOST
            and (addr & nif.netmask) == (nif.addr & nif.netmask) and (addr | nif.netmask) == INADDR_BROADCAST_HOST)


cdef void netif_input(netif *nif, const uint8_t *frame, uint32_t len, uint32_t rx_flags) noexcept nogil:
    cdef eth_header eth
    cdef arp_packet arp
    cdef int status = wire_ethernet_parse(frame, len, &eth)
    if status != NET_OK:
        netstats_count(status)
        return
    nif.rx_packets += 1
    nif.rx_bytes += len
    netstats_count(NET_ETH_RX)
    if not wire_ethernet_is_broadcast(eth.dst) and not mac_equal(eth.dst, nif.mac):
        netstats_count(NET_DROP_ETH_NOT_FOR_US)
        return
    if eth.ethertype == ETH_P_IP:
        ipv4_input(nif, frame + ETH_HLEN, len - ETH_HLEN, rx_flags)
    elif eth.ethertype == ETH_P_ARP:
        status = wire_arp_parse(frame + ETH_HLEN, len - ETH_HLEN, &arp)
        if status != NET_OK:
            netstats_count(status)
            return
        arp_input(nif, &arp)
    else:
        netstats_count(NET_DROP_ETH_UNKNOWN_TYPE)


cdef inline bint mac_equal(const uint8_t *a, const uint8_t *b) noexcept nogil:
    cdef int i
    for i in range(ETH_ALEN):
        if a[i] != b[i]:
            return False
    return True


cdef int netif_send_frame(netif *nif, pbuf *p, const uint8_t *dst_mac, uint16_t ethertype) noexcept nogil:
    cdef netdev_tx_offload offload
    cdef uint32_t len
    cdef int rc
    if not pbuf_add_header(p, ETH_HLEN):
        pbuf_free(p)
        netstats_count(NET_DROP_NO_BUFFER)
        return -ENOBUFS
    wire_ethernet_emit(p.payload, dst_mac, nif.mac, ethertype)
    len = p.len
    if len < ETH_ZLEN:
        # Pad short frames here rather than trust every device to (the padding is not data,
        # so a checksum left to the device is finished here: it would sum the padding).
        memset(short_frame, 0, ETH_ZLEN)
        memcpy(short_frame, p.payload, len)
        if p.offload.flags & NETDEV_OFFLOAD_CSUM:
            netdev_finish_checksum(short_frame + ETH_HLEN + p.offload.csum_start,
                                   len - ETH_HLEN - p.offload.csum_start, p.offload.csum_offset)
        rc = nif.dev.transmit(nif.dev, short_frame, ETH_ZLEN, NULL)
        len = ETH_ZLEN
    elif p.offload.flags != 0:
        offload = p.offload
        offload.csum_start += ETH_HLEN
        offload.hdr_len += ETH_HLEN
        rc = nif.dev.transmit(nif.dev, p.payload, len, &offload)
    else:
        rc = nif.dev.transmit(nif.dev, p.payload, len, NULL)
    pbuf_free(p)
    if rc != 0:
        netstats_count(NET_DROP_LINK_TX_FULL)
        return -ENOBUFS
    nif.tx_packets += 1
    nif.tx_bytes += len
    netstats_count(NET_ETH_TX)
    return 0


cdef int loopback_enqueue(netif *nif, pbuf *p) noexcept nogil:
    if nif.loop_count >= LOOPBACK_QUEUE_MAX:
        pbuf_free(p)
        netstats_count(NET_DROP_LOOPBACK_FULL)
        return -ENOBUFS
    p.queue_next = NULL
    if nif.loop_tail == NULL:
        nif.loop_head = p
    else:
        nif.loop_tail.queue_next = p
    nif.loop_tail = p
    nif.loop_count += 1
    nif.tx_packets += 1
    nif.tx_bytes += p.len
    netstats_count(NET_LOOPBACK_TX)
    return 0


cdef int netif_output_ipv4(netif *nif, pbuf *packet, uint32_t next_hop) noexcept nogil:
    if nif.flags & NETIF_LOOPBACK:
        return loopback_enqueue(nif, packet)
    if netif_is_broadcast(nif, next_hop):
        return netif_send_frame(nif, packet, broadcast_mac, ETH_P_IP)
    return arp_output(nif, packet, next_hop)


cdef void netif_poll() noexcept nogil:
    global polling
    cdef uint32_t budget = LOOPBACK_QUEUE_MAX
    cdef pbuf *p
    if polling:
        return
    polling = True
    while loopback.loop_head != NULL and budget > 0:
        p = loopback.loop_head
        loopback.loop_head = p.queue_next
        if loopback.loop_head == NULL:
            loopback.loop_tail = NULL
        loopback.loop_count -= 1
        p.queue_next = NULL
        loopback.rx_packets += 1
        loopback.rx_bytes += p.len
        ipv4_input(&loopback, p.payload, p.len, 0)
        pbuf_free(p)
        budget -= 1
    polling = False


cdef void netif_timers_run(uint64_t now_ns) noexcept nogil:
    netclock_advance(now_ns)
    now_ns = netclock_now_ns()
    arp_timers_run(now_ns)
    ipv4_reass_timers_run(now_ns)
    dhcp_timers_run(now_ns)
    netif_poll()


cdef inline uint64_t earliest(uint64_t a, uint64_t b) noexcept nogil:
    if a == NETIF_NO_DEADLINE:
        return b
    if b == NETIF_NO_DEADLINE or a < b:
        return a
    return b


cdef inline uint64_t due_now() noexcept nogil:
    cdef uint64_t now = netclock_now_ns()
    return now if now != NETIF_NO_DEADLINE else now + 1


cdef uint64_t netif_next_deadline_ns() noexcept nogil:
    cdef uint64_t best = NETIF_NO_DEADLINE
    if loopback.loop_head != NULL:
        return due_now()
    best = earliest(best, arp_next_deadline_ns())
    best = earliest(best, ipv4_reass_next_deadline_ns())
    best = earliest(best, dhcp_next_deadline_ns())
    return best
