# The DHCP client (RFC 2131 §4.4): INIT → SELECTING → REQUESTING → BOUND → RENEWING →
# REBINDING, for one Ethernet interface.
#
# DISCOVER and REQUEST are retransmitted with RFC 2131 §4.1's backoff (4 s doubling to
# 64 s); REQUESTING gives up after DHCP_REQUEST_TRIES and starts over.  Bound, it renews
# at T1 (unicast to the server) and rebinds at T2 (broadcast), retrying at half the time
# left (at least 60 s, §4.4.5); at lease expiry the address is removed and discovery starts
# again.  A NAK also starts over.  The lease sets the interface's address, mask and router
# and the resolver's DNS servers and domain (netconfig).  Not done: ARP probing of the
# offered address (DECLINE), INIT-REBOOT.  Time comes from the timer path (netclock).
# Under net_lock.
from libc.stdint cimport uint32_t, uint64_t
from tyn.net.netif cimport netif
from tyn.net.wire_dhcp cimport dhcp_message

cdef enum:
    DHCP_STATE_OFF = 0
    DHCP_STATE_SELECTING = 1        # DISCOVER sent, waiting for an OFFER
    DHCP_STATE_REQUESTING = 2       # REQUEST sent for an offer, waiting for ACK/NAK
    DHCP_STATE_BOUND = 3
    DHCP_STATE_RENEWING = 4
    DHCP_STATE_REBINDING = 5
    DHCP_RETRANSMIT_FIRST_S = 4
    DHCP_RETRANSMIT_MAX_S = 64
    DHCP_RENEW_RETRY_MIN_S = 60
    DHCP_REQUEST_TRIES = 4
    DHCP_INFINITE_LEASE = 0xffffffff

cdef extern void dhcp_init() noexcept nogil
# Start acquiring an address for nif (sends DISCOVER).  xid_seed: the first transaction id
# (a random value in the kernel, fixed in tests).  0, or -ENOMEM / -EADDRINUSE.
cdef extern int dhcp_start(netif *nif, uint32_t xid_seed) noexcept nogil
cdef extern void dhcp_stop() noexcept nogil
cdef extern int dhcp_state() noexcept nogil
# The last ACK (False before the first lease).
cdef extern bint dhcp_lease(dhcp_message *out) noexcept nogil
cdef extern void dhcp_timers_run(uint64_t now_ns) noexcept nogil
cdef extern uint64_t dhcp_next_deadline_ns() noexcept nogil
