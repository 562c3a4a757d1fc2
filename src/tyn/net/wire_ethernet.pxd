# Ethernet II frames (IEEE 802.3, no FCS: devices strip and add it).
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef enum:
    ETH_ALEN = 6
    ETH_HLEN = 14
    ETH_ZLEN = 60                   # shortest frame without FCS (senders pad)
    ETH_DATA_LEN = 1500
    ETH_P_IP = 0x0800
    ETH_P_ARP = 0x0806

cdef struct eth_header:
    uint8_t dst[ETH_ALEN]
    uint8_t src[ETH_ALEN]
    uint16_t ethertype

# NET_OK, or NET_DROP_ETH_SHORT.  The payload starts at frame + ETH_HLEN.
cdef extern int wire_ethernet_parse(const uint8_t *frame, uint32_t len, eth_header *out) noexcept nogil
# Write the 14-byte header at buf; returns ETH_HLEN.
cdef extern uint32_t wire_ethernet_emit(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
                                        uint16_t ethertype) noexcept nogil
cdef extern bint wire_ethernet_is_broadcast(const uint8_t *mac) noexcept nogil
# Group bit set (broadcast included).
cdef extern bint wire_ethernet_is_multicast(const uint8_t *mac) noexcept nogil
cdef extern bint wire_ethernet_is_zero(const uint8_t *mac) noexcept nogil
