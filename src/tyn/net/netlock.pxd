# net_lock: the one lock over all IPv4 stack state.
#
# Protects: the interface list and every netif (addresses, loopback queue, counters), the
# ARP cache and its pending queues, the reassembly table, the protocol handler table, UDP
# and TCP pcbs and their queues, the pbuf accounting, the DHCP client and netconfig.
# Every `ipv4_*`, `udp_*`, `tcp_*`, `arp_*`, `netif_*`, `dhcp_*` entry point expects it held
# and never takes it itself; whoever enters the stack takes it: the NIC driver around
# netdev.receive, the socket layer around each operation, the timer around
# netif_timers_run.
#
# Order: net_lock before waitq_lock.  The stack calls io_notify() (which takes waitq_lock)
# with net_lock held, so code holding waitq_lock must never take net_lock.  Nothing in the
# stack sleeps with net_lock held: a socket call releases it before waitq_sleep.
#
# A spinlock (rank SPINLOCK_RANK_NET, lib/spinlock.pxd) held with interrupts off, so the
# driver's receive interrupt on this CPU cannot enter the stack half-way through a socket
# call, and another CPU waits for it.
from libc.stdint cimport uint64_t

# Take the lock; returns the interrupt state to hand back to net_lock_release.
cdef extern uint64_t net_lock_acquire() noexcept nogil
cdef extern void net_lock_release(uint64_t flags) noexcept nogil
