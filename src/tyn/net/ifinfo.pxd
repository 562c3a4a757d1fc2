# The stack's interfaces (netif) as Linux's device and address APIs report them: index,
# IFF_* flags, device type, broadcast address, prefix length, counters.  Shared by the
# interface ioctls (ifioctl) and rtnetlink.  Everything here is called with net_lock held.
#
# Indexes: lo is 1, then the Ethernet interfaces in the order they were added (eth0 = 2,
# ...).  Interfaces are never removed, so an index is stable for the life of the kernel.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t
from tyn.net.netif cimport netif

cdef enum:
    IFNAMSIZ = 16
    IFF_UP = 0x1
    IFF_BROADCAST = 0x2
    IFF_LOOPBACK = 0x8
    IFF_POINTOPOINT = 0x10
    IFF_RUNNING = 0x40
    IFF_MULTICAST = 0x1000
    IFF_LOWER_UP = 0x10000
    IFINFO_TXQLEN = 1000            # Linux's default tx_queue_len (lo and virtio-net alike)

# Counters in Linux's rtnl_link_stats order (the first eight; the rest are 0 here).
cdef struct ifinfo_stats:
    uint64_t rx_packets
    uint64_t tx_packets
    uint64_t rx_bytes
    uint64_t tx_bytes
    uint64_t rx_errors
    uint64_t tx_errors
    uint64_t rx_dropped
    uint64_t tx_dropped

cdef extern int32_t ifinfo_index(netif *nif) noexcept nogil
cdef extern netif *ifinfo_by_index(int32_t index) noexcept nogil
# The interface called name (at most IFNAMSIZ bytes read, NUL-terminated or not), or NULL.
cdef extern netif *ifinfo_by_name(const char *name) noexcept nogil
# dev_get_flags: IFF_UP, IFF_RUNNING and IFF_LOWER_UP while up (the link is always up),
# IFF_LOOPBACK for lo, IFF_BROADCAST | IFF_MULTICAST for Ethernet.
cdef extern uint32_t ifinfo_flags(netif *nif) noexcept nogil
cdef extern uint16_t ifinfo_dev_type(netif *nif) noexcept nogil       # ARPHRD_*
# Whether the interface has an IPv4 address (an in_ifaddr, in Linux's terms).
cdef extern bint ifinfo_has_addr(netif *nif) noexcept nogil
# The address's broadcast: addr | ~netmask on Ethernet, 0 on lo (Linux's ifa_broadcast).
cdef extern uint32_t ifinfo_broadcast(netif *nif) noexcept nogil
cdef extern uint8_t ifinfo_prefixlen(uint32_t netmask) noexcept nogil
cdef extern uint8_t ifinfo_scope(netif *nif) noexcept nogil          # RT_SCOPE_*
cdef extern uint8_t ifinfo_operstate(netif *nif) noexcept nogil      # IF_OPER_*
cdef extern void ifinfo_get_stats(netif *nif, ifinfo_stats *out) noexcept nogil
