# Counters of the IPv4 stack: packets handled, and every reason a packet was dropped.
#
# Parsers (the wire_* modules) return NET_OK or the NET_DROP_* reason naming the problem,
# and the layer that called them counts it with netstats_count.  Under net_lock.
from libc.stdint cimport uint64_t

cdef enum:
    NET_OK = 0
    # ---- drop reasons (NET_DROP_FIRST .. NET_DROP_LAST) ----
    NET_DROP_ETH_SHORT = 1              # frame shorter than an Ethernet header
    NET_DROP_ETH_NOT_FOR_US             # unicast to another MAC
    NET_DROP_ETH_UNKNOWN_TYPE           # not IPv4 or ARP (VLAN, IPv6, 802.3 length ...)
    NET_DROP_ARP_SHORT
    NET_DROP_ARP_BAD_FORMAT             # hardware/protocol type or address length
    NET_DROP_ARP_BAD_OPCODE
    NET_DROP_ARP_BAD_SENDER             # broadcast/multicast/zero sender MAC, or our own
    NET_DROP_ARP_NOT_FOR_US             # neither for our address nor refreshing an entry
    NET_DROP_ARP_UNRESOLVED             # queued for resolution, no reply after the retries
    NET_DROP_ARP_QUEUE_FULL             # too many packets waiting on one address
    NET_DROP_ARP_EVICTED                # waiting packets of an entry taken for another address
    NET_DROP_IP_SHORT_HEADER
    NET_DROP_IP_BAD_VERSION
    NET_DROP_IP_BAD_IHL                 # header length < 20 or past the packet
    NET_DROP_IP_BAD_LENGTH              # total length < header or > what arrived
    NET_DROP_IP_BAD_CHECKSUM
    NET_DROP_IP_BAD_SOURCE              # multicast, broadcast or loopback source from a wire
    NET_DROP_IP_NOT_FOR_US
    NET_DROP_IP_UNKNOWN_PROTOCOL        # no handler (answered with protocol unreachable)
    NET_DROP_IP_NO_ROUTE
    NET_DROP_IP_TOO_BIG                 # output larger than an IPv4 datagram
    NET_DROP_IP_FRAG_NEEDED             # output over the MTU with DF (not sent)
    NET_DROP_LINK_TX_FULL               # the device refused the frame
    NET_DROP_FRAG_BAD                   # offset/length impossible, inconsistent last fragment
    NET_DROP_FRAG_OVERLAP               # overlapping fragments: the whole datagram dropped
    NET_DROP_FRAG_DUPLICATE             # an exact repeat of a fragment already held
    NET_DROP_FRAG_LIMIT                 # too many datagrams or bytes in reassembly
    NET_DROP_FRAG_TIMEOUT               # fragments of a datagram never completed
    NET_DROP_ICMP_SHORT
    NET_DROP_ICMP_BAD_CHECKSUM
    NET_DROP_ICMP_BROADCAST_ECHO        # echo to a broadcast address (ignored, as Linux)
    NET_DROP_ICMP_RATE_LIMITED          # an error message not sent (rate limit)
    NET_DROP_UDP_SHORT
    NET_DROP_UDP_BAD_LENGTH
    NET_DROP_UDP_BAD_CHECKSUM
    NET_DROP_UDP_NO_PORT                # nobody listening (answered with port unreachable)
    NET_DROP_UDP_RCVBUF_FULL            # the socket's receive queue is full
    NET_DROP_DHCP_MALFORMED
    NET_DROP_DHCP_UNEXPECTED            # wrong xid/state/type, or no address offered
    NET_DROP_NO_BUFFER                  # pbuf cap reached or heap exhausted
    NET_DROP_LOOPBACK_FULL
    NET_DROP_NO_INTERFACE               # a frame from a device with no interface bound
    # ---- what went through ----
    NET_ETH_RX
    NET_ETH_TX
    NET_ARP_RX
    NET_ARP_REQUESTS_SENT
    NET_ARP_REPLIES_SENT
    NET_IP_RX                           # datagrams delivered to a protocol
    NET_IP_TX
    NET_IP_FRAGMENTS_RX
    NET_IP_REASSEMBLED
    NET_IP_FRAGMENTS_TX
    NET_ICMP_RX
    NET_ICMP_ECHO_REPLIES
    NET_ICMP_ERRORS_SENT
    NET_UDP_RX
    NET_UDP_TX
    NET_LOOPBACK_TX
    NET_IP_TX_OFFLOAD_IN_SOFTWARE       # a transmit offload the route's device lacks, done here
    NET_COUNTER_COUNT

cdef enum:
    NET_DROP_FIRST = NET_DROP_ETH_SHORT
    NET_DROP_LAST = NET_DROP_NO_INTERFACE

cdef extern void netstats_count(int counter) noexcept nogil
cdef extern uint64_t netstats_get(int counter) noexcept nogil
# Sum of every drop reason.
cdef extern uint64_t netstats_drops() noexcept nogil
# "drop_ip_bad_checksum", "ip_rx" ... (the enum name, lower case, without NET_); NULL if out of range.
cdef extern const char *netstats_name(int counter) noexcept nogil
cdef extern void netstats_reset() noexcept nogil
