# TCP output: building and sending segments for a pcb (data with Nagle and sender-side
# silly-window avoidance, SYN/SYN-ACK with options, ACKs, probes) and stateless RSTs.
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.net.tcp_types cimport tcp_pcb

# Send what the windows, Nagle and the queue allow, the FIN when due, and an owed ACK;
# in SACK loss recovery, what RFC 6675's pipe and NextSeg allow.
cdef extern void tcp_out_output(tcp_pcb *pcb) noexcept nogil
# (Re)send our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) at ISS with MSS and window scale.
cdef extern void tcp_out_send_syn(tcp_pcb *pcb) noexcept nogil
# A bare ACK now.
cdef extern void tcp_out_send_ack(tcp_pcb *pcb) noexcept nogil
# An ACK owed: at once (now) or after the delayed-ACK timeout.
cdef extern void tcp_out_ack_later(tcp_pcb *pcb) noexcept nogil
# RFC 5961 challenge ACK, at most one per tunables.challenge_interval_ms per connection.
cdef extern void tcp_out_challenge_ack(tcp_pcb *pcb) noexcept nogil
# Resend the first unacknowledged segment (fast retransmit, NewReno partial ACK).
cdef extern void tcp_out_retransmit_first(tcp_pcb *pcb) noexcept nogil
# Resend data of [seq, seq + len) already sent, and the FIN when it was sent after the
# last of that data: one segment, len at most tcp_out_seg_mss.  Returns the sequence space sent (0:
# nothing).  The retransmission timer restarts when seq is SND.UNA.
cdef extern uint32_t tcp_out_resend(tcp_pcb *pcb, uint32_t seq, uint32_t len) noexcept nogil
# The payload room of one segment now: the MSS less the SACK blocks it would carry.
cdef extern uint32_t tcp_out_seg_mss(tcp_pcb *pcb) noexcept nogil
# A zero-window or keepalive probe: SEG.SEQ = SND.UNA - 1, no data, forcing an ACK.
cdef extern void tcp_out_send_probe(tcp_pcb *pcb) noexcept nogil
# RST from (src, sport) to (dst, dport) answering a segment whose datagram had TOS byte
# tos.  with_ack: RST|ACK carrying ack.
cdef extern void tcp_out_send_rst(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                                  uint32_t seq, uint32_t ack, bint with_ack, uint8_t tos) noexcept nogil
# RST for an existing connection (abort): SEQ = SND.NXT.
cdef extern void tcp_out_send_rst_pcb(tcp_pcb *pcb) noexcept nogil
# The receive window we can offer now (bytes, before scaling).
cdef extern uint32_t tcp_out_receive_space(tcp_pcb *pcb) noexcept nogil
# Data bytes queued but never sent.
cdef extern uint32_t tcp_out_unsent(tcp_pcb *pcb) noexcept nogil
