# The ARP cache (see arp.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.sys.errno cimport ENOBUFS
from tyn.net.netif cimport netif, netif_send_frame, netif_is_broadcast
from tyn.net.netclock cimport netclock_now_ns
from tyn.net.netstats cimport *
from tyn.net.pbuf cimport pbuf, pbuf_alloc, pbuf_free, pbuf_free_queue, pbuf_charge
from tyn.net.wire_ethernet cimport (ETH_ALEN, ETH_HLEN, ETH_P_ARP, ETH_P_IP, wire_ethernet_is_multicast,
                                    wire_ethernet_is_zero)
from tyn.net.wire_arp cimport ARPOP_REQUEST, ARPOP_REPLY, ARP_PACKET_LEN, wire_arp_emit

cdef struct arp_entry:
    uint32_t addr
    uint8_t state                   # ARP_STATE_*
    uint8_t requests                # sent for this resolution
    uint8_t mac[ETH_ALEN]
    netif *nif
    uint64_t deadline_ns            # PENDING: next retry; RESOLVED: expiry
    uint64_t created_ns             # for choosing an entry to reuse
    pbuf *queue_head
    pbuf *queue_tail
    uint32_t queue_bytes

cdef arp_entry table[ARP_TABLE_SIZE]
cdef uint8_t broadcast_mac[ETH_ALEN]
cdef uint8_t zero_mac[ETH_ALEN]


cdef void drop_queue(arp_entry *e, int reason) noexcept nogil:
    cdef uint32_t n = pbuf_free_queue(e.queue_head)
    while n:
        netstats_count(reason)
        n -= 1
    e.queue_head = NULL
    e.queue_tail = NULL
    e.queue_bytes = 0


cdef void release(arp_entry *e, int reason) noexcept nogil:
    drop_queue(e, reason)
    memset(e, 0, sizeof(arp_entry))


cdef void arp_init() noexcept nogil:
    cdef int i
    for i in range(ARP_TABLE_SIZE):
        release(&table[i], NET_DROP_ARP_EVICTED)
    memset(broadcast_mac, 0xff, ETH_ALEN)
    memset(zero_mac, 0, ETH_ALEN)


cdef arp_entry *find(uint32_t addr) noexcept nogil:
    cdef int i
    for i in range(ARP_TABLE_SIZE):
        if table[i].state != ARP_STATE_FREE and table[i].addr == addr:
            return &table[i]
    return NULL


cdef arp_entry *take_entry(uint32_t addr, netif *nif) noexcept nogil:
    """A free entry, else the oldest resolved one, else the oldest pending one."""
    cdef int i
    cdef arp_entry *victim = NULL
    cdef arp_entry *e
    for i in range(ARP_TABLE_SIZE):
        e = &table[i]
        if e.state == ARP_STATE_FREE:
            victim = e
            break
        if (victim == NULL or (e.state == ARP_STATE_RESOLVED and victim.state == ARP_STATE_PENDING)
                or (e.state == victim.state and e.created_ns < victim.created_ns)):
            victim = e
    release(victim, NET_DROP_ARP_EVICTED)
    victim.addr = addr
    victim.nif = nif
    victim.created_ns = netclock_now_ns()
    return victim


cdef int send_arp(netif *nif, uint16_t oper, const uint8_t *dst_mac, const uint8_t *target_mac,
                  uint32_t target_addr) noexcept nogil:
    cdef arp_packet arp
    cdef pbuf *p = pbuf_alloc(ETH_HLEN, ARP_PACKET_LEN)
    if p == NULL:
        netstats_count(NET_DROP_NO_BUFFER)
        return -ENOBUFS
    arp.oper = oper
    memcpy(arp.sha, nif.mac, ETH_ALEN)
    arp.spa = nif.addr
    memcpy(arp.tha, target_mac, ETH_ALEN)
    arp.tpa = target_addr
    wire_arp_emit(p.payload, &arp)
    netstats_count(NET_ARP_REQUESTS_SENT if oper == ARPOP_REQUEST else NET_ARP_REPLIES_SENT)
    return netif_send_frame(nif, p, dst_mac, ETH_P_ARP)


cdef void send_request(arp_entry *e) noexcept nogil:
    e.requests += 1
    e.deadline_ns = netclock_now_ns() + ARP_RETRY_INTERVAL_NS
    send_arp(e.nif, ARPOP_REQUEST, broadcast_mac, zero_mac, e.addr)


cdef void flush_queue(arp_entry *e) noexcept nogil:
    cdef pbuf *p
    while e.queue_head != NULL:
        p = e.queue_head
        e.queue_head = p.queue_next
        p.queue_next = NULL
        netif_send_frame(e.nif, p, e.mac, ETH_P_IP)
    e.queue_tail = NULL
    e.queue_bytes = 0


