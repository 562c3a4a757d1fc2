# TCP header parse/emit.  See wire_tcp.pxd.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.net.byteorder cimport get_be16, get_be32, put_be16, put_be32
from tyn.arch.cpu cimport memset
from tyn.net.checksum cimport inet_checksum_add, inet_checksum_pseudo, inet_checksum_fold
from tyn.net.tcp_types cimport *

cdef enum:
    OFF_SRC_PORT = 0
    OFF_DST_PORT = 2
    OFF_SEQ = 4
    OFF_ACK = 8
    OFF_DATA_OFFSET = 12
    OFF_FLAGS = 13
    OFF_WINDOW = 14
    OFF_CHECKSUM = 16
    OFF_URGENT = 18
    TCPOLEN_NOP_PAIR = 2                # NOP NOP before a 2-byte-aligned option
    SACK_EDGE_LEN = 4                   # a block's left edge, then its right edge


# The SACK option (RFC 2018 §3): kind, length 2 + 8n, n blocks of left and right edges.
# A length that is not 2 + 8n with 1 <= n <= 4 leaves the option ignored and flagged.
cdef void parse_sack(const uint8_t *o, uint8_t olen, tcp_segment *seg) noexcept nogil:
    cdef uint32_t body = olen - TCPOLEN_SACK_BASE, n, i
    if body == 0 or body % TCPOLEN_SACK_PERBLOCK != 0 or body // TCPOLEN_SACK_PERBLOCK > TCP_MAX_SACK_BLOCKS:
        seg.sack_malformed = True
        return
    n = body // TCPOLEN_SACK_PERBLOCK
    o += TCPOLEN_SACK_BASE
    for i in range(n):
        seg.sack[i].left = get_be32(o + i * TCPOLEN_SACK_PERBLOCK)
        seg.sack[i].right = get_be32(o + i * TCPOLEN_SACK_PERBLOCK + SACK_EDGE_LEN)
    seg.sack_count = <uint8_t>n

# NOP NOP, then the option: 4-byte aligned edges.  Returns the bytes written.
cdef uint32_t emit_sack(const tcp_segment *seg, uint8_t *o) noexcept nogil:
    cdef uint32_t i
    cdef uint8_t *edges
    o[0] = TCPOPT_NOP
    o[1] = TCPOPT_NOP
    o[2] = TCPOPT_SACK
    o[3] = <uint8_t>(TCPOLEN_SACK_BASE + seg.sack_count * TCPOLEN_SACK_PERBLOCK)
    edges = o + TCPOLEN_NOP_PAIR + TCPOLEN_SACK_BASE
    for i in range(seg.sack_count):
        put_be32(edges + i * TCPOLEN_SACK_PERBLOCK, seg.sack[i].left)
        put_be32(edges + i * TCPOLEN_SACK_PERBLOCK + SACK_EDGE_LEN, seg.sack[i].right)
    return wire_tcp_sack_len(seg.sack_count)

cdef uint32_t wire_tcp_sack_len(uint32_t blocks) noexcept nogil:
    if blocks == 0:
        return 0
    return TCPOLEN_NOP_PAIR + TCPOLEN_SACK_BASE + blocks * TCPOLEN_SACK_PERBLOCK


# Options (RFC 9293 §3.2): EOL ends the list, NOP is one byte, every other kind has a
# length byte >= 2 that must stay inside the header (MUST-7: else drop the segment).
# A known kind with the wrong length is ignored, as Linux does.
cdef int parse_options(const uint8_t *opt, uint32_t n, tcp_segment *seg) noexcept nogil:
    cdef uint32_t i = 0
    cdef uint8_t kind, olen
    while i < n:
        kind = opt[i]
        if kind == TCPOPT_EOL:
            break
        if kind == TCPOPT_NOP:
            i += 1
            continue
        if i + 1 >= n:
            return WIRE_TCP_ERR_OPTIONS
        olen = opt[i + 1]
        if olen < 2 or i + olen > n:
            return WIRE_TCP_ERR_OPTIONS
        if kind == TCPOPT_MSS and olen == TCPOLEN_MSS:
            seg.has_mss = True
            seg.mss = get_be16(opt + i + 2)
        elif kind == TCPOPT_WINDOW and olen == TCPOLEN_WINDOW:
            seg.has_wscale = True
            seg.wscale = opt[i + 2]
        elif kind == TCPOPT_SACK_PERM and olen == TCPOLEN_SACK_PERM:
            seg.sack_permitted = True
        elif kind == TCPOPT_SACK:
            parse_sack(opt + i, olen, seg)
        elif kind == TCPOPT_TIMESTAMP and olen == TCPOLEN_TIMESTAMP:
            seg.has_timestamp = True
            seg.ts_val = get_be32(opt + i + 2)
            seg.ts_ecr = get_be32(opt + i + 6)
        i += olen
    return WIRE_TCP_OK


