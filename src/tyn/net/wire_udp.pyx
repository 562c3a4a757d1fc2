# UDP header parse/emit (see wire_udp.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.net.byteorder cimport get_be16, put_be16
from tyn.net.checksum cimport inet_checksum_add, inet_checksum_pseudo, inet_checksum_fold
from tyn.net.wire_ipv4 cimport IPPROTO_UDP
from tyn.net.netstats cimport NET_OK, NET_DROP_UDP_SHORT, NET_DROP_UDP_BAD_LENGTH, NET_DROP_UDP_BAD_CHECKSUM

cdef enum:
    OFF_SRC_PORT = 0
    OFF_DST_PORT = 2
    OFF_LENGTH = 4
    OFF_CHECKSUM = 6
    UDP_NO_CHECKSUM = 0             # what a sender puts when it computed none
    UDP_CHECKSUM_ZERO = 0xffff      # a computed 0 is sent as all ones (RFC 768)


cdef uint16_t checksum(const uint8_t *segment, uint32_t length, uint32_t src, uint32_t dst) noexcept nogil:
    return inet_checksum_fold(inet_checksum_add(inet_checksum_pseudo(src, dst, IPPROTO_UDP, length),
                                                segment, length))


cdef int wire_udp_parse(const uint8_t *segment, uint32_t len, uint32_t src, uint32_t dst,
                        udp_header *out, bint checksum_ok) noexcept nogil:
    if len < UDP_HEADER_LEN:
        return NET_DROP_UDP_SHORT
    out.length = get_be16(segment + OFF_LENGTH)
    if out.length < UDP_HEADER_LEN or out.length > len:
        return NET_DROP_UDP_BAD_LENGTH
    if (not checksum_ok and get_be16(segment + OFF_CHECKSUM) != UDP_NO_CHECKSUM
            and checksum(segment, out.length, src, dst) != 0):
        return NET_DROP_UDP_BAD_CHECKSUM
    out.src_port = get_be16(segment + OFF_SRC_PORT)
    out.dst_port = get_be16(segment + OFF_DST_PORT)
    return NET_OK


cdef uint32_t wire_udp_emit(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t src_port,
                            uint16_t dst_port, uint32_t payload_len) noexcept nogil:
    cdef uint32_t length = UDP_HEADER_LEN + payload_len
    cdef uint16_t sum
    put_be16(buf + OFF_SRC_PORT, src_port)
    put_be16(buf + OFF_DST_PORT, dst_port)
    put_be16(buf + OFF_LENGTH, <uint16_t>length)
    put_be16(buf + OFF_CHECKSUM, 0)
    sum = checksum(buf, length, src, dst)
    put_be16(buf + OFF_CHECKSUM, sum if sum != 0 else UDP_CHECKSUM_ZERO)
    return UDP_HEADER_LEN
