# IPv4 headers (RFC 791).  Addresses in host byte order.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef enum:
    IPVERSION = 4
    IPV4_HEADER_MIN = 20            # sizeof(struct iphdr), no options
    IPV4_HEADER_MAX = 60            # IHL 15
    IP_MAXPACKET = 65535
    IP_DF = 0x4000                  # don't fragment
    IP_MF = 0x2000                  # more fragments
    IP_OFFMASK = 0x1fff             # fragment offset, in 8-byte units
    IP_FRAG_UNIT = 8
    IPDEFTTL = 64
    MAXTTL = 255
    IPTOS_ECN_MASK = 0x03           # the TOS byte's ECN field (RFC 3168); the rest is DSCP
    IPTOS_TOS_MASK = 0x1e           # RFC 1349's TOS bits (Linux's RT_TOS keeps these)
    IPTOS_PREC_INTERNETCONTROL = 0xc0   # precedence 6 (RFC 791), for ICMP errors
    IPPROTO_ICMP = 1
    IPPROTO_TCP = 6
    IPPROTO_UDP = 17

cdef extern from *:
    """
    #define INADDR_ANY_HOST ((uint32_t)0x00000000U)
    #define INADDR_BROADCAST_HOST ((uint32_t)0xffffffffU)
    #define INADDR_LOOPBACK_HOST ((uint32_t)0x7f000001U)
    #define IN_LOOPBACKNET_MASK ((uint32_t)0xff000000U)
    #define IN_LOOPBACKNET_HOST ((uint32_t)0x7f000000U)
    #define IN_CLASSD_MASK ((uint32_t)0xf0000000U)
    #define IN_CLASSD_NET ((uint32_t)0xe0000000U)
    """
    const uint32_t INADDR_ANY_HOST          # 0.0.0.0
    const uint32_t INADDR_BROADCAST_HOST    # 255.255.255.255
    const uint32_t INADDR_LOOPBACK_HOST     # 127.0.0.1
    const uint32_t IN_LOOPBACKNET_MASK      # 127.0.0.0/8
    const uint32_t IN_LOOPBACKNET_HOST
    const uint32_t IN_CLASSD_MASK           # 224.0.0.0/4 (multicast)
    const uint32_t IN_CLASSD_NET

cdef struct ipv4_header:
    uint8_t header_len              # bytes (IHL * 4), options included
    uint8_t tos
    uint16_t total_len
    uint16_t id
    uint16_t frag                   # flags (IP_DF, IP_MF) | offset in 8-byte units
    uint8_t ttl
    uint8_t protocol
    uint32_t src
    uint32_t dst

# NET_OK or NET_DROP_IP_{SHORT_HEADER,BAD_VERSION,BAD_IHL,BAD_LENGTH,BAD_CHECKSUM}.
# Bytes after total_len (Ethernet padding) are not part of the datagram.
cdef extern int wire_ipv4_parse(const uint8_t *packet, uint32_t len, ipv4_header *out) noexcept nogil
# Write a 20-byte header (no options) with its checksum; returns IPV4_HEADER_MIN.
cdef extern uint32_t wire_ipv4_emit(uint8_t *buf, const ipv4_header *hdr) noexcept nogil
cdef extern bint wire_ipv4_is_multicast(uint32_t addr) noexcept nogil
cdef extern bint wire_ipv4_is_loopback(uint32_t addr) noexcept nogil
