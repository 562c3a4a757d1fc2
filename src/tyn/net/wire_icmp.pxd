# ICMP messages (RFC 792): the 8-byte header; the rest is the caller's.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef enum:
    ICMP_HEADER_LEN = 8
    ICMP_ECHOREPLY = 0
    ICMP_DEST_UNREACH = 3
    ICMP_SOURCE_QUENCH = 4
    ICMP_REDIRECT = 5
    ICMP_ECHO = 8
    ICMP_TIME_EXCEEDED = 11
    ICMP_PARAMETERPROB = 12
    # ICMP_DEST_UNREACH codes (RFC 792, RFC 1122, RFC 1812)
    ICMP_NET_UNREACH = 0
    ICMP_HOST_UNREACH = 1
    ICMP_PROT_UNREACH = 2
    ICMP_PORT_UNREACH = 3
    ICMP_FRAG_NEEDED = 4
    ICMP_SR_FAILED = 5
    ICMP_NET_UNKNOWN = 6
    ICMP_NET_ANO = 9
    ICMP_NET_UNR_TOS = 11
    ICMP_HOST_UNR_TOS = 12
    ICMP_NR_OF_UNREACH_CODES = 16   # codes 0 .. 15
    # ICMP_TIME_EXCEEDED codes
    ICMP_EXC_FRAGTIME = 1
    # An error quotes the offending datagram's header and its first 8 payload bytes.
    ICMP_ERROR_QUOTE_DATA = 8

cdef struct icmp_header:
    uint8_t type
    uint8_t code
    uint32_t rest                   # echo: id << 16 | sequence; frag needed: next-hop MTU

# NET_OK, NET_DROP_ICMP_SHORT or NET_DROP_ICMP_BAD_CHECKSUM (over the whole message).
cdef extern int wire_icmp_parse(const uint8_t *msg, uint32_t len, icmp_header *out) noexcept nogil
# Write the header at buf, whose body (body_len bytes) already follows it, and the checksum
# over both; returns ICMP_HEADER_LEN.
cdef extern uint32_t wire_icmp_emit(uint8_t *buf, const icmp_header *hdr, uint32_t body_len) noexcept nogil
