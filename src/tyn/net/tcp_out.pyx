# TCP output.  See tcp_out.pxd.
#
# The send queue holds the bytes from SND.UNA on: byte i of it has sequence number
# SND.UNA + i (the SYN is acknowledged before data is queued), and a queued FIN follows
# the last byte.  Segments are built in one scratch buffer, owned by net_lock's holder.
#
# Transmit offloads (pcb.tx_offloads, what the route's device said it can do): with
# NETDEV_OFFLOAD_CSUM a data segment leaves its checksum to the device; with TSO4 as well,
# a segment may carry up to TCP_TSO_MAX_DATA bytes, which the device sends as MSS-sized
# segments (what the MSS-at-a-time loop would have sent: the same windows, Nagle and FIN
# rules cut it).  Retransmissions are MSS-sized, as Linux's after a loss (cwnd is small
# then).  Pure ACKs and SYNs are summed here: they are short, and a padded frame would
# have the padding summed by the device.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from tyn.arch.cpu cimport memset
from tyn.net.tcp_types cimport *
from tyn.net.tcp_seq cimport seq_lt, seq_le, seq_gt, seq_ge, seq_max
from tyn.net.wire_tcp cimport wire_tcp_emit, wire_tcp_fill_checksum, wire_tcp_fill_pseudo_checksum
from tyn.net.netdev cimport netdev_tx_offload, NETDEV_OFFLOAD_CSUM, NETDEV_OFFLOAD_TSO4
from tyn.net.wire_ipv4 cimport IPTOS_ECN_MASK
from tyn.net.tcp_buffers cimport tcp_bq_copy_out
from tyn.net.tcp_pcb cimport tcp_pcb_stats, tcp_pcb_tunables, tcp_pcb_now, tcp_pcb_transmit
from tyn.net.tcp_timers cimport tcp_timers_arm_rexmt, tcp_timers_arm_persist, tcp_timers_ms

from tyn.net.tcp_tstamp cimport tcp_tstamp_emit
from tyn.net.tcp_sack cimport tcp_sack_fill, tcp_sack_option_len
from tyn.net.tcp_scoreboard cimport (tcp_scoreboard_pipe, tcp_scoreboard_next_hole, tcp_scoreboard_range_after,
                                     tcp_scoreboard_sacked_below)
from tyn.net.wire_tcp cimport wire_tcp_sack_len
cdef uint8_t scratch[TCP_MAX_HEADER_LEN + TCP_MAX_SEGMENT]


