# Stack counters (see netstats.pxd).
from libc.stdint cimport uint64_t

cdef uint64_t counters[NET_COUNTER_COUNT]
cdef const char *names[NET_COUNTER_COUNT]
cdef bint names_ready


cdef void set_names() noexcept nogil:
    global names_ready
    names[NET_OK] = b"ok"
    names[NET_DROP_ETH_SHORT] = b"drop_eth_short"
    names[NET_DROP_ETH_NOT_FOR_US] = b"drop_eth_not_for_us"
    names[NET_DROP_ETH_UNKNOWN_TYPE] = b"drop_eth_unknown_type"
    names[NET_DROP_ARP_SHORT] = b"drop_arp_short"
    names[NET_DROP_ARP_BAD_FORMAT] = b"drop_arp_bad_format"
    names[NET_DROP_ARP_BAD_OPCODE] = b"drop_arp_bad_opcode"
    names[NET_DROP_ARP_BAD_SENDER] = b"drop_arp_bad_sender"
    names[NET_DROP_ARP_NOT_FOR_US] = b"drop_arp_not_for_us"
    names[NET_DROP_ARP_UNRESOLVED] = b"drop_arp_unresolved"
    names[NET_DROP_ARP_QUEUE_FULL] = b"drop_arp_queue_full"
    names[NET_DROP_ARP_EVICTED] = b"drop_arp_evicted"
    names[NET_DROP_IP_SHORT_HEADER] = b"drop_ip_short_header"
    names[NET_DROP_IP_BAD_VERSION] = b"drop_ip_bad_version"
    names[NET_DROP_IP_BAD_IHL] = b"drop_ip_bad_ihl"
    names[NET_DROP_IP_BAD_LENGTH] = b"drop_ip_bad_length"
    names[NET_DROP_IP_BAD_CHECKSUM] = b"drop_ip_bad_checksum"
    names[NET_DROP_IP_BAD_SOURCE] = b"drop_ip_bad_source"
    names[NET_DROP_IP_NOT_FOR_US] = b"drop_ip_not_for_us"
    names[NET_DROP_IP_UNKNOWN_PROTOCOL] = b"drop_ip_unknown_protocol"
    names[NET_DROP_IP_NO_ROUTE] = b"drop_ip_no_route"
    names[NET_DROP_IP_TOO_BIG] = b"drop_ip_too_big"
    names[NET_DROP_IP_FRAG_NEEDED] = b"drop_ip_frag_needed"
    names[NET_DROP_LINK_TX_FULL] = b"drop_link_tx_full"
    names[NET_DROP_FRAG_BAD] = b"drop_frag_bad"
    names[NET_DROP_FRAG_OVERLAP] = b"drop_frag_overlap"
    names[NET_DROP_FRAG_DUPLICATE] = b"drop_frag_duplicate"
    names[NET_DROP_FRAG_LIMIT] = b"drop_frag_limit"
    names[NET_DROP_FRAG_TIMEOUT] = b"drop_frag_timeout"
    names[NET_DROP_ICMP_SHORT] = b"drop_icmp_short"
    names[NET_DROP_ICMP_BAD_CHECKSUM] = b"drop_icmp_bad_checksum"
    names[NET_DROP_ICMP_BROADCAST_ECHO] = b"drop_icmp_broadcast_echo"
    names[NET_DROP_ICMP_RATE_LIMITED] = b"drop_icmp_rate_limited"
    names[NET_DROP_UDP_SHORT] = b"drop_udp_short"
    names[NET_DROP_UDP_BAD_LENGTH] = b"drop_udp_bad_length"
    names[NET_DROP_UDP_BAD_CHECKSUM] = b"drop_udp_bad_checksum"
    names[NET_DROP_UDP_NO_PORT] = b"drop_udp_no_port"
    names[NET_DROP_UDP_RCVBUF_FULL] = b"drop_udp_rcvbuf_full"
    names[NET_DROP_DHCP_MALFORMED] = b"drop_dhcp_malformed"
    names[NET_DROP_DHCP_UNEXPECTED] = b"drop_dhcp_unexpected"
    names[NET_DROP_NO_BUFFER] = b"drop_no_buffer"
    names[NET_DROP_LOOPBACK_FULL] = b"drop_loopback_full"
    names[NET_DROP_NO_INTERFACE] = b"drop_no_interface"
    names[NET_ETH_RX] = b"eth_rx"
    names[NET_ETH_TX] = b"eth_tx"
    names[NET_ARP_RX] = b"arp_rx"
    names[NET_ARP_REQUESTS_SENT] = b"arp_requests_sent"
    names[NET_ARP_REPLIES_SENT] = b"arp_replies_sent"
    names[NET_IP_RX] = b"ip_rx"
    names[NET_IP_TX] = b"ip_tx"
    names[NET_IP_FRAGMENTS_RX] = b"ip_fragments_rx"
    names[NET_IP_REASSEMBLED] = b"ip_reassembled"
    names[NET_IP_FRAGMENTS_TX] = b"ip_fragments_tx"
    names[NET_ICMP_RX] = b"icmp_rx"
    names[NET_ICMP_ECHO_REPLIES] = b"icmp_echo_replies"
    names[NET_ICMP_ERRORS_SENT] = b"icmp_errors_sent"
    names[NET_UDP_RX] = b"udp_rx"
    names[NET_UDP_TX] = b"udp_tx"
    names[NET_LOOPBACK_TX] = b"loopback_tx"
    names[NET_IP_TX_OFFLOAD_IN_SOFTWARE] = b"ip_tx_offload_in_software"
    names_ready = True


cdef void netstats_count(int counter) noexcept nogil:
    if 0 < counter < NET_COUNTER_COUNT:
        counters[counter] += 1


cdef uint64_t netstats_get(int counter) noexcept nogil:
    if 0 <= counter < NET_COUNTER_COUNT:
        return counters[counter]
    return 0


cdef uint64_t netstats_drops() noexcept nogil:
    cdef uint64_t total = 0
    cdef int i
    for i in range(NET_DROP_FIRST, NET_DROP_LAST + 1):
        total += counters[i]
    return total


cdef const char *netstats_name(int counter) noexcept nogil:
    if not names_ready:
        set_names()
    if 0 <= counter < NET_COUNTER_COUNT:
        return names[counter]
    return NULL


cdef void netstats_reset() noexcept nogil:
    cdef int i
    for i in range(NET_COUNTER_COUNT):
        counters[i] = 0
