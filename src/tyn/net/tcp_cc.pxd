# TCP congestion control: NewReno (RFC 5681 slow start and congestion avoidance with
# byte counting, fast retransmit on the third duplicate ACK, RFC 6582 fast recovery with
# partial ACKs), initial window per RFC 6928.
from libc.stdint cimport uint32_t
from tyn.net.tcp_types cimport tcp_pcb

# The connection is established: initial cwnd and ssthresh.
cdef extern void tcp_cc_init(tcp_pcb *pcb) noexcept nogil
# A cumulative ACK advanced SND.UNA by acked bytes to ack (called after SND.UNA moved).
cdef extern void tcp_cc_ack(tcp_pcb *pcb, uint32_t ack, uint32_t acked) noexcept nogil
# A duplicate ACK (RFC 5681 §2 definition) arrived.
cdef extern void tcp_cc_dupack(tcp_pcb *pcb) noexcept nogil
# The retransmission timer expired (RFC 5681 §3.1 eq. 4, loss window).
cdef extern void tcp_cc_timeout(tcp_pcb *pcb) noexcept nogil
