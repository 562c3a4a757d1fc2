# DHCP client state machine (see dhcp.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.sys.errno cimport ENOMEM
from tyn.net.netclock cimport netclock_now_ns
from tyn.net.netconfig cimport netconfig_set_resolver, netconfig_classful_mask
from tyn.net.netif cimport netif, netif_set_addr
from tyn.net.netstats cimport *
from tyn.net.udp cimport (udp_pcb, udp_new, udp_free, udp_bind, udp_sendto, udp_set_recv_callback,
                          UDP_PCB_REUSEADDR)
from tyn.net.wire_dhcp cimport *
from tyn.net.wire_ipv4 cimport INADDR_ANY_HOST, INADDR_BROADCAST_HOST

cdef extern from *:
    """
    #define DHCP_NS_PER_SEC ((uint64_t)1000000000ULL)
    #define DHCP_XID_MULTIPLIER ((uint32_t)1664525U)     /* Numerical Recipes LCG */
    #define DHCP_XID_INCREMENT ((uint32_t)1013904223U)
    """
    const uint64_t DHCP_NS_PER_SEC
    const uint32_t DHCP_XID_MULTIPLIER
    const uint32_t DHCP_XID_INCREMENT

cdef struct dhcp_client:
    netif *nif
    udp_pcb *pcb
    int state
    uint32_t xid
    uint64_t started_ns             # of this exchange (the secs field)
    uint64_t deadline_ns            # next retransmission / state change
    uint32_t backoff_s
    uint32_t tries
    uint32_t offered
    uint32_t server
    uint64_t t1_ns
    uint64_t t2_ns
    uint64_t expiry_ns
    bint have_lease
    dhcp_message lease

cdef dhcp_client client
cdef uint8_t message[DHCP_MAX_LEN]


cdef void dhcp_init() noexcept nogil:
    if client.pcb != NULL:
        udp_free(client.pcb)
    memset(&client, 0, sizeof(dhcp_client))


