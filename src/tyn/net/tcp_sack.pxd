# TCP selective acknowledgments, the negotiation and the receiver's side (RFC 2018):
# SACK-permitted offered in our SYN when the `sack` tunable is on (Linux's
# net.ipv4.tcp_sack), agreed when both SYNs carry it (TF_SACK); then every ACK sent
# while the out-of-order queue holds data carries SACK blocks (§4): first the block
# holding the most recently received segment, then the most recently reported others,
# each as the queue holds it after coalescing; none once the holes are filled.  Data
# received twice is reported once as a D-SACK block (RFC 2883) ahead of those.  The
# sender's side is tcp_scoreboard.
# State is the pcb's (sack_recent), under net_lock like the rest of it.
from libc.stdint cimport uint32_t
from tyn.net.tcp_types cimport tcp_pcb, tcp_segment

# connect: offer SACK-permitted in the SYN if the tunable says so.
cdef extern void tcp_sack_offer(tcp_pcb *pcb) noexcept nogil
# The peer's SYN (or SYN-ACK) arrived: SACK is agreed when both SYNs carry the option (a
# listener's child answers an offer when the tunable is on).
cdef extern void tcp_sack_take_syn(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil
# A segment beyond a hole arrived starting at seq (stored or already held): its block
# becomes the first to report.
cdef extern void tcp_sack_note_ooo(tcp_pcb *pcb, uint32_t seq) noexcept nogil
# Data [seq, seq + len) arrived that was already received (below RCV.NXT, or held out of
# order): the next ACK reports it first, as a D-SACK block.
cdef extern void tcp_sack_note_duplicate(tcp_pcb *pcb, uint32_t seq, uint32_t len) noexcept nogil
# Fill seg's SACK blocks (an ACK about to go out; its other options already set), as many
# as fit.  Nothing when SACK is off, or without out-of-order data or a duplicate to report.
cdef extern void tcp_sack_fill(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil
# Option bytes the SACK blocks take in a data segment now (0: none): what a segment's
# payload room loses, so that it still fits the MSS.
cdef extern uint32_t tcp_sack_option_len(tcp_pcb *pcb) noexcept nogil
