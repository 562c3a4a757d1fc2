# Ethernet II header parse/emit (see wire_ethernet.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.arch.cpu cimport memcpy
from tyn.net.byteorder cimport get_be16, put_be16
from tyn.net.netstats cimport NET_OK, NET_DROP_ETH_SHORT


cdef int wire_ethernet_parse(const uint8_t *frame, uint32_t len, eth_header *out) noexcept nogil:
    if len < ETH_HLEN:
        return NET_DROP_ETH_SHORT
    memcpy(out.dst, frame, ETH_ALEN)
    memcpy(out.src, frame + ETH_ALEN, ETH_ALEN)
    out.ethertype = get_be16(frame + 2 * ETH_ALEN)
    return NET_OK


cdef uint32_t wire_ethernet_emit(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
                                 uint16_t ethertype) noexcept nogil:
    memcpy(buf, dst, ETH_ALEN)
    memcpy(buf + ETH_ALEN, src, ETH_ALEN)
    put_be16(buf + 2 * ETH_ALEN, ethertype)
    return ETH_HLEN


cdef bint wire_ethernet_is_broadcast(const uint8_t *mac) noexcept nogil:
    cdef int i
    for i in range(ETH_ALEN):
        if mac[i] != 0xff:
            return False
    return True


cdef bint wire_ethernet_is_multicast(const uint8_t *mac) noexcept nogil:
    return (mac[0] & 1) != 0


cdef bint wire_ethernet_is_zero(const uint8_t *mac) noexcept nogil:
    cdef int i
    for i in range(ETH_ALEN):
        if mac[i] != 0:
            return False
    return True