cdef void send(uint8_t type, uint32_t dst) noexcept nogil:
    cdef dhcp_message m
    cdef uint32_t len
    cdef uint64_t now = netclock_now_ns()
    memset(&m, 0, sizeof(dhcp_message))
    m.op = BOOTREQUEST
    m.xid = client.xid
    m.secs = <uint16_t>((now - client.started_ns) // DHCP_NS_PER_SEC)
    memcpy(m.chaddr, client.nif.mac, 6)
    m.message_type = type
    if client.state == DHCP_STATE_RENEWING or client.state == DHCP_STATE_REBINDING:
        m.ciaddr = client.nif.addr
    elif type == DHCPREQUEST:
        m.requested_address = client.offered
        m.server_id = client.server
        m.present = DHCP_HAS_REQUESTED_ADDRESS | DHCP_HAS_SERVER_ID
    len = wire_dhcp_emit(message, DHCP_MAX_LEN, &m)
    udp_sendto(client.pcb, message, len, dst, DHCP_SERVER_PORT)


cdef void next_xid() noexcept nogil:
    client.xid = client.xid * DHCP_XID_MULTIPLIER + DHCP_XID_INCREMENT


cdef void retransmit_later() noexcept nogil:
    client.deadline_ns = netclock_now_ns() + client.backoff_s * DHCP_NS_PER_SEC
    if client.backoff_s < DHCP_RETRANSMIT_MAX_S:
        client.backoff_s *= 2


cdef void discover(bint new_xid) noexcept nogil:
    if new_xid:
        next_xid()
    client.state = DHCP_STATE_SELECTING
    client.started_ns = netclock_now_ns()
    client.backoff_s = DHCP_RETRANSMIT_FIRST_S
    client.tries = 0
    send(DHCPDISCOVER, INADDR_BROADCAST_HOST)
    retransmit_later()


cdef void request_offer() noexcept nogil:
    client.state = DHCP_STATE_REQUESTING
    client.backoff_s = DHCP_RETRANSMIT_FIRST_S
    client.tries = 1
    send(DHCPREQUEST, INADDR_BROADCAST_HOST)
    retransmit_later()


cdef void unbind() noexcept nogil:
    netif_set_addr(client.nif, INADDR_ANY_HOST, INADDR_ANY_HOST, INADDR_ANY_HOST)
    netconfig_set_resolver(NULL, 0, NULL)


cdef void bind_lease(const dhcp_message *ack) noexcept nogil:
    cdef uint64_t now = netclock_now_ns()
    cdef uint64_t lease_ns = ack.lease_time * DHCP_NS_PER_SEC
    cdef uint32_t mask = ack.subnet_mask if ack.present & DHCP_HAS_SUBNET_MASK else netconfig_classful_mask(ack.yiaddr)
    client.lease = ack[0]
    client.have_lease = True
    client.server = ack.server_id if ack.present & DHCP_HAS_SERVER_ID else client.server
    netif_set_addr(client.nif, ack.yiaddr, mask, ack.router if ack.present & DHCP_HAS_ROUTER else 0)
    netconfig_set_resolver(ack.dns, ack.dns_count, ack.domain_name)
    client.state = DHCP_STATE_BOUND
    if ack.lease_time == DHCP_INFINITE_LEASE:
        client.deadline_ns = 0
        return
    client.expiry_ns = now + lease_ns
    client.t1_ns = now + (ack.renewal_time * DHCP_NS_PER_SEC if ack.present & DHCP_HAS_RENEWAL_TIME
                          else lease_ns // 2)
    client.t2_ns = now + (ack.rebinding_time * DHCP_NS_PER_SEC if ack.present & DHCP_HAS_REBINDING_TIME
                          else lease_ns * 7 // 8)
    if client.t2_ns > client.expiry_ns:
        client.t2_ns = client.expiry_ns
    if client.t1_ns > client.t2_ns:
        client.t1_ns = client.t2_ns
    client.deadline_ns = client.t1_ns


cdef void dhcp_recv(udp_pcb *pcb, void *arg, uint32_t src, uint16_t src_port, const uint8_t *data,
                    uint32_t len) noexcept nogil:
    cdef dhcp_message m
    cdef int status = wire_dhcp_parse(data, len, &m)
    cdef int i
    if status != NET_OK:
        netstats_count(status)
        return
    if m.op != BOOTREPLY or m.xid != client.xid or client.state == DHCP_STATE_BOUND:
        netstats_count(NET_DROP_DHCP_UNEXPECTED)
        return
    for i in range(6):
        if m.chaddr[i] != client.nif.mac[i]:
            netstats_count(NET_DROP_DHCP_UNEXPECTED)
            return
    if client.state == DHCP_STATE_SELECTING:
        if (m.message_type != DHCPOFFER or m.yiaddr == INADDR_ANY_HOST or m.yiaddr == INADDR_BROADCAST_HOST
                or not m.present & DHCP_HAS_SERVER_ID):
            netstats_count(NET_DROP_DHCP_UNEXPECTED)
            return
        client.offered = m.yiaddr
        client.server = m.server_id
        request_offer()
        return
    if m.message_type == DHCPNAK:
        if client.state != DHCP_STATE_REQUESTING:
            unbind()
        discover(True)
        return
    if (m.message_type != DHCPACK or m.yiaddr == INADDR_ANY_HOST or not m.present & DHCP_HAS_LEASE_TIME
            or (client.state == DHCP_STATE_REQUESTING and m.present & DHCP_HAS_SERVER_ID
                and m.server_id != client.server)):
        netstats_count(NET_DROP_DHCP_UNEXPECTED)
        return
    bind_lease(&m)


cdef int dhcp_start(netif *nif, uint32_t xid_seed) noexcept nogil:
    cdef int rc
    dhcp_init()
    client.pcb = udp_new()
    if client.pcb == NULL:
        return -ENOMEM
    client.pcb.flags |= UDP_PCB_REUSEADDR
    rc = udp_bind(client.pcb, INADDR_ANY_HOST, DHCP_CLIENT_PORT)
    if rc != 0:
        udp_free(client.pcb)
        client.pcb = NULL
        return rc
    udp_set_recv_callback(client.pcb, dhcp_recv, NULL)
    client.nif = nif
    client.xid = xid_seed
    discover(False)
    return 0


cdef void dhcp_stop() noexcept nogil:
    dhcp_init()


cdef int dhcp_state() noexcept nogil:
    return client.state


cdef bint dhcp_lease(dhcp_message *out) noexcept nogil:
    if not client.have_lease:
        return False
    out[0] = client.lease
    return True


cdef uint64_t half_left(uint64_t now, uint64_t until) noexcept nogil:
    cdef uint64_t wait = (until - now) // 2 if until > now else 0
    if wait < DHCP_RENEW_RETRY_MIN_S * DHCP_NS_PER_SEC:
        wait = DHCP_RENEW_RETRY_MIN_S * DHCP_NS_PER_SEC
    return now + wait if now + wait < until else until


cdef void dhcp_timers_run(uint64_t now_ns) noexcept nogil:
    if client.state == DHCP_STATE_OFF or client.deadline_ns == 0 or now_ns < client.deadline_ns:
        return
    if client.state == DHCP_STATE_SELECTING:
        send(DHCPDISCOVER, INADDR_BROADCAST_HOST)
        retransmit_later()
    elif client.state == DHCP_STATE_REQUESTING:
        if client.tries >= DHCP_REQUEST_TRIES:
            discover(True)
        else:
            client.tries += 1
            send(DHCPREQUEST, INADDR_BROADCAST_HOST)
            retransmit_later()
    elif now_ns >= client.expiry_ns:
        unbind()
        discover(True)
    elif now_ns >= client.t2_ns:
        if client.state != DHCP_STATE_REBINDING:
            next_xid()
        client.state = DHCP_STATE_REBINDING
        send(DHCPREQUEST, INADDR_BROADCAST_HOST)
        client.deadline_ns = half_left(now_ns, client.expiry_ns)
    else:
        if client.state == DHCP_STATE_BOUND:
            next_xid()
            client.started_ns = now_ns
        client.state = DHCP_STATE_RENEWING
        send(DHCPREQUEST, client.server)
        client.deadline_ns = half_left(now_ns, client.t2_ns)


cdef uint64_t dhcp_next_deadline_ns() noexcept nogil:
    return client.deadline_ns if client.state != DHCP_STATE_OFF else 0
