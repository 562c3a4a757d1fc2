# NETLINK_ROUTE requests and their replies (see rtnetlink.pxd).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.mm.heap cimport kmalloc, kfree
from tyn.sys.errno cimport EINVAL, ENODEV, EOPNOTSUPP, ENOBUFS
from tyn.net.sockaddr cimport AF_INET, AF_INET6
from tyn.net.netif cimport netif, netif_first, NETIF_NAME_MAX
from tyn.net.wire_ethernet cimport ETH_ALEN
from tyn.net.wire_netlink cimport *
from tyn.net.ifinfo cimport *

cdef enum:
    DUMP_STARTED = 1                # a dump was queued: no ack (Linux's -EINTR from netlink_dump_start)
    LINK_MSG_MAX = 512              # room for one RTM_NEWLINK as built here
    ADDR_MSG_MAX = 128              # room for one RTM_NEWADDR
    STATS_SIZE = RTNL_LINK_STATS_FIELDS * 4
    STATS64_SIZE = RTNL_LINK_STATS64_FIELDS * 8

# ------------------------------------------------------------------ reply datagrams

cdef nl_dgram *dgram_new(uint32_t cap, uint32_t src_portid) noexcept nogil:
    cdef nl_dgram *d = <nl_dgram *>kmalloc(sizeof(nl_dgram) + cap)
    if d == NULL:
        return NULL
    d.next = NULL
    d.len = 0
    d.cap = cap
    d.src_portid = src_portid
    d.closed = False
    return d

cdef nl_dgram *rtnetlink_dgram_copy(const uint8_t *data, uint32_t len, uint32_t src_portid) noexcept nogil:
    cdef nl_dgram *d = dgram_new(len, src_portid)
    if d != NULL:
        memcpy(nl_dgram_data(d), data, len)
        d.len = len
        d.closed = True
    return d

cdef void rtnetlink_reply_free(nl_reply *r) noexcept nogil:
    cdef nl_dgram *d = r.head
    cdef nl_dgram *next
    while d != NULL:
        next = d.next
        kfree(d)
        d = next
    r.head = NULL
    r.tail = NULL
    r.bytes = 0

cdef uint8_t *reserve(nl_reply *r, uint32_t n, uint32_t chunk) noexcept nogil:
    # Room for n more bytes in the open datagram, or in a new one of chunk (>= n) bytes.
    cdef nl_dgram *d = r.tail
    if r.failed:
        return NULL
    if d == NULL or d.closed or d.cap - d.len < n:
        d = dgram_new(chunk if chunk > n else n, 0)
        if d == NULL:
            r.failed = True
            return NULL
        if r.tail != NULL:
            r.tail.closed = True
            r.tail.next = d
        else:
            r.head = d
        r.tail = d
    return nl_dgram_data(d) + d.len

cdef void commit(nl_reply *r, uint32_t n) noexcept nogil:
    r.tail.len += n
    r.bytes += n

cdef void close_dgram(nl_reply *r) noexcept nogil:
    if r.tail != NULL:
        r.tail.closed = True

cdef void put_header(uint8_t *p, uint32_t len, uint16_t type, uint16_t flags, uint32_t seq,
                     uint32_t portid) noexcept nogil:
    cdef nlmsg_header h
    h.len = len
    h.type = type
    h.flags = flags
    h.seq = seq
    h.pid = portid
    wire_nlmsg_emit(p, &h)

# ------------------------------------------------------------------ messages