cdef uint32_t tcp_out_receive_space(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t used = pcb.rcvq.len + pcb.ooo_bytes
    return pcb.rcvbuf - used if used < pcb.rcvbuf else 0

cdef uint32_t tcp_out_unsent(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t sent = pcb.snd_nxt - pcb.snd_una
    return pcb.sndq.len - sent if sent < pcb.sndq.len else 0


# The window field for the next segment, and where its right edge lands (rcv_adv).
# The right edge never moves left (RFC 9293 MUST-39 says SHOULD NOT shrink), and it moves
# right only by a worthwhile amount (receiver SWS avoidance, RFC 9293 §3.8.6.2.2).
cdef uint16_t window_field(tcp_pcb *pcb, bint syn) noexcept nogil:
    cdef uint32_t space = tcp_out_receive_space(pcb)
    cdef uint32_t promised = pcb.rcv_adv - pcb.rcv_nxt if seq_gt(pcb.rcv_adv, pcb.rcv_nxt) else 0
    cdef uint32_t step = pcb.rcvbuf // 2
    cdef uint32_t win, field
    if step > pcb.adv_mss:
        step = pcb.adv_mss
    if syn:
        field = space if space < TCP_MAX_WINDOW_FIELD else TCP_MAX_WINDOW_FIELD
        pcb.rcv_adv = pcb.rcv_nxt + field
        return <uint16_t>field
    win = space if space >= promised + step else promised
    if win > (<uint32_t>TCP_MAX_WINDOW_FIELD) << pcb.rcv_wscale:
        win = (<uint32_t>TCP_MAX_WINDOW_FIELD) << pcb.rcv_wscale
    field = (win + ((<uint32_t>1) << pcb.rcv_wscale) - 1) >> pcb.rcv_wscale if win == promised else win >> pcb.rcv_wscale
    if field > TCP_MAX_WINDOW_FIELD:
        field = TCP_MAX_WINDOW_FIELD
    pcb.rcv_adv = seq_max(pcb.rcv_adv, pcb.rcv_nxt + (field << pcb.rcv_wscale))
    return <uint16_t>field


# Build and send one segment: seq, flags, and len data bytes from send-queue offset off.
cdef int send_segment(tcp_pcb *pcb, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len) noexcept nogil:
    cdef tcp_segment seg
    cdef netdev_tx_offload offload
    cdef uint32_t hlen, mss
    cdef int r
    cdef bint syn = (flags & TCP_SYN) != 0
    memset(&seg, 0, sizeof(seg))
    seg.src_port = pcb.local_port
    seg.dst_port = pcb.remote_port
    seg.seq = seq
    seg.flags = flags
    if flags & TCP_ACK:
        seg.ack = pcb.rcv_nxt
    if syn:
        seg.has_mss = True
        seg.mss = pcb.adv_mss
        if pcb.flags & TF_SEND_WSCALE:
            seg.has_wscale = True
            seg.wscale = pcb.rcv_wscale
        seg.sack_permitted = (pcb.flags & TF_SEND_SACK) != 0
    tcp_tstamp_emit(pcb, &seg, syn)
    if flags & TCP_ACK and not syn:
        tcp_sack_fill(pcb, &seg)                # after the timestamp: blocks take what is left
    seg.window = window_field(pcb, syn)
    hlen = wire_tcp_emit(&seg, scratch)
    if len > 0 and tcp_bq_copy_out(&pcb.sndq, off, scratch + hlen, len, NULL) != len:
        return -1
    if len > 0 and pcb.tx_offloads & NETDEV_OFFLOAD_CSUM:
        offload.flags = NETDEV_OFFLOAD_CSUM
        offload.csum_start = 0
        offload.csum_offset = TCP_CHECKSUM_OFFSET
        offload.hdr_len = <uint16_t>hlen
        offload.gso_size = 0
        mss = pcb.mss - wire_tcp_sack_len(seg.sack_count)
        if len > mss:                           # only built with TSO4 (max_segment_data)
            offload.flags |= NETDEV_OFFLOAD_TSO4
            offload.gso_size = <uint16_t>mss
            tcp_pcb_stats().tso_segs_out += 1
        wire_tcp_fill_pseudo_checksum(pcb.local_addr, pcb.remote_addr, scratch, hlen + len)
        r = tcp_pcb_transmit(pcb.local_addr, pcb.remote_addr, pcb.ip_tos, pcb.ip_ttl, scratch, hlen + len,
                             &offload)
    else:
        wire_tcp_fill_checksum(pcb.local_addr, pcb.remote_addr, scratch, hlen + len)
        r = tcp_pcb_transmit(pcb.local_addr, pcb.remote_addr, pcb.ip_tos, pcb.ip_ttl, scratch, hlen + len,
                             NULL)
    if flags & TCP_ACK:
        pcb.flags &= ~(TF_ACK_NOW | TF_ACK_DELAYED)
        pcb.delack_deadline = 0
        pcb.last_ack_sent = pcb.rcv_nxt
    if len > 0:
        tcp_pcb_stats().data_segs_out += 1
        tcp_pcb_stats().data_bytes_out += len
    return r


cdef void tcp_out_send_syn(tcp_pcb *pcb) noexcept nogil:
    cdef uint8_t flags = TCP_SYN
    if pcb.state == TCP_SYN_RECEIVED:
        flags |= TCP_ACK
    if pcb.rexmt_shift == 0:
        pcb.rtt_start_ns = tcp_pcb_now()        # the handshake's round trip, if not retried
    send_segment(pcb, pcb.iss, flags, 0, 0)
    pcb.snd_nxt = pcb.iss + 1
    pcb.snd_max = seq_max(pcb.snd_max, pcb.snd_nxt)
    tcp_timers_arm_rexmt(pcb)


cdef void tcp_out_send_ack(tcp_pcb *pcb) noexcept nogil:
    send_segment(pcb, pcb.snd_nxt, TCP_ACK, 0, 0)

cdef void tcp_out_send_probe(tcp_pcb *pcb) noexcept nogil:
    send_segment(pcb, pcb.snd_una - 1, TCP_ACK, 0, 0)

cdef void tcp_out_ack_later(tcp_pcb *pcb) noexcept nogil:
    if pcb.flags & TF_ACK_DELAYED:
        return
    pcb.flags |= TF_ACK_DELAYED
    pcb.delack_deadline = tcp_pcb_now() + tcp_timers_ms(tcp_pcb_tunables().delack_ms)


cdef void tcp_out_challenge_ack(tcp_pcb *pcb) noexcept nogil:
    cdef uint64_t now = tcp_pcb_now()
    cdef uint64_t interval = tcp_timers_ms(tcp_pcb_tunables().challenge_interval_ms)
    if pcb.last_challenge_ns != 0 and now - pcb.last_challenge_ns < interval:
        tcp_pcb_stats().challenge_acks_suppressed += 1
        return
    pcb.last_challenge_ns = now if now != 0 else 1
    tcp_pcb_stats().challenge_acks += 1
    tcp_out_send_ack(pcb)


# Our FIN is queued and its sequence number is seq_end of the data (SND.UNA + queue).
cdef inline bint fin_pending(tcp_pcb *pcb) noexcept nogil:
    return (pcb.flags & TF_FIN_QUEUED) != 0 and (pcb.state == TCP_FIN_WAIT_1 or pcb.state == TCP_CLOSING
                                                  or pcb.state == TCP_LAST_ACK)

cdef void tcp_out_retransmit_first(tcp_pcb *pcb) noexcept nogil:
    tcp_out_resend(pcb, pcb.snd_una, tcp_out_seg_mss(pcb))


cdef uint32_t tcp_out_resend(tcp_pcb *pcb, uint32_t seq, uint32_t len) noexcept nogil:
    cdef uint32_t queue_end = pcb.snd_una + pcb.sndq.len
    cdef uint32_t data = 0
    cdef uint8_t flags = TCP_ACK
    if seq_lt(seq, pcb.snd_una) or not seq_lt(seq, pcb.snd_max) or len == 0:
        return 0
    if seq_lt(seq, queue_end):
        data = queue_end - seq if queue_end - seq < len else len
    if fin_pending(pcb) and pcb.flags & TF_FIN_SENT and seq + data == queue_end:
        flags |= TCP_FIN                        # the FIN went after this data: it goes again
    if data == 0 and not (flags & TCP_FIN):
        return 0
    if data > 0 and seq + data == queue_end:
        flags |= TCP_PSH
    pcb.flags &= ~TF_RTT_TIMING                 # Karn: no sample from a retransmission
    if send_segment(pcb, seq, flags, seq - pcb.snd_una, data) < 0:
        return 0
    if seq == pcb.snd_una:
        tcp_timers_arm_rexmt(pcb)
    return data + (1 if flags & TCP_FIN else 0)


cdef uint32_t tcp_out_seg_mss(tcp_pcb *pcb) noexcept nogil:
    return pcb.mss - tcp_sack_option_len(pcb)


# Data per segment: the MSS, or what the device cuts into MSS-sized segments.
cdef inline uint32_t max_segment_data(tcp_pcb *pcb, uint32_t mss) noexcept nogil:
    cdef uint32_t tso_offloads = NETDEV_OFFLOAD_CSUM | NETDEV_OFFLOAD_TSO4
    if pcb.tx_offloads & tso_offloads == tso_offloads:
        return TCP_TSO_MAX_DATA - TCP_TSO_MAX_DATA % mss
    return mss

# Whether the last short piece of the queue would be held back by Nagle once the rest
# is in flight (a FIN to send goes at once, as in the loop below).
cdef inline bint nagle_holds_tail(tcp_pcb *pcb) noexcept nogil:
    return not (pcb.flags & (TF_NODELAY | TF_FORCE_SEND)) and not fin_pending(pcb)

# New data (and the FIN) from SND.NXT: what the windows, Nagle and the queue allow, in
# segments of mss bytes.  recovery (SACK loss recovery, NextSeg rule 2): one segment, of
# at most budget bytes (cwnd - pipe) in place of the congestion window.  Returns the
# sequence space sent.
cdef uint32_t send_new_data(tcp_pcb *pcb, uint32_t mss, bint recovery, uint32_t budget) noexcept nogil:
    cdef uint32_t in_flight, off, unsent, usable, len, seq, cwnd_room, wnd_room, left, right, network
    cdef uint32_t max_data = mss if recovery else max_segment_data(pcb, mss)
    cdef uint32_t total = 0
    cdef uint8_t flags
    cdef bint fin, new_data
    while True:
        in_flight = pcb.snd_nxt - pcb.snd_una
        off = in_flight
        unsent = pcb.sndq.len - off if off < pcb.sndq.len else 0
        if recovery:
            cwnd_room = budget
        else:
            # What SACKs report received is out of the network: cwnd does not count it
            # (the peer's window, a range of sequence numbers, still does).
            network = in_flight
            if pcb.sacked_count > 0:
                network -= tcp_scoreboard_sacked_below(pcb, pcb.snd_nxt)
            cwnd_room = pcb.cwnd - network if pcb.cwnd > network else 0
        wnd_room = pcb.snd_wnd - in_flight if pcb.snd_wnd > in_flight else 0
        usable = cwnd_room if cwnd_room < wnd_room else wnd_room
        len = unsent
        if len > max_data:
            len = max_data
        if len > usable:
            len = usable
        # Going back after a timeout: what the peer SACKed since is not sent again.
        if (pcb.flags & TF_SACK and pcb.sacked_count > 0 and seq_lt(pcb.snd_nxt, pcb.snd_max)
                and tcp_scoreboard_range_after(pcb, pcb.snd_nxt, &left, &right)):
            if seq_le(left, pcb.snd_nxt):
                pcb.snd_nxt = right
                continue
            if left - pcb.snd_nxt < len:
                len = left - pcb.snd_nxt
        if len > mss and len % mss != 0 and (len < unsent or nagle_holds_tail(pcb)):
            # A large segment ends where the MSS-at-a-time loop would have stopped: a short
            # tail waits for the window or for Nagle (Linux's tcp_mss_split_point).
            len -= len % mss
        # The FIN goes with the segment that carries the last byte, or alone, once.
        fin = (fin_pending(pcb) and len == unsent
               and seq_le(pcb.snd_nxt + len, pcb.snd_una + pcb.sndq.len))
        if len == 0 and not fin:
            break
        if len > 0 and len < mss and not fin:
            if pcb.flags & TF_FORCE_SEND:
                pass                            # the persist timer overrides SWS avoidance
            elif len < unsent:
                # Window-limited: wait for a worthwhile window (RFC 9293 §3.8.6.2.1).
                if len < pcb.max_snd_wnd // 2:
                    break
            elif in_flight > 0 and not (pcb.flags & TF_NODELAY):
                break                           # Nagle (RFC 9293 §3.7.4)
        flags = TCP_ACK
        if len > 0 and len == unsent:
            flags |= TCP_PSH
        if fin:
            flags |= TCP_FIN
        seq = pcb.snd_nxt
        new_data = pcb.snd_nxt == pcb.snd_max
        if send_segment(pcb, seq, flags, off, len) < 0 and len > 0:
            break
        total += len + (1 if fin else 0)
        pcb.snd_nxt += len + (1 if fin else 0)
        if seq_gt(pcb.snd_nxt, pcb.snd_max):
            pcb.snd_max = pcb.snd_nxt
        if fin:
            pcb.flags |= TF_FIN_SENT
        if new_data and len > 0 and not (pcb.flags & TF_RTT_TIMING):
            pcb.flags |= TF_RTT_TIMING
            pcb.rtt_seq = seq
            pcb.rtt_start_ns = tcp_pcb_now()
        if pcb.rexmt_deadline == 0:
            tcp_timers_arm_rexmt(pcb)
        if fin or recovery:
            break
    return total


# SACK loss recovery's transmissions (RFC 6675 §5 (C)): while cwnd - pipe allows a full
# segment, NextSeg: rule 1, a lost hole; rule 2, new data; rule 3, a hole not yet judged
# lost.  HighRxt follows each retransmission (C.2).  The optional rule 4 (rescue
# retransmission) is not done: the retransmission timer covers that case.
cdef bint sack_recovery_output(tcp_pcb *pcb, uint32_t mss) noexcept nogil:
    cdef uint32_t pipe = tcp_scoreboard_pipe(pcb)
    cdef uint32_t seq = 0, len = 0, n
    cdef bint sent = False
    while pcb.cwnd > pipe and pcb.cwnd - pipe >= pcb.mss:
        if not tcp_scoreboard_next_hole(pcb, True, mss, &seq, &len):
            n = send_new_data(pcb, mss, True, pcb.cwnd - pipe)
            if n > 0:
                pipe += n
                sent = True
                continue
            if not tcp_scoreboard_next_hole(pcb, False, mss, &seq, &len):
                break
        n = tcp_out_resend(pcb, seq, len)
        if n == 0:
            break
        pcb.high_rxt = seq + n
        tcp_pcb_stats().sack_retransmits += 1
        pipe += n
        sent = True
    return sent


cdef void tcp_out_output(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t mss
    cdef bint sent
    if pcb.state == TCP_CLOSED or pcb.state == TCP_LISTEN:
        return
    if pcb.state == TCP_SYN_SENT or pcb.state == TCP_SYN_RECEIVED or pcb.state == TCP_TIME_WAIT:
        if pcb.flags & TF_ACK_NOW and pcb.state != TCP_SYN_SENT:
            tcp_out_send_ack(pcb)
        return
    mss = tcp_out_seg_mss(pcb)                  # less the SACK blocks each segment carries
    if pcb.flags & TF_IN_RECOVERY and pcb.flags & TF_SACK:
        sent = sack_recovery_output(pcb, mss)
    else:
        sent = send_new_data(pcb, mss, False, 0) > 0
    pcb.flags &= ~TF_FORCE_SEND
    if pcb.flags & TF_ACK_NOW and not sent:
        tcp_out_send_ack(pcb)
    # Data held back by the window with nothing in flight: the persist timer probes
    # (zero window, RFC 9293 §3.8.6.1) or overrides SWS avoidance (small window).
    if tcp_out_unsent(pcb) > 0 and pcb.snd_nxt == pcb.snd_una and pcb.persist_deadline == 0:
        tcp_timers_arm_persist(pcb)


cdef void tcp_out_send_rst(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                           uint32_t seq, uint32_t ack, bint with_ack, uint8_t tos) noexcept nogil:
    send_rst(src, sport, dst, dport, seq, ack, with_ack, tos & ~IPTOS_ECN_MASK, 0)

# A reset the connection sends (an abort) carries its IP_TOS/IP_TTL; one answering a
# segment the TOS of that segment without its ECN field (Linux's tcp_v4_send_reset) and the
# default TTL.
cdef void send_rst(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                   uint32_t seq, uint32_t ack, bint with_ack, uint8_t tos, uint8_t ttl) noexcept nogil:
    cdef tcp_segment seg
    cdef uint32_t hlen
    memset(&seg, 0, sizeof(seg))
    seg.src_port = sport
    seg.dst_port = dport
    seg.seq = seq
    seg.flags = TCP_RST
    if with_ack:
        seg.flags |= TCP_ACK
        seg.ack = ack
    hlen = wire_tcp_emit(&seg, scratch)
    wire_tcp_fill_checksum(src, dst, scratch, hlen)
    tcp_pcb_stats().rst_out += 1
    tcp_pcb_transmit(src, dst, tos, ttl, scratch, hlen, NULL)

cdef void tcp_out_send_rst_pcb(tcp_pcb *pcb) noexcept nogil:
    send_rst(pcb.local_addr, pcb.local_port, pcb.remote_addr, pcb.remote_port,
             pcb.snd_nxt, pcb.rcv_nxt, True, pcb.ip_tos, pcb.ip_ttl)
