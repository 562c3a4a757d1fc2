# The TCP pcb table and shared module state.  See tcp_pcb.pxd.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memset
from tyn.mm.heap cimport kcalloc, kfree
from tyn.sys.errno cimport ENETUNREACH, ENOBUFS
from tyn.net.tcp_types cimport *
from tyn.net.wire_ipv4 cimport IPDEFTTL
from tyn.net.tcp_buffers cimport tcp_buffers_init, tcp_bq_clear, tcp_ooo_clear
from tyn.net.tcp_iss cimport tcp_iss_init, tcp_iss_port_offset

cdef enum:
    TCP_LISTEN_BUCKETS = 64
    HASHED_NONE = 0
    HASHED_CONN = 1
    HASHED_LISTEN = 2

cdef extern from *:
    """
    #define TCP_HASH_GOLDEN 0x9e3779b1u    /* Knuth's multiplicative hash */
    #define TCP_HASH_MIX 0x85ebca6bu       /* murmur3's finaliser */
    """
    const uint32_t TCP_HASH_GOLDEN
    const uint32_t TCP_HASH_MIX

cdef tcp_stats stats
cdef tcp_tunables tunables
cdef uint64_t last_now_ns
cdef tcp_clock_fn clock_fn
cdef tcp_output_fn output_fn
cdef tcp_event_fn event_fn
cdef tcp_route_fn route_fn

cdef tcp_pcb *all_pcbs
cdef uint32_t pcb_count
cdef tcp_pcb *conn_buckets[TCP_HASH_BUCKETS]
cdef tcp_pcb *listen_buckets[TCP_LISTEN_BUCKETS]
cdef uint32_t ephemeral_next


cdef void tcp_pcb_init() noexcept nogil:
    global last_now_ns, clock_fn, output_fn, event_fn, route_fn, all_pcbs, pcb_count, ephemeral_next
    memset(&stats, 0, sizeof(stats))
    memset(conn_buckets, 0, sizeof(conn_buckets))
    memset(listen_buckets, 0, sizeof(listen_buckets))
    last_now_ns = 0
    clock_fn = NULL
    output_fn = NULL
    event_fn = NULL
    route_fn = NULL
    all_pcbs = NULL
    pcb_count = 0
    ephemeral_next = 0
    tunables.max_pcbs = TCP_MAX_PCBS_DEFAULT
    tunables.mem_limit = TCP_MEM_LIMIT_DEFAULT
    tunables.sndbuf_default = TCP_WMEM_DEFAULT
    tunables.rcvbuf_default = TCP_RMEM_DEFAULT
    tunables.buf_min = TCP_BUF_MIN
    tunables.buf_max = TCP_BUF_MAX
    tunables.ooo_max_segs = TCP_OOO_MAX_SEGS
    tunables.syn_retries = TCP_SYN_RETRIES
    tunables.synack_retries = TCP_SYNACK_RETRIES
    tunables.retries2 = TCP_RETRIES2
    tunables.keep_idle_s = TCP_KEEPIDLE_S
    tunables.keep_intvl_s = TCP_KEEPINTVL_S
    tunables.keep_cnt = TCP_KEEPCNT
    tunables.fin_timeout_s = TCP_FIN_TIMEOUT_S
    tunables.time_wait_ms = TCP_TIME_WAIT_MS
    tunables.delack_ms = TCP_DELACK_MS
    tunables.challenge_interval_ms = TCP_INVALID_RATELIMIT_MS
    tunables.ephemeral_low = TCP_EPHEMERAL_LOW
    tunables.ephemeral_high = TCP_EPHEMERAL_HIGH
    tunables.timestamps = 1
    tunables.sack = 1
    tcp_buffers_init(tunables.mem_limit)
    tcp_iss_init()

cdef tcp_stats *tcp_pcb_stats() noexcept nogil:
    return &stats

cdef tcp_tunables *tcp_pcb_tunables() noexcept nogil:
    return &tunables


cdef uint64_t tcp_pcb_now() noexcept nogil:
    if clock_fn != NULL:
        return clock_fn()
    return last_now_ns

cdef void tcp_pcb_note_time(uint64_t now_ns) noexcept nogil:
    global last_now_ns
    last_now_ns = now_ns

cdef void tcp_pcb_set_clock(tcp_clock_fn fn) noexcept nogil:
    global clock_fn
    clock_fn = fn

cdef void tcp_pcb_set_output(tcp_output_fn fn) noexcept nogil:
    global output_fn
    output_fn = fn

cdef void tcp_pcb_set_event_hook(tcp_event_fn fn) noexcept nogil:
    global event_fn
    event_fn = fn

cdef void tcp_pcb_set_route(tcp_route_fn fn) noexcept nogil:
    global route_fn
    route_fn = fn


