# ICMP echo and errors (see icmp.pxd).
from libc.stdint cimport uint8_t, int32_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.sys.errno cimport (ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED, EMSGSIZE,
                            EOPNOTSUPP, EPROTO)
from tyn.net.byteorder cimport get_be16, get_be32
from tyn.net.ipv4 cimport ipv4_output_with, ipv4_register_protocol, ipv4_current_netif
from tyn.net.netclock cimport netclock_now_ns
from tyn.net.netif cimport netif, netif_default, netif_is_broadcast, netif_is_local_addr
from tyn.net.netstats cimport *
from tyn.net.pbuf cimport pbuf, pbuf_alloc, pbuf_free
from tyn.net.wire_icmp cimport *
from tyn.net.wire_ipv4 cimport (IPPROTO_ICMP, IPV4_HEADER_MIN, IPV4_HEADER_MAX, IP_OFFMASK, INADDR_ANY_HOST,
                                IPDEFTTL, IPTOS_TOS_MASK, IPTOS_PREC_INTERNETCONTROL,
                                wire_ipv4_is_multicast, wire_ipv4_is_loopback)

cdef enum:
    # Offsets in a raw IPv4 header, for quoting it.
    OFF_TOS = 1
    OFF_FRAG = 6
    OFF_PROTOCOL = 9
    OFF_SRC = 12
    OFF_DST = 16
    IHL_UNIT = 4
    IPV4_VERSION = 4

cdef extern from *:
    """
    #define ICMP_NS_PER_SEC ((uint64_t)1000000000ULL)
    """
    const uint64_t ICMP_NS_PER_SEC

cdef uint32_t tokens
cdef icmp_error_fn error_handlers[ICMP_ERROR_HANDLERS]
cdef uint64_t tokens_at_ns


cdef void icmp_init() noexcept nogil:
    global tokens, tokens_at_ns
    tokens = ICMP_ERROR_BURST
    tokens_at_ns = netclock_now_ns()
    memset(error_handlers, 0, sizeof(error_handlers))
    ipv4_register_protocol(IPPROTO_ICMP, icmp_input)


cdef void echo_reply(uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *msg, uint32_t len,
                     const icmp_header *request) noexcept nogil:
    cdef icmp_header reply
    cdef pbuf *p = pbuf_alloc(0, len)
    if p == NULL:
        netstats_count(NET_DROP_NO_BUFFER)
        return
    memcpy(p.payload, msg, len)
    reply.type = ICMP_ECHOREPLY
    reply.code = 0
    reply.rest = request.rest
    wire_icmp_emit(p.payload, &reply, len - ICMP_HEADER_LEN)
    # The request's TOS byte, whole (Linux's icmp_reply).
    if ipv4_output_with(dst, src, IPPROTO_ICMP, tos, IPDEFTTL, p.payload, len) == 0:
        netstats_count(NET_ICMP_ECHO_REPLIES)
    pbuf_free(p)


cdef bint to_broadcast(uint32_t dst) noexcept nogil:
    cdef netif *nif = ipv4_current_netif()
    if nif == NULL:
        nif = netif_default()
    return wire_ipv4_is_multicast(dst) or (nif != NULL and netif_is_broadcast(nif, dst))


cdef void icmp_input(uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *msg, uint32_t len,
                     uint32_t rx_flags) noexcept nogil:
    cdef icmp_header hdr
    cdef int status = wire_icmp_parse(msg, len, &hdr)
    if status != NET_OK:
        netstats_count(status)
        return
    netstats_count(NET_ICMP_RX)
    if hdr.type == ICMP_ECHO:
        if to_broadcast(dst):
            netstats_count(NET_DROP_ICMP_BROADCAST_ECHO)
            return
        echo_reply(src, dst, tos, msg, len, &hdr)
    elif hdr.type == ICMP_DEST_UNREACH or hdr.type == ICMP_TIME_EXCEEDED or hdr.type == ICMP_PARAMETERPROB:
        quoted_error(&hdr, msg + ICMP_HEADER_LEN, len - ICMP_HEADER_LEN)
    # Other messages are counted only (source quench is deprecated, RFC 6633; redirects
    # are not followed).


cdef void icmp_register_error_handler(uint8_t protocol, icmp_error_fn fn) noexcept nogil:
    error_handlers[protocol] = fn