cdef int wire_tcp_parse(uint32_t src, uint32_t dst, const uint8_t *segment, uint32_t len,
                        tcp_segment *seg, bint checksum_ok) noexcept nogil:
    cdef uint32_t hlen
    cdef uint64_t sum
    memset(seg, 0, sizeof(tcp_segment))
    if len < TCP_HEADER_LEN:
        return WIRE_TCP_ERR_SHORT
    hlen = (segment[OFF_DATA_OFFSET] >> 4) * 4
    if hlen < TCP_HEADER_LEN:
        return WIRE_TCP_ERR_OFFSET
    if hlen > len:
        return WIRE_TCP_ERR_SHORT
    if not checksum_ok:
        sum = inet_checksum_pseudo(src, dst, IPPROTO_TCP, len)
        if inet_checksum_fold(inet_checksum_add(sum, segment, len)) != 0:
            return WIRE_TCP_ERR_CHECKSUM
    seg.src_port = get_be16(segment + OFF_SRC_PORT)
    seg.dst_port = get_be16(segment + OFF_DST_PORT)
    seg.seq = get_be32(segment + OFF_SEQ)
    seg.ack = get_be32(segment + OFF_ACK)
    seg.header_len = hlen
    seg.flags = segment[OFF_FLAGS]
    seg.window = get_be16(segment + OFF_WINDOW)
    seg.urgent = get_be16(segment + OFF_URGENT)
    seg.payload = segment + hlen
    seg.payload_len = len - hlen
    return parse_options(segment + TCP_HEADER_LEN, hlen - TCP_HEADER_LEN, seg)


# Linux's layout (tcp_options_write), every option 4-byte aligned: MSS; SACK-permitted
# in the two bytes before the timestamp (or NOP NOP SACK-permitted without it); NOP,
# window scale; NOP NOP, SACK blocks.
cdef uint32_t wire_tcp_options_len(const tcp_segment *seg) noexcept nogil:
    cdef uint32_t n = 0
    if seg.has_mss:
        n += TCPOLEN_MSS
    if seg.has_timestamp:
        n += TCPOLEN_TIMESTAMP + TCPOLEN_NOP_PAIR   # SACK-permitted rides in the pair
    elif seg.sack_permitted:
        n += TCPOLEN_SACK_PERM + TCPOLEN_NOP_PAIR
    if seg.has_wscale:
        n += TCPOLEN_WINDOW + 1             # NOP first, for alignment
    return n + wire_tcp_sack_len(seg.sack_count)


cdef uint32_t wire_tcp_sack_blocks_fit(const tcp_segment *seg) noexcept nogil:
    cdef uint32_t used = wire_tcp_options_len(seg) - wire_tcp_sack_len(seg.sack_count)
    cdef uint32_t room = TCP_MAX_OPTIONS_LEN - used
    if room < TCPOLEN_NOP_PAIR + TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK:
        return 0
    room = (room - TCPOLEN_NOP_PAIR - TCPOLEN_SACK_BASE) // TCPOLEN_SACK_PERBLOCK
    return room if room < TCP_MAX_SACK_BLOCKS else TCP_MAX_SACK_BLOCKS


cdef uint32_t wire_tcp_emit(const tcp_segment *seg, uint8_t *out) noexcept nogil:
    cdef uint32_t hlen = TCP_HEADER_LEN + wire_tcp_options_len(seg)
    cdef uint8_t *o = out + TCP_HEADER_LEN
    put_be16(out + OFF_SRC_PORT, seg.src_port)
    put_be16(out + OFF_DST_PORT, seg.dst_port)
    put_be32(out + OFF_SEQ, seg.seq)
    put_be32(out + OFF_ACK, seg.ack)
    out[OFF_DATA_OFFSET] = <uint8_t>((hlen // 4) << 4)
    out[OFF_FLAGS] = seg.flags
    put_be16(out + OFF_WINDOW, seg.window)
    put_be16(out + OFF_CHECKSUM, 0)
    put_be16(out + OFF_URGENT, seg.urgent)
    if seg.has_mss:
        o[0] = TCPOPT_MSS
        o[1] = TCPOLEN_MSS
        put_be16(o + 2, seg.mss)
        o += TCPOLEN_MSS
    if seg.has_timestamp:
        if seg.sack_permitted:
            o[0] = TCPOPT_SACK_PERM
            o[1] = TCPOLEN_SACK_PERM
        else:
            o[0] = TCPOPT_NOP
            o[1] = TCPOPT_NOP
        o[2] = TCPOPT_TIMESTAMP
        o[3] = TCPOLEN_TIMESTAMP
        put_be32(o + 4, seg.ts_val)
        put_be32(o + 8, seg.ts_ecr)
        o += TCPOLEN_TIMESTAMP + TCPOLEN_NOP_PAIR
    elif seg.sack_permitted:
        o[0] = TCPOPT_NOP
        o[1] = TCPOPT_NOP
        o[2] = TCPOPT_SACK_PERM
        o[3] = TCPOLEN_SACK_PERM
        o += TCPOLEN_SACK_PERM + TCPOLEN_NOP_PAIR
    if seg.has_wscale:
        o[0] = TCPOPT_NOP
        o[1] = TCPOPT_WINDOW
        o[2] = TCPOLEN_WINDOW
        o[3] = seg.wscale
        o += TCPOLEN_WINDOW + 1
    if seg.sack_count > 0:
        o += emit_sack(seg, o)
    return hlen


cdef void wire_tcp_fill_checksum(uint32_t src, uint32_t dst, uint8_t *out, uint32_t len) noexcept nogil:
    cdef uint64_t sum = inet_checksum_pseudo(src, dst, IPPROTO_TCP, len)
    put_be16(out + OFF_CHECKSUM, 0)
    put_be16(out + OFF_CHECKSUM, inet_checksum_fold(inet_checksum_add(sum, out, len)))


cdef void wire_tcp_fill_pseudo_checksum(uint32_t src, uint32_t dst, uint8_t *out, uint32_t len) noexcept nogil:
    put_be16(out + OFF_CHECKSUM, <uint16_t>~inet_checksum_fold(inet_checksum_pseudo(src, dst, IPPROTO_TCP, len)))