cdef uint32_t fill_link(uint8_t *p, netif *nif, uint16_t flags, uint32_t seq, uint32_t portid) noexcept nogil:
    # rtnl_fill_ifinfo's attributes that describe these devices, in its order.
    cdef uint32_t n = NLMSG_HDRLEN + IFINFOMSG_SIZE
    cdef uint8_t name_len = 0
    cdef uint8_t lladdr[ETH_ALEN]
    cdef uint32_t stats[RTNL_LINK_STATS_FIELDS]
    cdef uint64_t stats64[RTNL_LINK_STATS64_FIELDS]
    cdef ifinfo_stats s
    cdef bint up = (ifinfo_flags(nif) & IFF_UP) != 0
    wire_ifinfomsg_emit(p + NLMSG_HDRLEN, ifinfo_dev_type(nif), ifinfo_index(nif), ifinfo_flags(nif))
    while name_len < NETIF_NAME_MAX and nif.name[name_len] != 0:
        name_len += 1
    n += wire_rtattr_emit(p + n, IFLA_IFNAME, nif.name, name_len + 1)
    n += wire_rtattr_emit_u32(p + n, IFLA_TXQLEN, IFINFO_TXQLEN)
    n += wire_rtattr_emit_u8(p + n, IFLA_OPERSTATE, ifinfo_operstate(nif))
    n += wire_rtattr_emit_u8(p + n, IFLA_LINKMODE, 0)
    n += wire_rtattr_emit_u32(p + n, IFLA_MTU, nif.mtu)
    n += wire_rtattr_emit_u8(p + n, IFLA_CARRIER, 1 if up else 0)
    n += wire_rtattr_emit(p + n, IFLA_ADDRESS, nif.mac, ETH_ALEN)    # lo: all zeros, as Linux
    if ifinfo_dev_type(nif) == ARPHRD_ETHER:
        memset(lladdr, 0xff, ETH_ALEN)
    else:
        memset(lladdr, 0, ETH_ALEN)
    n += wire_rtattr_emit(p + n, IFLA_BROADCAST, lladdr, ETH_ALEN)
    ifinfo_get_stats(nif, &s)
    memset(stats64, 0, sizeof(stats64))
    memcpy(stats64, &s, sizeof(ifinfo_stats))
    n += wire_rtattr_emit(p + n, IFLA_STATS64, stats64, STATS64_SIZE)
    memset(stats, 0, sizeof(stats))
    stats[0] = <uint32_t>s.rx_packets
    stats[1] = <uint32_t>s.tx_packets
    stats[2] = <uint32_t>s.rx_bytes
    stats[3] = <uint32_t>s.tx_bytes
    stats[4] = <uint32_t>s.rx_errors
    stats[5] = <uint32_t>s.tx_errors
    stats[6] = <uint32_t>s.rx_dropped
    stats[7] = <uint32_t>s.tx_dropped
    n += wire_rtattr_emit(p + n, IFLA_STATS, stats, STATS_SIZE)
    put_header(p, n, RTM_NEWLINK, flags, seq, portid)
    return n

cdef uint32_t fill_addr(uint8_t *p, netif *nif, uint16_t flags, uint32_t seq, uint32_t portid) noexcept nogil:
    # inet_fill_ifaddr: one IPv4 address, labelled with the interface's name.
    cdef uint32_t n = NLMSG_HDRLEN + IFADDRMSG_SIZE
    cdef uint8_t name_len = 0
    cdef uint32_t cacheinfo[4]
    cdef uint32_t broadcast = ifinfo_broadcast(nif)
    wire_ifaddrmsg_emit(p + NLMSG_HDRLEN, AF_INET, ifinfo_prefixlen(nif.netmask), IFA_F_PERMANENT,
                        ifinfo_scope(nif), <uint32_t>ifinfo_index(nif))
    n += wire_rtattr_emit_in_addr(p + n, IFA_ADDRESS, nif.addr)
    n += wire_rtattr_emit_in_addr(p + n, IFA_LOCAL, nif.addr)
    if broadcast != 0:
        n += wire_rtattr_emit_in_addr(p + n, IFA_BROADCAST, broadcast)
    while name_len < NETIF_NAME_MAX and nif.name[name_len] != 0:
        name_len += 1
    n += wire_rtattr_emit(p + n, IFA_LABEL, nif.name, name_len + 1)
    n += wire_rtattr_emit_u32(p + n, IFA_FLAGS, IFA_F_PERMANENT)
    # Lifetimes: permanent.  The creation/update stamps are not kept (0).
    cacheinfo[0] = INFINITY_LIFE_TIME
    cacheinfo[1] = INFINITY_LIFE_TIME
    cacheinfo[2] = 0
    cacheinfo[3] = 0
    n += wire_rtattr_emit(p + n, IFA_CACHEINFO, cacheinfo, IFA_CACHEINFO_SIZE)
    put_header(p, n, RTM_NEWADDR, flags, seq, portid)
    return n

cdef void put_done(nl_reply *r, uint32_t seq, uint32_t portid) noexcept nogil:
    cdef uint32_t n = NLMSG_HDRLEN + NLMSG_DONE_PAYLOAD
    cdef uint8_t *p
    close_dgram(r)
    p = reserve(r, n, n)
    if p == NULL:
        return
    put_header(p, n, NLMSG_DONE, NLM_F_MULTI, seq, portid)
    memset(p + NLMSG_HDRLEN, 0, NLMSG_DONE_PAYLOAD)
    commit(r, n)
    close_dgram(r)

cdef void put_ack(nl_reply *r, const uint8_t *request, const nlmsg_header *h, int32_t err,
                  uint32_t portid, bint cap_ack) noexcept nogil:
    # netlink_ack: the request's header, and its payload with an error unless capped.
    cdef uint32_t payload = 0
    cdef uint16_t flags = 0
    cdef uint32_t n
    cdef uint8_t *p
    if err != 0 and not cap_ack:
        payload = h.len - NLMSG_HDRLEN
    else:
        flags = NLM_F_CAPPED
    n = NLMSG_HDRLEN + NLMSGERR_SIZE + nlmsg_align(payload)
    close_dgram(r)
    p = reserve(r, n, n)
    if p == NULL:
        return
    memset(p, 0, n)
    put_header(p, n, NLMSG_ERROR, flags, h.seq, portid)
    wire_nlmsgerr_emit(p + NLMSG_HDRLEN, err, h)
    if payload > 0:
        memcpy(p + NLMSG_HDRLEN + NLMSGERR_SIZE, request + NLMSG_HDRLEN, payload)
    commit(r, n)
    close_dgram(r)

