# ICMP header parse/emit (see wire_icmp.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.net.byteorder cimport get_be32, put_be16, put_be32
from tyn.net.checksum cimport inet_checksum
from tyn.net.netstats cimport NET_OK, NET_DROP_ICMP_SHORT, NET_DROP_ICMP_BAD_CHECKSUM

cdef enum:
    OFF_TYPE = 0
    OFF_CODE = 1
    OFF_CHECKSUM = 2
    OFF_REST = 4


cdef int wire_icmp_parse(const uint8_t *msg, uint32_t len, icmp_header *out) noexcept nogil:
    if len < ICMP_HEADER_LEN:
        return NET_DROP_ICMP_SHORT
    if inet_checksum(msg, len) != 0:
        return NET_DROP_ICMP_BAD_CHECKSUM
    out.type = msg[OFF_TYPE]
    out.code = msg[OFF_CODE]
    out.rest = get_be32(msg + OFF_REST)
    return NET_OK


cdef uint32_t wire_icmp_emit(uint8_t *buf, const icmp_header *hdr, uint32_t body_len) noexcept nogil:
    buf[OFF_TYPE] = hdr.type
    buf[OFF_CODE] = hdr.code
    put_be16(buf + OFF_CHECKSUM, 0)
    put_be32(buf + OFF_REST, hdr.rest)
    put_be16(buf + OFF_CHECKSUM, inet_checksum(buf, ICMP_HEADER_LEN + body_len))
    return ICMP_HEADER_LEN
