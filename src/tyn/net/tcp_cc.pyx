# NewReno.  See tcp_cc.pxd.
from libc.stdint cimport uint32_t
from tyn.net.tcp_types cimport *
from tyn.net.tcp_seq cimport seq_gt, seq_ge
from tyn.net.tcp_pcb cimport tcp_pcb_stats
from tyn.net.tcp_out cimport tcp_out_retransmit_first, tcp_out_output

cdef extern from *:
    """
    #define TCP_SSTHRESH_INFINITE 0x7fffffffu
    """
    const uint32_t TCP_SSTHRESH_INFINITE


cdef void tcp_cc_init(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t iw = TCP_INITIAL_WINDOW_SEGS * pcb.mss
    cdef uint32_t cap = 2 * pcb.mss if 2 * pcb.mss > TCP_INITIAL_WINDOW_BYTES else TCP_INITIAL_WINDOW_BYTES
    pcb.cwnd = iw if iw < cap else cap
    pcb.ssthresh = TCP_SSTHRESH_INFINITE
    pcb.recover = pcb.iss
    pcb.dupacks = 0
    pcb.bytes_acked = 0


cdef uint32_t half_flight(tcp_pcb *pcb) noexcept nogil:
    # RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 * SMSS)
    cdef uint32_t flight = pcb.snd_max - pcb.snd_una
    return flight // 2 if flight // 2 > 2 * pcb.mss else 2 * pcb.mss


cdef void tcp_cc_ack(tcp_pcb *pcb, uint32_t ack, uint32_t acked) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef uint32_t flight
    pcb.dupacks = 0
    if pcb.flags & TF_IN_RECOVERY:
        if seq_ge(ack, pcb.recover):
            # Full acknowledgement (RFC 6582 §3.2 step 3): deflate.
            flight = pcb.snd_max - pcb.snd_una
            pcb.cwnd = pcb.ssthresh if pcb.ssthresh < flight + pcb.mss else flight + pcb.mss
            pcb.flags &= ~TF_IN_RECOVERY
            pcb.bytes_acked = 0
        else:
            # Partial acknowledgement (step 4): retransmit the next hole, deflate by the
            # amount acked, add back one SMSS if that was at least one SMSS.
            st.partial_ack_retransmits += 1
            tcp_out_retransmit_first(pcb)
            pcb.cwnd = pcb.cwnd - acked if pcb.cwnd > acked else pcb.mss
            if acked >= pcb.mss:
                pcb.cwnd += pcb.mss
        return
    if pcb.cwnd < pcb.ssthresh:
        pcb.cwnd += acked if acked < pcb.mss else pcb.mss          # slow start
    else:
        pcb.bytes_acked += acked                                     # congestion avoidance
        if pcb.bytes_acked >= pcb.cwnd:
            pcb.bytes_acked -= pcb.cwnd
            pcb.cwnd += pcb.mss


cdef void tcp_cc_dupack(tcp_pcb *pcb) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    st.dupacks_in += 1
    if pcb.flags & TF_IN_RECOVERY:
        pcb.cwnd += pcb.mss                                          # inflate (step 5)
        tcp_out_output(pcb)
        return
    pcb.dupacks += 1
    if pcb.dupacks != TCP_DUPACK_THRESHOLD:
        return
    # RFC 6582 §3.2 step 2: only when the ACK covers more than recover (no false
    # retransmits after a timeout).  recover holds SND.MAX then, one past the RFC's
    # "highest sequence number transmitted".
    if not seq_gt(pcb.snd_una, pcb.recover):
        return
    st.fast_retransmits += 1
    pcb.ssthresh = half_flight(pcb)
    pcb.recover = pcb.snd_max
    pcb.flags |= TF_IN_RECOVERY
    tcp_out_retransmit_first(pcb)
    pcb.cwnd = pcb.ssthresh + TCP_DUPACK_THRESHOLD * pcb.mss


cdef void tcp_cc_timeout(tcp_pcb *pcb) noexcept nogil:
    pcb.ssthresh = half_flight(pcb)
    pcb.cwnd = pcb.mss
    pcb.bytes_acked = 0
    pcb.dupacks = 0
    pcb.recover = pcb.snd_max
    pcb.flags &= ~TF_IN_RECOVERY
