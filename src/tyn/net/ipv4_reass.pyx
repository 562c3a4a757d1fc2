# IPv4 reassembly with limits (see ipv4_reass.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.net.netclock cimport netclock_now_ns
from tyn.net.netstats cimport *
from tyn.net.pbuf cimport pbuf, pbuf_alloc, pbuf_free, pbuf_free_queue, pbuf_charge
from tyn.net.wire_ipv4 cimport (ipv4_header, wire_ipv4_emit, IPV4_HEADER_MIN, IPV4_HEADER_MAX, IP_MAXPACKET,
                                IP_MF, IP_OFFMASK, IP_FRAG_UNIT)
from tyn.net.wire_icmp cimport ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, ICMP_ERROR_QUOTE_DATA
from tyn.net.icmp cimport icmp_send_error

cdef enum:
    MAX_DATAGRAM_PAYLOAD = IP_MAXPACKET - IPV4_HEADER_MIN

cdef struct reass_datagram:
    bint used
    uint32_t src
    uint32_t dst
    uint16_t id
    uint8_t protocol
    uint64_t deadline_ns
    ipv4_header first               # header of fragment 0 (valid when first_len != 0)
    uint8_t first_raw[IPV4_HEADER_MAX]
    uint32_t first_len
    bint have_last
    uint32_t end                    # payload length, once the last fragment came
    uint32_t received               # payload bytes held
    uint32_t charged                # buffer bytes held
    pbuf *fragments                 # by offset (tag_value), linked by queue_next

cdef reass_datagram datagrams[IP_REASS_MAX_DATAGRAMS]
cdef uint32_t total_charged


cdef void drop(reass_datagram *d, int reason) noexcept nogil:
    global total_charged
    if reason != NET_OK:
        netstats_count(reason)
    pbuf_free_queue(d.fragments)
    total_charged -= d.charged
    memset(d, 0, sizeof(reass_datagram))


cdef void ipv4_reass_init() noexcept nogil:
    global total_charged
    cdef int i
    for i in range(IP_REASS_MAX_DATAGRAMS):
        if datagrams[i].used:
            pbuf_free_queue(datagrams[i].fragments)
        memset(&datagrams[i], 0, sizeof(reass_datagram))
    total_charged = 0


cdef reass_datagram *find_or_start(const ipv4_header *hdr) noexcept nogil:
    cdef reass_datagram *d
    cdef reass_datagram *oldest = NULL
    cdef reass_datagram *free_slot = NULL
    cdef int i
    for i in range(IP_REASS_MAX_DATAGRAMS):
        d = &datagrams[i]
        if not d.used:
            if free_slot == NULL:
                free_slot = d
        elif d.src == hdr.src and d.dst == hdr.dst and d.id == hdr.id and d.protocol == hdr.protocol:
            return d
        elif oldest == NULL or d.deadline_ns < oldest.deadline_ns:
            oldest = d
    if free_slot == NULL:
        drop(oldest, NET_DROP_FRAG_LIMIT)
        free_slot = oldest
    d = free_slot
    d.used = True
    d.src = hdr.src
    d.dst = hdr.dst
    d.id = hdr.id
    d.protocol = hdr.protocol
    d.deadline_ns = netclock_now_ns() + IP_REASS_TIMEOUT_NS
    return d


cdef pbuf *assemble(reass_datagram *d) noexcept nogil:
    cdef pbuf *out = pbuf_alloc(0, IPV4_HEADER_MIN + d.end)
    cdef pbuf *f
    cdef ipv4_header hdr
    if out == NULL:
        drop(d, NET_DROP_NO_BUFFER)
        return NULL
    hdr = d.first
    hdr.total_len = <uint16_t>(IPV4_HEADER_MIN + d.end)
    hdr.frag = 0
    wire_ipv4_emit(out.payload, &hdr)
    f = d.fragments
    while f != NULL:
        memcpy(out.payload + IPV4_HEADER_MIN + f.tag_value, f.payload, f.len)
        f = f.queue_next
    netstats_count(NET_IP_REASSEMBLED)
    drop(d, NET_OK)
    return out