cdef int32_t icmp_error_errno(const icmp_header *hdr, bint *hard) noexcept nogil:
    # Linux's icmp_err_convert table for destination unreachable, grouped: every code is
    # fatal except "fragmentation needed", "source route failed" and the two TOS ones.
    # Time exceeded is soft, a parameter problem hard (__udp4_lib_err, tcp_v4_err).
    cdef uint8_t code = hdr.code
    if hdr.type == ICMP_TIME_EXCEEDED:
        hard[0] = False
        return EHOSTUNREACH
    if hdr.type == ICMP_PARAMETERPROB:
        hard[0] = True
        return EPROTO
    hard[0] = not (code == ICMP_FRAG_NEEDED or code == ICMP_SR_FAILED
                   or code == ICMP_NET_UNR_TOS or code == ICMP_HOST_UNR_TOS)
    if code == ICMP_PORT_UNREACH:
        return ECONNREFUSED
    if code == ICMP_PROT_UNREACH:
        return ENOPROTOOPT
    if code == ICMP_FRAG_NEEDED:
        return EMSGSIZE
    if code == ICMP_SR_FAILED:
        return EOPNOTSUPP
    if code == ICMP_NET_UNREACH or code == ICMP_NET_UNKNOWN or code == ICMP_NET_ANO or code == ICMP_NET_UNR_TOS:
        return ENETUNREACH
    return EHOSTUNREACH


cdef void quoted_error(const icmp_header *hdr, const uint8_t *quote, uint32_t len) noexcept nogil:
    # quote: the IPv4 header of a datagram we sent, then at least 8 bytes of its payload.
    cdef uint32_t header_len
    cdef icmp_error_fn fn
    cdef int32_t err
    cdef bint hard
    if len < IPV4_HEADER_MIN or (hdr.type == ICMP_DEST_UNREACH and hdr.code >= ICMP_NR_OF_UNREACH_CODES):
        netstats_count(NET_DROP_ICMP_SHORT)
        return
    header_len = (quote[0] & 0xf) * IHL_UNIT
    if (quote[0] >> 4) != IPV4_VERSION or header_len < IPV4_HEADER_MIN or len < header_len + ICMP_ERROR_QUOTE_DATA:
        netstats_count(NET_DROP_ICMP_SHORT)
        return
    fn = error_handlers[quote[OFF_PROTOCOL]]
    if fn == NULL:
        return
    err = icmp_error_errno(hdr, &hard)
    fn(get_be32(quote + OFF_SRC), get_be32(quote + OFF_DST), quote + header_len, len - header_len,
       hdr.type, hdr.code, hdr.rest, err, hard)


cdef bint take_token() noexcept nogil:
    global tokens, tokens_at_ns
    cdef uint64_t now = netclock_now_ns()
    cdef uint64_t earned = (now - tokens_at_ns) * ICMP_ERRORS_PER_SEC // ICMP_NS_PER_SEC
    if earned > 0:
        tokens = ICMP_ERROR_BURST if tokens + earned > ICMP_ERROR_BURST else tokens + <uint32_t>earned
        tokens_at_ns = now
    if tokens == 0:
        return False
    tokens -= 1
    return True


cdef bint is_error_message(const uint8_t *datagram, uint32_t header_len, uint32_t len) noexcept nogil:
    cdef uint8_t t
    if datagram[OFF_PROTOCOL] != IPPROTO_ICMP or len <= header_len:
        return False
    t = datagram[header_len]
    return (t == ICMP_DEST_UNREACH or t == ICMP_SOURCE_QUENCH or t == ICMP_REDIRECT
            or t == ICMP_TIME_EXCEEDED or t == ICMP_PARAMETERPROB)


cdef void icmp_send_error(uint8_t type, uint8_t code, uint32_t rest, const uint8_t *datagram,
                          uint32_t datagram_len) noexcept nogil:
    cdef uint8_t msg[ICMP_HEADER_LEN + IPV4_HEADER_MAX + ICMP_ERROR_QUOTE_DATA]
    cdef icmp_header hdr
    cdef uint32_t header_len, quote_len, src, dst, from_addr
    cdef uint8_t tos
    if datagram_len < IPV4_HEADER_MIN:
        return
    header_len = (datagram[0] & 0xf) * IHL_UNIT
    if header_len < IPV4_HEADER_MIN or header_len > datagram_len:
        return
    src = get_be32(datagram + OFF_SRC)
    dst = get_be32(datagram + OFF_DST)
    if (get_be16(datagram + OFF_FRAG) & IP_OFFMASK or is_error_message(datagram, header_len, datagram_len)
            or to_broadcast(dst) or src == INADDR_ANY_HOST or to_broadcast(src)):
        return
    if not take_token():
        netstats_count(NET_DROP_ICMP_RATE_LIMITED)
        return
    quote_len = header_len + ICMP_ERROR_QUOTE_DATA
    if quote_len > datagram_len:
        quote_len = datagram_len
    memcpy(msg + ICMP_HEADER_LEN, datagram, quote_len)
    hdr.type = type
    hdr.code = code
    hdr.rest = rest
    wire_icmp_emit(msg, &hdr, quote_len)
    from_addr = dst if netif_is_local_addr(dst) else INADDR_ANY_HOST
    # Linux's icmp_send: the offending datagram's TOS bits at internetwork-control precedence.
    tos = (datagram[OFF_TOS] & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL
    if ipv4_output_with(from_addr, src, IPPROTO_ICMP, tos, IPDEFTTL, msg, ICMP_HEADER_LEN + quote_len) == 0:
        netstats_count(NET_ICMP_ERRORS_SENT)
