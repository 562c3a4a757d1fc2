# IPv4 header parse/emit (see wire_ipv4.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.net.byteorder cimport get_be16, get_be32, put_be16, put_be32
from tyn.net.checksum cimport inet_checksum
from tyn.net.netstats cimport (NET_OK, NET_DROP_IP_SHORT_HEADER, NET_DROP_IP_BAD_VERSION, NET_DROP_IP_BAD_IHL,
                               NET_DROP_IP_BAD_LENGTH, NET_DROP_IP_BAD_CHECKSUM)

cdef enum:
    IHL_UNIT = 4
    OFF_VERSION_IHL = 0
    OFF_TOS = 1
    OFF_TOTAL_LEN = 2
    OFF_ID = 4
    OFF_FRAG = 6
    OFF_TTL = 8
    OFF_PROTOCOL = 9
    OFF_CHECKSUM = 10
    OFF_SRC = 12
    OFF_DST = 16


cdef int wire_ipv4_parse(const uint8_t *packet, uint32_t len, ipv4_header *out) noexcept nogil:
    cdef uint32_t header_len
    if len < IPV4_HEADER_MIN:
        return NET_DROP_IP_SHORT_HEADER
    if packet[OFF_VERSION_IHL] >> 4 != IPVERSION:
        return NET_DROP_IP_BAD_VERSION
    header_len = (packet[OFF_VERSION_IHL] & 0xf) * IHL_UNIT
    if header_len < IPV4_HEADER_MIN or header_len > len:
        return NET_DROP_IP_BAD_IHL
    out.total_len = get_be16(packet + OFF_TOTAL_LEN)
    if out.total_len < header_len or out.total_len > len:
        return NET_DROP_IP_BAD_LENGTH
    if inet_checksum(packet, header_len) != 0:
        return NET_DROP_IP_BAD_CHECKSUM
    out.header_len = <uint8_t>header_len
    out.tos = packet[OFF_TOS]
    out.id = get_be16(packet + OFF_ID)
    out.frag = get_be16(packet + OFF_FRAG)
    out.ttl = packet[OFF_TTL]
    out.protocol = packet[OFF_PROTOCOL]
    out.src = get_be32(packet + OFF_SRC)
    out.dst = get_be32(packet + OFF_DST)
    return NET_OK


cdef uint32_t wire_ipv4_emit(uint8_t *buf, const ipv4_header *hdr) noexcept nogil:
    buf[OFF_VERSION_IHL] = (IPVERSION << 4) | (IPV4_HEADER_MIN // IHL_UNIT)
    buf[OFF_TOS] = hdr.tos
    put_be16(buf + OFF_TOTAL_LEN, hdr.total_len)
    put_be16(buf + OFF_ID, hdr.id)
    put_be16(buf + OFF_FRAG, hdr.frag)
    buf[OFF_TTL] = hdr.ttl
    buf[OFF_PROTOCOL] = hdr.protocol
    put_be16(buf + OFF_CHECKSUM, 0)
    put_be32(buf + OFF_SRC, hdr.src)
    put_be32(buf + OFF_DST, hdr.dst)
    put_be16(buf + OFF_CHECKSUM, inet_checksum(buf, IPV4_HEADER_MIN))
    return IPV4_HEADER_MIN


cdef bint wire_ipv4_is_multicast(uint32_t addr) noexcept nogil:
    return (addr & IN_CLASSD_MASK) == IN_CLASSD_NET


cdef bint wire_ipv4_is_loopback(uint32_t addr) noexcept nogil:
    return (addr & IN_LOOPBACKNET_MASK) == IN_LOOPBACKNET_HOST
