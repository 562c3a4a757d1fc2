# IPv4 input and output (RFC 791, RFC 1122 §3): routing over the interfaces, protocol
# demultiplexing, fragmentation on output, reassembly on input (ipv4_reass).
#
# Routes: 127.0.0.0/8 and every local address go to the loopback interface; a destination
# inside an interface's subnet is sent to it directly; anything else goes to the default
# interface's gateway.  Limited broadcast (255.255.255.255) leaves on the default interface
# even before it has an address (DHCP).  Under net_lock.
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.net.netdev cimport netdev_tx_offload
from tyn.net.netif cimport netif

# tos: the datagram's TOS byte; rx_flags: NETDEV_RX_* of the frame the datagram came in (0
# when reassembled or looped back).
ctypedef void (*ipv4_handler)(uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *payload,
                              uint32_t len, uint32_t rx_flags) noexcept nogil

cdef enum:
    IPV4_PROTOCOL_COUNT = 256

cdef extern void ipv4_init() noexcept nogil
# Deliver datagrams of `protocol` to handler (NULL: none; then protocol unreachable).
# 0, or -EINVAL for protocols the IP layer handles itself (none today).
cdef extern int ipv4_register_protocol(uint8_t protocol, ipv4_handler handler) noexcept nogil
# Send len bytes of payload as one IPv4 datagram (fragmented to the route's MTU).  src 0
# means the outgoing interface's address.  0, or -ENETUNREACH (no route), -EMSGSIZE (over
# 65535 bytes), -ENOBUFS (no buffer / device full).  The payload is copied.
cdef extern int ipv4_output(uint32_t src, uint32_t dst, uint8_t protocol, const uint8_t *payload,
                            uint32_t len) noexcept nogil
# The same with the header's TOS byte and TTL as given (a socket's IP_TOS and IP_TTL or
# IP_MULTICAST_TTL); ipv4_output is TOS 0 and TTL IPDEFTTL (net.ipv4.ip_default_ttl).
cdef extern int ipv4_output_with(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t tos, uint8_t ttl,
                                 const uint8_t *payload, uint32_t len) noexcept nogil
# The same, with what the device is asked to finish (TCP's checksum, segmentation), its
# offsets counted from the payload's start; NULL: nothing.  When the route's device cannot
# do all of it, it is done here (the checksum finished, a large segment fragmented), so
# the datagram on the wire is the same either way.
cdef extern int ipv4_output_offload(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t tos, uint8_t ttl,
                                    const uint8_t *payload, uint32_t len,
                                    const netdev_tx_offload *offload) noexcept nogil
# A datagram (IP header onward) received on nif; rx_flags: NETDEV_RX_*.
cdef extern void ipv4_input(netif *nif, const uint8_t *packet, uint32_t len, uint32_t rx_flags) noexcept nogil
# The interface for dst and the next hop on it; NULL when there is no route.
cdef extern netif *ipv4_route(uint32_t dst, uint32_t *next_hop) noexcept nogil
# The source address ipv4_output would use towards dst (0 if no route or unconfigured).
cdef extern uint32_t ipv4_source_for(uint32_t dst) noexcept nogil
# While a handler runs: the datagram it came in (IP header onward, for ICMP errors) and its
# length; NULL outside delivery.
cdef extern const uint8_t *ipv4_current_datagram(uint32_t *len) noexcept nogil
cdef extern netif *ipv4_current_netif() noexcept nogil
