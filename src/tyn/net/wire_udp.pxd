# UDP headers (RFC 768).  Ports and addresses in host byte order.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef enum:
    UDP_HEADER_LEN = 8

cdef struct udp_header:
    uint16_t src_port
    uint16_t dst_port
    uint16_t length                 # header + data, as the header says (<= what arrived)

# NET_OK, NET_DROP_UDP_SHORT, NET_DROP_UDP_BAD_LENGTH or NET_DROP_UDP_BAD_CHECKSUM (checked
# under the pseudo-header of src/dst unless the sender sent none, i.e. 0, or checksum_ok:
# the device vouched for it).
cdef extern int wire_udp_parse(const uint8_t *segment, uint32_t len, uint32_t src, uint32_t dst,
                               udp_header *out, bint checksum_ok) noexcept nogil
# Write the header at buf, whose payload (payload_len bytes) already follows it, with the
# checksum; returns UDP_HEADER_LEN.
cdef extern uint32_t wire_udp_emit(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t src_port,
                                   uint16_t dst_port, uint32_t payload_len) noexcept nogil