cdef int tcp_pcb_transmit(uint32_t src, uint32_t dst, uint8_t tos, uint8_t ttl,
                          const uint8_t *segment, uint32_t len,
                          const netdev_tx_offload *offload) noexcept nogil:
    cdef int r
    if output_fn == NULL:
        stats.output_errors += 1
        return -ENOBUFS
    r = output_fn(src, dst, IPPROTO_TCP, tos, ttl if ttl != 0 else IPDEFTTL, segment, len, offload)
    if r < 0:
        stats.output_errors += 1
    else:
        stats.segs_out += 1
    return r

cdef void tcp_pcb_event(tcp_pcb *pcb, uint32_t events) noexcept nogil:
    if event_fn != NULL and not (pcb.flags & TF_USER_CLOSED):
        event_fn(pcb, pcb.user, events)

cdef int tcp_pcb_route(uint32_t dst, uint32_t *src, uint16_t *mss, uint32_t *offloads) noexcept nogil:
    cdef uint32_t mtu = TCP_MSS_ETHERNET + TCP_IPV4_OVERHEAD
    cdef uint32_t s = src[0]
    offloads[0] = 0
    if route_fn != NULL:
        if route_fn(dst, &s, &mtu, offloads) < 0:
            return -ENETUNREACH
        if src[0] == 0:
            src[0] = s
    if mtu > TCP_MAX_SEGMENT:
        mtu = TCP_MAX_SEGMENT
    if mtu < TCP_MIN_MSS + TCP_IPV4_OVERHEAD:
        mtu = TCP_MIN_MSS + TCP_IPV4_OVERHEAD
    mss[0] = <uint16_t>(mtu - TCP_IPV4_OVERHEAD)
    return 0


# ------------------------------------------------------------------ allocation

cdef tcp_pcb *oldest_time_wait() noexcept nogil:
    cdef tcp_pcb *p = all_pcbs
    cdef tcp_pcb *best = NULL
    while p != NULL:
        if p.state == TCP_TIME_WAIT and (best == NULL or p.close_deadline < best.close_deadline):
            best = p
        p = p.next
    return best

cdef tcp_pcb *tcp_pcb_alloc() noexcept nogil:
    global all_pcbs, pcb_count
    cdef tcp_pcb *pcb
    if pcb_count >= tunables.max_pcbs:
        pcb = oldest_time_wait()
        if pcb == NULL:
            stats.pcb_cap_drops += 1
            return NULL
        stats.time_wait_recycled += 1
        tcp_pcb_free(pcb)
    pcb = <tcp_pcb *>kcalloc(1, sizeof(tcp_pcb))
    if pcb == NULL:
        stats.pcb_cap_drops += 1
        return NULL
    pcb.state = TCP_CLOSED
    pcb.sndbuf = tunables.sndbuf_default
    pcb.rcvbuf = tunables.rcvbuf_default
    pcb.keep_idle_s = tunables.keep_idle_s
    pcb.keep_intvl_s = tunables.keep_intvl_s
    pcb.keep_cnt = tunables.keep_cnt
    pcb.rto_ms = TCP_RTO_INITIAL_MS
    pcb.mss = TCP_DEFAULT_MSS
    pcb.adv_mss = TCP_MSS_ETHERNET
    pcb.next = all_pcbs
    if all_pcbs != NULL:
        all_pcbs.prev = pcb
    all_pcbs = pcb
    pcb_count += 1
    stats.pcbs_allocated += 1
    return pcb

cdef void tcp_pcb_free(tcp_pcb *pcb) noexcept nogil:
    global all_pcbs, pcb_count
    tcp_pcb_unhash(pcb)
    if pcb.prev != NULL:
        pcb.prev.next = pcb.next
    else:
        all_pcbs = pcb.next
    if pcb.next != NULL:
        pcb.next.prev = pcb.prev
    tcp_bq_clear(&pcb.sndq)
    tcp_bq_clear(&pcb.rcvq)
    tcp_ooo_clear(&pcb.ooo, &pcb.ooo_count, &pcb.ooo_bytes)
    pcb_count -= 1
    stats.pcbs_freed += 1
    kfree(pcb)

cdef bint tcp_pcb_terminate(tcp_pcb *pcb, int err) noexcept nogil:
    cdef tcp_pcb *listener = pcb.listener
    cdef uint32_t events = TCP_EVENT_IN | TCP_EVENT_OUT | TCP_EVENT_HUP
    pcb.rexmt_deadline = 0
    pcb.persist_deadline = 0
    pcb.delack_deadline = 0
    pcb.keepalive_deadline = 0
    pcb.close_deadline = 0
    pcb.flags &= ~(TF_ACK_NOW | TF_ACK_DELAYED | TF_RTT_TIMING)
    tcp_pcb_unhash(pcb)
    pcb.state = TCP_CLOSED
    tcp_bq_clear(&pcb.sndq)
    tcp_ooo_clear(&pcb.ooo, &pcb.ooo_count, &pcb.ooo_bytes)
    if listener != NULL and not (pcb.flags & TF_ACCEPT_QUEUED):
        listener.syn_queue_len -= 1
        tcp_pcb_free(pcb)
        return True
    if pcb.flags & TF_USER_CLOSED:
        tcp_pcb_free(pcb)
        return True
    if err != 0:
        pcb.so_error = err
        events |= TCP_EVENT_ERR
    tcp_pcb_event(pcb, events)
    if listener != NULL:
        tcp_pcb_event(listener, TCP_EVENT_IN)
    return False

