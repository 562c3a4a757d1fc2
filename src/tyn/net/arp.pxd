# The ARP cache (RFC 826, RFC 1122 §2.3.2) of Ethernet interfaces.
#
# An entry is PENDING while its address is being resolved: packets for it wait in a queue
# bounded in bytes, the request is retried every ARP_RETRY_INTERVAL_NS, and after
# ARP_MAX_REQUESTS unanswered requests the queue is dropped (NET_DROP_ARP_UNRESOLVED) and
# the entry freed.  A RESOLVED entry expires ARP_REACHABLE_NS after it was last confirmed
# by a packet from its owner.  A full table reuses the oldest entry.  Under net_lock.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.net.netif cimport netif
from tyn.net.pbuf cimport pbuf
from tyn.net.wire_arp cimport arp_packet

cdef enum:
    ARP_TABLE_SIZE = 64
    ARP_QUEUE_BYTES = 212992        # per pending address (Linux unres_qlen_bytes)
    ARP_MAX_REQUESTS = 3            # Linux mcast_solicit
    ARP_STATE_FREE = 0
    ARP_STATE_PENDING = 1
    ARP_STATE_RESOLVED = 2

cdef extern from *:
    """
    #define ARP_RETRY_INTERVAL_NS ((uint64_t)1000000000ULL)   /* 1 s, Linux retrans_time */
    #define ARP_REACHABLE_NS ((uint64_t)300000000000ULL)      /* 5 min, lwIP ARP_MAXAGE */
    """
    const uint64_t ARP_RETRY_INTERVAL_NS
    const uint64_t ARP_REACHABLE_NS

cdef extern void arp_init() noexcept nogil
# A parsed ARP packet received on nif.
cdef extern void arp_input(netif *nif, const arp_packet *arp) noexcept nogil
# Send packet (an IPv4 packet with link headroom) to next_hop, resolving it first if
# needed; takes the packet.  0, or -errno when it was dropped (counted).
cdef extern int arp_output(netif *nif, pbuf *packet, uint32_t next_hop) noexcept nogil
cdef extern void arp_timers_run(uint64_t now_ns) noexcept nogil
cdef extern uint64_t arp_next_deadline_ns() noexcept nogil
# The cached hardware address of addr (RESOLVED entries only).
cdef extern bint arp_lookup(uint32_t addr, uint8_t *mac_out) noexcept nogil
# ARP_STATE_* of addr's entry.
cdef extern int arp_state(uint32_t addr) noexcept nogil
# Packets waiting on addr.
cdef extern uint32_t arp_queued(uint32_t addr) noexcept nogil
# Forget the entries of nif (its address changed or it went away), dropping queues.
cdef extern void arp_flush(netif *nif) noexcept nogil