# ------------------------------------------------------------------ requests

cdef void dump_links(nl_reply *r, uint32_t seq, uint32_t portid) noexcept nogil:
    cdef netif *nif = netif_first()
    cdef uint8_t *p
    while nif != NULL:
        p = reserve(r, LINK_MSG_MAX, NETLINK_DUMP_CHUNK)
        if p == NULL:
            return
        commit(r, fill_link(p, nif, NLM_F_MULTI, seq, portid))
        nif = nif.next
    put_done(r, seq, portid)

cdef void dump_addrs(nl_reply *r, uint8_t family, uint32_t seq, uint32_t portid) noexcept nogil:
    # rtnl_dump_all / inet_dump_ifaddr: IPv4 addresses; the stack has no IPv6, so an
    # AF_INET6 dump is empty.
    cdef netif *nif = netif_first()
    cdef uint8_t *p
    while family != AF_INET6 and nif != NULL:
        if ifinfo_has_addr(nif):
            p = reserve(r, ADDR_MSG_MAX, NETLINK_DUMP_CHUNK)
            if p == NULL:
                return
            commit(r, fill_addr(p, nif, NLM_F_MULTI, seq, portid))
        nif = nif.next
    put_done(r, seq, portid)

cdef int32_t get_link(nl_reply *r, const uint8_t *body, uint32_t len, uint32_t seq,
                      uint32_t portid) noexcept nogil:
    # rtnl_getlink: by ifi_index, else by IFLA_IFNAME.
    cdef int32_t index
    cdef const uint8_t *name
    cdef uint32_t name_len
    cdef char wanted[IFNAMSIZ]
    cdef netif *nif = NULL
    cdef uint8_t *p
    if not wire_ifinfomsg_index(body, len, &index):
        return -EINVAL
    if index > 0:
        nif = ifinfo_by_index(index)
    elif wire_rtattr_find(body + IFINFOMSG_SIZE, len - IFINFOMSG_SIZE, IFLA_IFNAME, &name, &name_len):
        memset(wanted, 0, IFNAMSIZ)
        memcpy(wanted, name, name_len if name_len < IFNAMSIZ - 1 else IFNAMSIZ - 1)
        nif = ifinfo_by_name(wanted)
    else:
        return -EINVAL
    if nif == NULL:
        return -ENODEV
    close_dgram(r)
    p = reserve(r, LINK_MSG_MAX, LINK_MSG_MAX)
    if p == NULL:
        return -ENOBUFS
    commit(r, fill_link(p, nif, 0, seq, portid))
    close_dgram(r)
    return 0

cdef int32_t route_request(nl_reply *r, const uint8_t *msg, const nlmsg_header *h,
                           uint32_t portid) noexcept nogil:
    # rtnetlink_rcv_msg: 0, -errno, or DUMP_STARTED.
    cdef uint32_t payload = h.len - NLMSG_HDRLEN
    cdef const uint8_t *body = msg + NLMSG_HDRLEN
    if h.type > RTM_MAX:
        return -EOPNOTSUPP
    if payload < RTGENMSG_SIZE:
        return 0                        # "all the messages must have at least 1 byte"
    if ((h.type - RTM_BASE) & RTM_KIND_MASK) != RTM_KIND_GET:
        return -EOPNOTSUPP              # changing links and addresses is not offered
    if h.flags & NLM_F_DUMP:
        if h.type == RTM_GETLINK:
            dump_links(r, h.seq, portid)
        elif h.type == RTM_GETADDR:
            dump_addrs(r, body[0], h.seq, portid)
        else:
            return -EOPNOTSUPP
        return DUMP_STARTED
    if h.type == RTM_GETLINK:
        return get_link(r, body, payload, h.seq, portid)
    return -EOPNOTSUPP

cdef void rtnetlink_input(const uint8_t *buf, uint32_t len, uint32_t portid, bint cap_ack,
                          nl_reply *out) noexcept nogil:
    # netlink_rcv_skb: each message in turn; a malformed length ends the datagram.
    cdef uint32_t off = 0, step
    cdef nlmsg_header h
    cdef int32_t err
    while len - off >= NLMSG_HDRLEN:
        if wire_nlmsg_parse(buf + off, len - off, &h) < 0:
            return
        err = 0
        if (h.flags & NLM_F_REQUEST) and h.type >= NLMSG_MIN_TYPE:
            err = route_request(out, buf + off, &h, portid)
        if err != DUMP_STARTED and ((h.flags & NLM_F_ACK) or err != 0):
            put_ack(out, buf + off, &h, err, portid, cap_ack)
        step = nlmsg_align(h.len)
        if step > len - off:
            step = len - off
        off += step
