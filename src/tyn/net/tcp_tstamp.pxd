# TCP timestamps (RFC 7323 §3-5): the option's negotiation, TSval/TSecr on outgoing
# segments, RTT measurement from TSecr (§4.1, fed to RFC 6298's estimator) and PAWS (§5).
# Called with net_lock held, like every tcp_* entry point.
from libc.stdint cimport uint32_t
from tyn.net.tcp_types cimport tcp_pcb, tcp_segment

# A SYN is about to go out from pcb (connect): offer timestamps if the tunable says so.
cdef extern void tcp_tstamp_offer(tcp_pcb *pcb) noexcept nogil
# The peer's SYN (or SYN-ACK) arrived: agreed when both SYNs carry the option; its
# TSval becomes TS.Recent; the payload room shrinks by the option's 12 bytes.
cdef extern void tcp_tstamp_take_syn(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil
# Fill seg's TSopt when pcb sends one (SYN: offered; else: agreed).
cdef extern void tcp_tstamp_emit(tcp_pcb *pcb, tcp_segment *seg, bint syn) noexcept nogil
# PAWS (§5.3 R1): whether a synchronized segment must be dropped (and answered with an
# ACK) for carrying a TSval older than TS.Recent.  RST segments are exempt; so is an
# idle connection whose TS.Recent is over 24 days old (§5.5).
cdef extern bint tcp_tstamp_paws_reject(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil
# An acceptable segment: TS.Recent follows its TSval when it covers Last.ACK.sent (§4.3).
cdef extern void tcp_tstamp_update_recent(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil
# An ACK of new data echoing our TSval: an RTT sample (§4.1); True when one was taken
# (the per-segment timer is then not needed).
cdef extern bint tcp_tstamp_rtt(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil
