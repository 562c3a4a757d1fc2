# ARP parse/emit (see wire_arp.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.arch.cpu cimport memcpy
from tyn.net.byteorder cimport get_be16, get_be32, put_be16, put_be32
from tyn.net.wire_ethernet cimport ETH_P_IP
from tyn.net.netstats cimport NET_OK, NET_DROP_ARP_SHORT, NET_DROP_ARP_BAD_FORMAT, NET_DROP_ARP_BAD_OPCODE

cdef enum:
    OFF_HTYPE = 0
    OFF_PTYPE = 2
    OFF_HLEN = 4
    OFF_PLEN = 5
    OFF_OPER = 6
    OFF_SHA = 8
    OFF_SPA = 14
    OFF_THA = 18
    OFF_TPA = 24


cdef int wire_arp_parse(const uint8_t *data, uint32_t len, arp_packet *out) noexcept nogil:
    if len < ARP_PACKET_LEN:
        return NET_DROP_ARP_SHORT
    if (get_be16(data + OFF_HTYPE) != ARPHRD_ETHER or get_be16(data + OFF_PTYPE) != ETH_P_IP
            or data[OFF_HLEN] != ETH_ALEN or data[OFF_PLEN] != ARP_IPV4_ALEN):
        return NET_DROP_ARP_BAD_FORMAT
    out.oper = get_be16(data + OFF_OPER)
    if out.oper != ARPOP_REQUEST and out.oper != ARPOP_REPLY:
        return NET_DROP_ARP_BAD_OPCODE
    memcpy(out.sha, data + OFF_SHA, ETH_ALEN)
    out.spa = get_be32(data + OFF_SPA)
    memcpy(out.tha, data + OFF_THA, ETH_ALEN)
    out.tpa = get_be32(data + OFF_TPA)
    return NET_OK


cdef uint32_t wire_arp_emit(uint8_t *buf, const arp_packet *arp) noexcept nogil:
    put_be16(buf + OFF_HTYPE, ARPHRD_ETHER)
    put_be16(buf + OFF_PTYPE, ETH_P_IP)
    buf[OFF_HLEN] = ETH_ALEN
    buf[OFF_PLEN] = ARP_IPV4_ALEN
    put_be16(buf + OFF_OPER, arp.oper)
    memcpy(buf + OFF_SHA, arp.sha, ETH_ALEN)
    put_be32(buf + OFF_SPA, arp.spa)
    memcpy(buf + OFF_THA, arp.tha, ETH_ALEN)
    put_be32(buf + OFF_TPA, arp.tpa)
    return ARP_PACKET_LEN