cdef pbuf *ipv4_reass_input(const ipv4_header *hdr, const uint8_t *packet) noexcept nogil:
    global total_charged
    cdef uint32_t offset = (hdr.frag & IP_OFFMASK) * IP_FRAG_UNIT
    cdef uint32_t length = hdr.total_len - hdr.header_len
    cdef uint32_t end = offset + length
    cdef bint more = (hdr.frag & IP_MF) != 0
    cdef reass_datagram *d
    cdef pbuf *f
    cdef pbuf *p
    cdef pbuf **link
    if end > MAX_DATAGRAM_PAYLOAD or (more and (length == 0 or length % IP_FRAG_UNIT != 0)):
        netstats_count(NET_DROP_FRAG_BAD)
        return NULL
    d = find_or_start(hdr)
    if (not more and d.have_last and end != d.end) or (more and d.have_last and end > d.end):
        drop(d, NET_DROP_FRAG_BAD)
        return NULL
    f = d.fragments
    while f != NULL:
        if f.tag_value == offset and f.tag_value + f.len == end:
            netstats_count(NET_DROP_FRAG_DUPLICATE)
            return NULL
        if offset < f.tag_value + f.len and f.tag_value < end:
            drop(d, NET_DROP_FRAG_OVERLAP)
            return NULL
        if not more and f.tag_value + f.len > end:
            drop(d, NET_DROP_FRAG_BAD)
            return NULL
        f = f.queue_next
    p = pbuf_alloc(0, length)
    if p == NULL:
        netstats_count(NET_DROP_NO_BUFFER)
        if d.fragments == NULL:
            drop(d, NET_OK)
        return NULL
    if total_charged + pbuf_charge(p) > IP_REASS_MAX_BYTES:
        pbuf_free(p)
        drop(d, NET_DROP_FRAG_LIMIT)
        return NULL
    memcpy(p.payload, packet + hdr.header_len, length)
    p.tag_value = offset
    link = &d.fragments
    while link[0] != NULL and link[0].tag_value < offset:
        link = &link[0].queue_next
    p.queue_next = link[0]
    link[0] = p
    d.charged += pbuf_charge(p)
    total_charged += pbuf_charge(p)
    d.received += length
    if not more:
        d.have_last = True
        d.end = end
    if offset == 0:
        d.first = hdr[0]
        d.first_len = hdr.header_len
        memcpy(d.first_raw, packet, hdr.header_len)
    if d.have_last and d.first_len != 0 and d.received == d.end:
        return assemble(d)
    return NULL


cdef void time_out(reass_datagram *d) noexcept nogil:
    cdef uint8_t quote[IPV4_HEADER_MAX + ICMP_ERROR_QUOTE_DATA]
    cdef uint32_t n
    if d.first_len != 0:
        # RFC 792/1122: tell the sender, quoting fragment 0.
        memcpy(quote, d.first_raw, d.first_len)
        n = d.fragments.len if d.fragments.len < ICMP_ERROR_QUOTE_DATA else ICMP_ERROR_QUOTE_DATA
        memcpy(quote + d.first_len, d.fragments.payload, n)
        icmp_send_error(ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0, quote, d.first_len + n)
    drop(d, NET_DROP_FRAG_TIMEOUT)


cdef void ipv4_reass_timers_run(uint64_t now_ns) noexcept nogil:
    cdef int i
    for i in range(IP_REASS_MAX_DATAGRAMS):
        if datagrams[i].used and datagrams[i].deadline_ns <= now_ns:
            time_out(&datagrams[i])


cdef uint64_t ipv4_reass_next_deadline_ns() noexcept nogil:
    cdef uint64_t best = 0
    cdef int i
    for i in range(IP_REASS_MAX_DATAGRAMS):
        if datagrams[i].used and (best == 0 or datagrams[i].deadline_ns < best):
            best = datagrams[i].deadline_ns
    return best


cdef uint32_t ipv4_reass_datagrams() noexcept nogil:
    cdef uint32_t n = 0
    cdef int i
    for i in range(IP_REASS_MAX_DATAGRAMS):
        if datagrams[i].used:
            n += 1
    return n


cdef uint32_t ipv4_reass_bytes() noexcept nogil:
    return total_charged