cdef void confirm(arp_entry *e, const uint8_t *mac) noexcept nogil:
    memcpy(e.mac, mac, ETH_ALEN)
    e.state = ARP_STATE_RESOLVED
    e.requests = 0
    e.deadline_ns = netclock_now_ns() + ARP_REACHABLE_NS
    flush_queue(e)


cdef void arp_input(netif *nif, const arp_packet *arp) noexcept nogil:
    cdef arp_entry *e
    cdef bint for_us
    netstats_count(NET_ARP_RX)
    if (wire_ethernet_is_multicast(arp.sha) or wire_ethernet_is_zero(arp.sha)
            or memcmp6(arp.sha, nif.mac)):
        netstats_count(NET_DROP_ARP_BAD_SENDER)
        return
    for_us = nif.addr != 0 and arp.tpa == nif.addr
    # RFC 826's merge: refresh the sender's entry if we have one, and add it when the
    # packet is for us (it will talk to us next).  Probes (sender 0.0.0.0) teach nothing.
    if arp.spa != 0 and not netif_is_broadcast(nif, arp.spa):
        e = find(arp.spa)
        if e != NULL and e.nif == nif:
            confirm(e, arp.sha)
        elif for_us:
            e = take_entry(arp.spa, nif)
            confirm(e, arp.sha)
    if not for_us:
        netstats_count(NET_DROP_ARP_NOT_FOR_US)
        return
    if arp.oper == ARPOP_REQUEST:
        send_arp(nif, ARPOP_REPLY, arp.sha, arp.sha, arp.spa)


cdef inline bint memcmp6(const uint8_t *a, const uint8_t *b) noexcept nogil:
    cdef int i
    for i in range(ETH_ALEN):
        if a[i] != b[i]:
            return False
    return True


cdef int arp_output(netif *nif, pbuf *packet, uint32_t next_hop) noexcept nogil:
    cdef arp_entry *e = find(next_hop)
    if e != NULL and e.nif != nif:
        release(e, NET_DROP_ARP_EVICTED)
        e = NULL
    if e != NULL and e.state == ARP_STATE_RESOLVED:
        return netif_send_frame(nif, packet, e.mac, ETH_P_IP)
    if e == NULL:
        e = take_entry(next_hop, nif)
        e.state = ARP_STATE_PENDING
        send_request(e)
    if e.queue_bytes + pbuf_charge(packet) > ARP_QUEUE_BYTES:
        pbuf_free(packet)
        netstats_count(NET_DROP_ARP_QUEUE_FULL)
        return -ENOBUFS
    packet.queue_next = NULL
    if e.queue_tail == NULL:
        e.queue_head = packet
    else:
        e.queue_tail.queue_next = packet
    e.queue_tail = packet
    e.queue_bytes += pbuf_charge(packet)
    return 0


cdef void arp_timers_run(uint64_t now_ns) noexcept nogil:
    cdef int i
    cdef arp_entry *e
    for i in range(ARP_TABLE_SIZE):
        e = &table[i]
        if e.state == ARP_STATE_FREE or now_ns < e.deadline_ns:
            continue
        if e.state == ARP_STATE_RESOLVED:
            release(e, NET_DROP_ARP_EVICTED)
        elif e.requests >= ARP_MAX_REQUESTS:
            release(e, NET_DROP_ARP_UNRESOLVED)
        else:
            send_request(e)


cdef uint64_t arp_next_deadline_ns() noexcept nogil:
    cdef uint64_t best = 0
    cdef int i
    for i in range(ARP_TABLE_SIZE):
        if table[i].state != ARP_STATE_FREE and (best == 0 or table[i].deadline_ns < best):
            best = table[i].deadline_ns
    return best


cdef bint arp_lookup(uint32_t addr, uint8_t *mac_out) noexcept nogil:
    cdef arp_entry *e = find(addr)
    if e == NULL or e.state != ARP_STATE_RESOLVED:
        return False
    memcpy(mac_out, e.mac, ETH_ALEN)
    return True


cdef int arp_state(uint32_t addr) noexcept nogil:
    cdef arp_entry *e = find(addr)
    return ARP_STATE_FREE if e == NULL else e.state


cdef uint32_t arp_queued(uint32_t addr) noexcept nogil:
    cdef arp_entry *e = find(addr)
    cdef uint32_t n = 0
    cdef pbuf *p
    if e != NULL:
        p = e.queue_head
        while p != NULL:
            n += 1
            p = p.queue_next
    return n


cdef void arp_flush(netif *nif) noexcept nogil:
    cdef int i
    for i in range(ARP_TABLE_SIZE):
        if table[i].state != ARP_STATE_FREE and table[i].nif == nif:
            release(&table[i], NET_DROP_ARP_EVICTED)
