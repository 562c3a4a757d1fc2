# NewReno, and SACK-based loss recovery.  See tcp_cc.pxd.
from libc.stdint cimport uint32_t
from tyn.net.tcp_types cimport *
from tyn.net.tcp_seq cimport seq_gt, seq_ge
from tyn.net.tcp_pcb cimport tcp_pcb_stats
from tyn.net.tcp_out cimport tcp_out_retransmit_first, tcp_out_output, tcp_out_resend, tcp_out_seg_mss
from tyn.net.tcp_scoreboard cimport tcp_scoreboard_is_lost, tcp_scoreboard_next_hole

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


# Resend the segment at SND.UNA, no further than the first SACKed byte; HighRxt follows.
cdef void resend_head(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t seq = 0, len = 0
    cdef uint32_t mss = tcp_out_seg_mss(pcb)
    pcb.high_rxt = pcb.snd_una
    if not tcp_scoreboard_next_hole(pcb, False, mss, &seq, &len) or seq != pcb.snd_una:
        len = mss
    pcb.high_rxt = pcb.snd_una + tcp_out_resend(pcb, pcb.snd_una, len)


cdef void sack_ack(tcp_pcb *pcb, uint32_t ack) noexcept nogil:
    if seq_ge(ack, pcb.recover):
        # RFC 6675 §5 (A): RecoveryPoint acknowledged, recovery over; cwnd stays at
        # ssthresh, where (4.2) put it.  The scoreboard above SND.UNA is kept.
        pcb.flags &= ~TF_IN_RECOVERY
        pcb.cwnd = pcb.ssthresh
        pcb.bytes_acked = 0
    elif pcb.sacked_count == 0 and pcb.high_rxt == pcb.snd_una:
        # A partial ACK with nothing SACKed (a peer that agreed to SACK but sends no
        # blocks): NextSeg has no hole to go by, so resend the next one as NewReno would.
        tcp_pcb_stats().partial_ack_retransmits += 1
        resend_head(pcb)
    # Otherwise (B): the scoreboard is updated; the output that follows runs NextSeg.


# RFC 6675 §5 (2), (4): a duplicate ACK (one that SACKs new data) outside recovery.
cdef void sack_dupack(tcp_pcb *pcb) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    if pcb.flags & TF_IN_RECOVERY:
        return                                  # the output that follows sends by pipe
    pcb.dupacks += 1
    if pcb.dupacks < TCP_DUPACK_THRESHOLD and not tcp_scoreboard_is_lost(pcb, pcb.snd_una):
        return
    # §5.1: after a timeout, no new recovery until RecoveryPoint is acknowledged.
    if not seq_ge(pcb.snd_una, pcb.recover):
        return
    st.fast_retransmits += 1
    st.sack_recoveries += 1
    pcb.recover = pcb.snd_max                   # (4.1) RecoveryPoint = HighData
    pcb.ssthresh = half_flight(pcb)             # (4.2), RFC 5681 eq. (4)
    pcb.cwnd = pcb.ssthresh
    pcb.flags |= TF_IN_RECOVERY
    resend_head(pcb)                            # (4.3); (4.4), (4.5): the output that follows


cdef void tcp_cc_ack(tcp_pcb *pcb, uint32_t ack, uint32_t acked) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef uint32_t flight
    pcb.dupacks = 0
    if pcb.flags & TF_IN_RECOVERY and pcb.flags & TF_SACK:
        sack_ack(pcb, ack)
        return
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
    if pcb.flags & TF_SACK:
        sack_dupack(pcb)
        return
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
