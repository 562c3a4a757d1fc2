# Network interfaces (lwIP's netif): an IPv4 address on a link.
#
# Two kinds: Ethernet interfaces bound to a netdev (frames in through the driver's receive
# call, out through its transmit, next hops resolved by ARP), and the loopback interface
# "lo" (127.0.0.1/8, and every local address), whose packets never leave the guest: they
# are queued and delivered by netif_poll(), never from inside the output call, so a
# protocol that sends to itself is not re-entered half-way through its own work.
#
# Timers: netif_timers_run(now_ns) runs everything due (ARP retries and expiry, fragment
# timeouts, DHCP) and drains the loopback queue; netif_next_deadline_ns() says when to
# call it next.  Everything here is under net_lock.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.net.netdev cimport netdev
from tyn.net.pbuf cimport pbuf
from tyn.net.wire_ethernet cimport ETH_ALEN

cdef enum:
    NETIF_NAME_MAX = 8
    # netif.flags
    NETIF_UP = 1 << 0
    NETIF_LOOPBACK = 1 << 1
    NETIF_ETHERNET = 1 << 2
    LOOPBACK_MTU = 65536            # as Linux's lo
    LOOPBACK_QUEUE_MAX = 1000       # packets (Linux netdev_max_backlog)
    NETIF_NO_DEADLINE = 0

ctypedef void (*netif_hook_fn)() noexcept nogil

cdef struct netif:
    netif *next
    char name[NETIF_NAME_MAX]
    netdev *dev                     # NULL for loopback
    uint32_t flags
    uint32_t addr                   # 0 while unconfigured
    uint32_t netmask
    uint32_t gateway                # 0: none
    uint32_t mtu
    uint8_t mac[ETH_ALEN]
    pbuf *loop_head                 # loopback: packets waiting for netif_poll
    pbuf *loop_tail
    uint32_t loop_count
    uint64_t rx_packets
    uint64_t rx_bytes
    uint64_t tx_packets
    uint64_t tx_bytes

# Forget every interface and packet, then bring up lo (called by netinit_reset).
cdef extern void netif_init() noexcept nogil
# An Ethernet interface "ethN" on dev (up, no address); sets dev.receive/dev.stack.  The
# first one becomes the default interface.  NULL if out of memory.
cdef extern netif *netif_add_netdev(netdev *dev) noexcept nogil
cdef extern void netif_set_addr(netif *nif, uint32_t addr, uint32_t netmask, uint32_t gateway) noexcept nogil
cdef extern netif *netif_first() noexcept nogil
cdef extern netif *netif_loopback() noexcept nogil
# The interface of the default route (the first Ethernet interface), or NULL.
cdef extern netif *netif_default() noexcept nogil
cdef extern void netif_set_default(netif *nif) noexcept nogil
# Some interface's address, or in 127.0.0.0/8.
cdef extern bint netif_is_local_addr(uint32_t addr) noexcept nogil
# 255.255.255.255, or nif's subnet-directed broadcast.
cdef extern bint netif_is_broadcast(netif *nif, uint32_t addr) noexcept nogil
# An Ethernet frame from nif's device (what dev.receive does); rx_flags: NETDEV_RX_*.
cdef extern void netif_input(netif *nif, const uint8_t *frame, uint32_t len, uint32_t rx_flags) noexcept nogil
# Send an IPv4 packet (payload = IP header onward, ETH_HLEN headroom) towards next_hop;
# takes the packet.  0 or -errno (the drop is counted).
cdef extern int netif_output_ipv4(netif *nif, pbuf *packet, uint32_t next_hop) noexcept nogil
# Prepend the Ethernet header and transmit; takes p.  0 or -ENOBUFS.
cdef extern int netif_send_frame(netif *nif, pbuf *p, const uint8_t *dst_mac, uint16_t ethertype) noexcept nogil
# Deliver what the loopback interface has queued (bounded work; more may stay queued).
cdef extern void netif_poll() noexcept nogil
cdef extern void netif_timers_run(uint64_t now_ns) noexcept nogil
# The earliest time netif_timers_run has work (now if loopback packets wait), 0 if none.
cdef extern uint64_t netif_next_deadline_ns() noexcept nogil
# Called after each frame a device delivered (the kernel re-arms the stack's timer).
cdef extern void netif_set_deadline_hook(netif_hook_fn fn) noexcept nogil
