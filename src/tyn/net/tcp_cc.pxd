# TCP congestion control: NewReno (RFC 5681 slow start and congestion avoidance with
# byte counting, fast retransmit on the third duplicate ACK, RFC 6582 fast recovery with
# partial ACKs), initial window per RFC 6928.  When SACK is agreed (TF_SACK), loss
# recovery is RFC 6675's instead: entered on the third duplicate ACK (one SACKing new
# data) or when IsLost(SND.UNA), cwnd = ssthresh = max(FlightSize / 2, 2 * SMSS), no
# inflation (the pipe estimate governs what tcp_out sends), left when SND.UNA reaches the
# recovery point (SND.MAX on entry).
from libc.stdint cimport uint32_t
from tyn.net.tcp_types cimport tcp_pcb

# The connection is established: initial cwnd and ssthresh.
cdef extern void tcp_cc_init(tcp_pcb *pcb) noexcept nogil
# A cumulative ACK advanced SND.UNA by acked bytes to ack (called after SND.UNA moved).
cdef extern void tcp_cc_ack(tcp_pcb *pcb, uint32_t ack, uint32_t acked) noexcept nogil
# A duplicate ACK arrived (RFC 5681 §2's definition; with SACK, also RFC 6675's: an ACK
# at SND.UNA that SACKs new data).
cdef extern void tcp_cc_dupack(tcp_pcb *pcb) noexcept nogil
# The retransmission timer expired (RFC 5681 §3.1 eq. 4, loss window).
cdef extern void tcp_cc_timeout(tcp_pcb *pcb) noexcept nogil
