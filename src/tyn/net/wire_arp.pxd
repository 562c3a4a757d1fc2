# ARP for IPv4 over Ethernet (RFC 826).
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.net.wire_ethernet cimport ETH_ALEN

cdef enum:
    ARPHRD_ETHER = 1
    ARPOP_REQUEST = 1
    ARPOP_REPLY = 2
    ARP_IPV4_ALEN = 4
    ARP_PACKET_LEN = 28             # Ethernet/IPv4 ARP body

cdef struct arp_packet:
    uint16_t oper                   # ARPOP_*
    uint8_t sha[ETH_ALEN]           # sender hardware address
    uint32_t spa                    # sender protocol address (host order)
    uint8_t tha[ETH_ALEN]
    uint32_t tpa

# NET_OK, NET_DROP_ARP_SHORT, NET_DROP_ARP_BAD_FORMAT or NET_DROP_ARP_BAD_OPCODE.
cdef extern int wire_arp_parse(const uint8_t *data, uint32_t len, arp_packet *out) noexcept nogil
# Write the 28-byte body at buf; returns ARP_PACKET_LEN.
cdef extern uint32_t wire_arp_emit(uint8_t *buf, const arp_packet *arp) noexcept nogil