cdef uint32_t tcp_pcb_count() noexcept nogil:
    return pcb_count

cdef tcp_pcb *tcp_pcb_first() noexcept nogil:
    return all_pcbs


# ------------------------------------------------------------------ lookup

cdef inline uint32_t conn_bucket(uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp) noexcept nogil:
    cdef uint32_t h = ra ^ (la * TCP_HASH_GOLDEN) ^ ((<uint32_t>rp << 16) | lp)
    h ^= h >> 16
    h *= TCP_HASH_MIX
    h ^= h >> 13
    return h & (TCP_HASH_BUCKETS - 1)

cdef inline tcp_pcb **bucket_of(tcp_pcb *pcb, int table) noexcept nogil:
    if table == HASHED_LISTEN:
        return &listen_buckets[pcb.local_port & (TCP_LISTEN_BUCKETS - 1)]
    return &conn_buckets[conn_bucket(pcb.local_addr, pcb.local_port, pcb.remote_addr, pcb.remote_port)]

cdef void tcp_pcb_hash(tcp_pcb *pcb) noexcept nogil:
    cdef tcp_pcb **b
    if pcb.hashed:
        return
    pcb.hashed = HASHED_LISTEN if pcb.state == TCP_LISTEN else HASHED_CONN
    b = bucket_of(pcb, pcb.hashed)
    pcb.hash_next = b[0]
    b[0] = pcb

cdef void tcp_pcb_unhash(tcp_pcb *pcb) noexcept nogil:
    cdef tcp_pcb **link
    if not pcb.hashed:
        return
    link = bucket_of(pcb, pcb.hashed)
    while link[0] != NULL:
        if link[0] == pcb:
            link[0] = pcb.hash_next
            break
        link = &link[0].hash_next
    pcb.hash_next = NULL
    pcb.hashed = HASHED_NONE

cdef tcp_pcb *tcp_pcb_lookup(uint32_t local_addr, uint16_t local_port,
                             uint32_t remote_addr, uint16_t remote_port) noexcept nogil:
    cdef tcp_pcb *p = conn_buckets[conn_bucket(local_addr, local_port, remote_addr, remote_port)]
    while p != NULL:
        if (p.local_port == local_port and p.remote_port == remote_port
                and p.local_addr == local_addr and p.remote_addr == remote_addr):
            return p
        p = p.hash_next
    return NULL

cdef tcp_pcb *tcp_pcb_lookup_listener(uint32_t local_addr, uint16_t local_port) noexcept nogil:
    cdef tcp_pcb *p = listen_buckets[local_port & (TCP_LISTEN_BUCKETS - 1)]
    cdef tcp_pcb *wildcard = NULL
    while p != NULL:
        if p.local_port == local_port:
            if p.local_addr == local_addr:
                return p
            if p.local_addr == 0:
                wildcard = p
        p = p.hash_next
    return wildcard


# ------------------------------------------------------------------ ports

cdef bint tcp_pcb_port_conflict(tcp_pcb *self, uint32_t addr, uint16_t port, bint reuse) noexcept nogil:
    cdef tcp_pcb *p = all_pcbs
    while p != NULL:
        if (p != self and (p.flags & TF_BOUND) and p.local_port == port
                and (p.local_addr == 0 or addr == 0 or p.local_addr == addr)):
            if not (reuse and p.state != TCP_LISTEN
                    and ((p.flags & TF_REUSEADDR) or p.state == TCP_TIME_WAIT)):
                return True
        p = p.next
    return False

cdef bint port_in_use(uint16_t port) noexcept nogil:
    cdef tcp_pcb *p = all_pcbs
    while p != NULL:
        if (p.flags & TF_BOUND) and p.local_port == port:
            return True
        p = p.next
    return False

cdef uint16_t tcp_pcb_ephemeral_port(tcp_pcb *self, uint32_t local_addr, uint32_t remote_addr,
                                     uint16_t remote_port) noexcept nogil:
    global ephemeral_next
    cdef uint32_t low = tunables.ephemeral_low, high = tunables.ephemeral_high
    cdef uint32_t n, i, port, offset
    if high < low or low == 0:
        return 0
    n = high - low + 1
    offset = tcp_iss_port_offset(local_addr, remote_addr, remote_port) + ephemeral_next
    for i in range(n):
        port = low + (offset + i) % n
        if not port_in_use(<uint16_t>port):
            ephemeral_next += i + 1
            return <uint16_t>port
    stats.ephemeral_exhausted += 1
    return 0


cdef uint8_t tcp_pcb_wscale() noexcept nogil:
    cdef uint8_t s = 0
    while (tunables.buf_max >> s) > TCP_MAX_WINDOW_FIELD and s < TCP_MAX_WSCALE:
        s += 1
    return s
