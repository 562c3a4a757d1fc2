# TCP segment arrival (RFC 9293 §3.10.7).  See tcp_input.pxd.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from tyn.sys.errno cimport ECONNREFUSED, ECONNRESET, EPIPE
from tyn.net.tcp_types cimport *
from tyn.net.tcp_seq cimport seq_lt, seq_le, seq_gt, seq_ge, seq_in, seq_max
from tyn.net.wire_tcp cimport wire_tcp_parse
from tyn.net.netdev cimport NETDEV_RX_CHECKSUM_OK
from tyn.net.tcp_pcb cimport (tcp_pcb_stats, tcp_pcb_tunables, tcp_pcb_now, tcp_pcb_alloc, tcp_pcb_free,
                              tcp_pcb_hash, tcp_pcb_lookup, tcp_pcb_lookup_listener, tcp_pcb_route,
                              tcp_pcb_event, tcp_pcb_terminate, tcp_pcb_wscale)
from tyn.net.tcp_buffers cimport tcp_bq_append, tcp_bq_consume, tcp_ooo_insert, tcp_ooo_drain, tcp_ooo_block
from tyn.net.tcp_out cimport (tcp_out_output, tcp_out_send_syn, tcp_out_send_ack, tcp_out_ack_later,
                              tcp_out_challenge_ack, tcp_out_send_rst, tcp_out_send_rst_pcb)
from tyn.net.tcp_timers cimport (tcp_timers_ms, tcp_timers_arm_rexmt, tcp_timers_arm_keepalive,
                                 tcp_timers_enter_time_wait, tcp_timers_rtt_sample)
from tyn.net.tcp_cc cimport tcp_cc_init, tcp_cc_ack, tcp_cc_dupack
from tyn.net.tcp_sndspace cimport tcp_sndspace_expand
from tyn.net.tcp_iss cimport tcp_iss_generate
from tyn.net.tcp_rcvspace cimport tcp_rcvspace_measure

from tyn.net.tcp_tstamp cimport tcp_tstamp_take_syn, tcp_tstamp_paws_reject, tcp_tstamp_update_recent, tcp_tstamp_rtt
from tyn.net.tcp_sack cimport tcp_sack_take_syn, tcp_sack_note_ooo, tcp_sack_note_duplicate
from tyn.net.tcp_scoreboard cimport tcp_scoreboard_update, tcp_scoreboard_ack
cdef enum:
    MS_PER_S = 1000


cdef inline uint32_t seg_len(const tcp_segment *seg) noexcept nogil:
    return (seg.payload_len + (1 if seg.flags & TCP_SYN else 0) + (1 if seg.flags & TCP_FIN else 0))


# ------------------------------------------------------------------ no connection

cdef void closed_input(uint32_t src, uint32_t dst, tcp_segment *seg) noexcept nogil:
    # RFC 9293 §3.10.7.1: a reset for anything but a reset.
    tcp_pcb_stats().no_pcb += 1
    if seg.flags & TCP_RST:
        return
    if seg.flags & TCP_ACK:
        tcp_out_send_rst(dst, seg.dst_port, src, seg.src_port, seg.ack, 0, False, seg.ip_tos)
    else:
        tcp_out_send_rst(dst, seg.dst_port, src, seg.src_port, 0, seg.seq + seg_len(seg), True, seg.ip_tos)


# Connection parameters from the peer's SYN: its ISN, MSS and window scale.
cdef void take_syn(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    cdef uint16_t peer_mss
    pcb.irs = seg.seq
    pcb.rcv_nxt = seg.seq + 1
    pcb.rcv_adv = pcb.rcv_nxt
    pcb.last_ack_sent = pcb.rcv_nxt
    peer_mss = seg.mss if seg.has_mss else TCP_DEFAULT_MSS
    if peer_mss < TCP_MIN_MSS:
        peer_mss = TCP_MIN_MSS
    pcb.peer_mss = peer_mss
    pcb.mss = peer_mss if peer_mss < pcb.adv_mss else pcb.adv_mss
    if seg.has_wscale and pcb.flags & TF_SEND_WSCALE:
        pcb.flags |= TF_WSCALE
        pcb.snd_wscale = seg.wscale if seg.wscale <= TCP_MAX_WSCALE else TCP_MAX_WSCALE
    else:
        # RFC 7323 §2.2: scaling only when both SYNs carry the option.
        pcb.flags &= ~(TF_WSCALE | TF_SEND_WSCALE)
        pcb.snd_wscale = 0
        pcb.rcv_wscale = 0
    tcp_tstamp_take_syn(pcb, seg)
    tcp_sack_take_syn(pcb, seg)
    pcb.snd_wnd = seg.window                    # never scaled in a SYN (RFC 7323 §2.2)
    pcb.max_snd_wnd = pcb.snd_wnd
    pcb.snd_wl1 = seg.seq
    pcb.snd_wl2 = seg.ack


cdef void listen_input(tcp_pcb *l, uint32_t src, uint32_t dst, tcp_segment *seg) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef tcp_pcb *c
    if seg.flags & TCP_RST:
        st.listen_drops += 1
        return
    if seg.flags & TCP_ACK:
        st.listen_drops += 1
        tcp_out_send_rst(dst, seg.dst_port, src, seg.src_port, seg.ack, 0, False, seg.ip_tos)
        return
    if not (seg.flags & TCP_SYN):
        st.listen_drops += 1
        return
    # The backlog covers both queues: a half-open child always has room to be accepted.
    # A full backlog drops the SYN silently; the peer's retransmission gets through once
    # accept() made room (never a reset).
    if l.syn_queue_len + l.accept_queue_len >= l.backlog:
        st.listen_overflow += 1
        return
    c = tcp_pcb_alloc()
    if c == NULL:
        return
    c.flags |= ((l.flags & (TF_NODELAY | TF_KEEPALIVE | TF_REUSEADDR | TF_RCVBUF_LOCK | TF_SNDBUF_LOCK))
                | TF_PASSIVE | TF_BOUND | TF_SEND_WSCALE)
    c.sndbuf = l.sndbuf
    c.rcvbuf = l.rcvbuf
    c.keep_idle_s = l.keep_idle_s
    c.keep_intvl_s = l.keep_intvl_s
    c.keep_cnt = l.keep_cnt
    c.ip_tos = l.ip_tos                 # inherited, as sk_clone_lock copies inet_sock
    c.ip_ttl = l.ip_ttl
    c.local_addr = dst
    c.local_port = seg.dst_port
    c.remote_addr = src
    c.remote_port = seg.src_port
    c.listener = l
    l.syn_queue_len += 1
    tcp_pcb_route(src, &c.local_addr, &c.adv_mss, &c.tx_offloads)
    c.rcv_wscale = tcp_pcb_wscale()
    take_syn(c, seg)
    c.iss = tcp_iss_generate(c.local_addr, c.local_port, c.remote_addr, c.remote_port, tcp_pcb_now())
    c.ts_offset = c.iss
    c.snd_una = c.iss
    c.snd_nxt = c.iss
    c.snd_max = c.iss
    c.recover = c.iss
    c.state = TCP_SYN_RECEIVED
    tcp_pcb_hash(c)
    st.passive_opens += 1
    tcp_out_send_syn(c)


cdef void become_established(tcp_pcb *pcb) noexcept nogil:
    # A close while still in SYN-RECEIVED waited for this (RFC 9293 §3.10.4).
    pcb.state = TCP_FIN_WAIT_1 if pcb.flags & TF_FIN_QUEUED else TCP_ESTABLISHED
    pcb.rexmt_deadline = 0
    pcb.rexmt_shift = 0
    tcp_cc_init(pcb)
    tcp_timers_arm_keepalive(pcb)
    tcp_pcb_stats().established += 1


cdef void syn_sent_input(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    if seg.flags & TCP_ACK:
        if seq_le(seg.ack, pcb.iss) or seq_gt(seg.ack, pcb.snd_max):
            st.bad_ack_dropped += 1
            if not (seg.flags & TCP_RST):
                tcp_out_send_rst(pcb.local_addr, pcb.local_port, pcb.remote_addr, pcb.remote_port,
                                 seg.ack, 0, False, seg.ip_tos)
            return
    if seg.flags & TCP_RST:
        if seg.flags & TCP_ACK:
            st.conn_refused += 1
            tcp_pcb_terminate(pcb, ECONNREFUSED)
        else:
            st.rst_ignored += 1
        return
    if not (seg.flags & TCP_SYN):
        return
    take_syn(pcb, seg)
    if seg.flags & TCP_ACK:
        pcb.snd_una = seg.ack
        if seq_lt(pcb.snd_nxt, pcb.snd_una):
            pcb.snd_nxt = pcb.snd_una
        if pcb.rexmt_shift == 0 and pcb.rtt_start_ns != 0:
            tcp_timers_rtt_sample(pcb, tcp_pcb_now() - pcb.rtt_start_ns)
        become_established(pcb)
        pcb.flags |= TF_ACK_NOW
        tcp_out_output(pcb)
        tcp_pcb_event(pcb, TCP_EVENT_OUT)
    else:
        # Simultaneous open (RFC 9293 §3.5 figure 7).
        pcb.state = TCP_SYN_RECEIVED
        pcb.rexmt_shift = 0
        tcp_out_send_syn(pcb)


# ------------------------------------------------------------------ synchronized states

cdef bint acceptable(tcp_pcb *pcb, tcp_segment *seg, uint32_t wnd) noexcept nogil:
    # RFC 9293 §3.10.7.4 table.
    cdef uint32_t n = seg_len(seg)
    if n == 0:
        if wnd == 0:
            return seg.seq == pcb.rcv_nxt
        return seq_in(seg.seq, pcb.rcv_nxt, pcb.rcv_nxt + wnd)
    if wnd == 0:
        return False
    return (seq_in(seg.seq, pcb.rcv_nxt, pcb.rcv_nxt + wnd)
            or seq_in(seg.seq + n - 1, pcb.rcv_nxt, pcb.rcv_nxt + wnd))


cdef void reset_received(tcp_pcb *pcb) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    if pcb.state == TCP_SYN_RECEIVED:
        if pcb.flags & TF_PASSIVE:
            tcp_pcb_terminate(pcb, 0)           # back to the listener: the child goes
        else:
            st.conn_refused += 1
            tcp_pcb_terminate(pcb, ECONNREFUSED)
    elif pcb.state == TCP_CLOSING or pcb.state == TCP_LAST_ACK:
        tcp_pcb_terminate(pcb, 0)
    elif pcb.state == TCP_CLOSE_WAIT:
        st.conn_reset += 1
        tcp_pcb_terminate(pcb, EPIPE)           # tcp_reset: the peer had closed already
    else:
        st.conn_reset += 1
        tcp_pcb_terminate(pcb, ECONNRESET)


cdef void time_wait_input(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    if seg.flags & TCP_RST:
        tcp_pcb_stats().rst_ignored += 1          # RFC 1337: no TIME-WAIT assassination
        return
    if seg.flags & TCP_SYN:
        tcp_out_challenge_ack(pcb)
        return
    if seg.flags & TCP_FIN:
        # The peer's FIN again: our last ACK was lost.  ACK it and restart 2 MSL.
        tcp_timers_enter_time_wait(pcb)
        tcp_out_send_ack(pcb)
        return
    if seg_len(seg) > 0:
        tcp_out_send_ack(pcb)


# Move a passive child from the SYN queue to its listener's accept queue.
cdef void queue_for_accept(tcp_pcb *pcb) noexcept nogil:
    cdef tcp_pcb *l = pcb.listener
    l.syn_queue_len -= 1
    l.accept_queue_len += 1
    pcb.flags |= TF_ACCEPT_QUEUED
    pcb.accept_next = NULL
    if l.accept_tail == NULL:
        l.accept_head = pcb
    else:
        l.accept_tail.accept_next = pcb
    l.accept_tail = pcb
    tcp_pcb_event(l, TCP_EVENT_IN)


cdef void fin_received(tcp_pcb *pcb) noexcept nogil:
    pcb.rcv_nxt += 1
    pcb.flags |= TF_EOF | TF_ACK_NOW
    if pcb.state == TCP_ESTABLISHED or pcb.state == TCP_SYN_RECEIVED:
        pcb.state = TCP_CLOSE_WAIT
    elif pcb.state == TCP_FIN_WAIT_1:
        pcb.state = TCP_CLOSING                 # our FIN not acknowledged yet
    elif pcb.state == TCP_FIN_WAIT_2:
        tcp_timers_enter_time_wait(pcb)
        pcb.keepalive_deadline = 0
    tcp_pcb_event(pcb, TCP_EVENT_IN)


# Returns False when pcb is gone (or the segment must go no further).
cdef bint ack_input(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef uint32_t acked, data_acked, wnd, queued, newly_sacked
    cdef bint fin_acked = False, dupack
    wnd = (<uint32_t>seg.window) << pcb.snd_wscale
    if pcb.state == TCP_SYN_RECEIVED:
        if not (seq_gt(seg.ack, pcb.snd_una) and seq_le(seg.ack, pcb.snd_max)):
            tcp_out_send_rst(pcb.local_addr, pcb.local_port, pcb.remote_addr, pcb.remote_port,
                             seg.ack, 0, False, seg.ip_tos)
            return False
        pcb.snd_una = pcb.iss + 1               # the SYN is acknowledged
        pcb.snd_wnd = wnd
        pcb.max_snd_wnd = seq_max(pcb.max_snd_wnd, wnd)
        pcb.snd_wl1 = seg.seq
        pcb.snd_wl2 = seg.ack
        if pcb.rexmt_shift == 0 and pcb.rtt_start_ns != 0:
            tcp_timers_rtt_sample(pcb, tcp_pcb_now() - pcb.rtt_start_ns)
        become_established(pcb)
        if pcb.flags & TF_PASSIVE:
            queue_for_accept(pcb)
        else:
            tcp_pcb_event(pcb, TCP_EVENT_OUT)
    if seq_gt(seg.ack, pcb.snd_max):
        tcp_out_challenge_ack(pcb)              # RFC 5961 §5.2: ACK of data never sent
        return False
    if seq_lt(seg.ack, pcb.snd_una - pcb.max_snd_wnd):
        st.bad_ack_dropped += 1                 # too old (RFC 5961 §5.2)
        tcp_out_send_ack(pcb)
        return False
    newly_sacked = tcp_scoreboard_update(pcb, seg)
    dupack = (seg.ack == pcb.snd_una and seg.payload_len == 0 and not (seg.flags & (TCP_FIN | TCP_SYN))
              and wnd == pcb.snd_wnd and pcb.snd_una != pcb.snd_max)
    # RFC 6675 §2: with SACK, an ACK at SND.UNA that SACKs new data is a duplicate too
    # (the window it carries may have changed with the peer's out-of-order queue).
    if newly_sacked > 0 and seg.ack == pcb.snd_una and pcb.snd_una != pcb.snd_max:
        dupack = True
    if seq_gt(seg.ack, pcb.snd_una):
        acked = seg.ack - pcb.snd_una
        queued = pcb.sndq.len
        data_acked = acked if acked < queued else queued
        fin_acked = (pcb.flags & TF_FIN_SENT) != 0 and acked > queued
        tcp_bq_consume(&pcb.sndq, data_acked)
        pcb.snd_una = seg.ack
        pcb.soft_error = 0                      # something got through (Linux's tcp_ack)
        tcp_scoreboard_ack(pcb)
        if seq_lt(pcb.snd_nxt, pcb.snd_una):
            pcb.snd_nxt = pcb.snd_una
        if tcp_tstamp_rtt(pcb, seg):
            pcb.flags &= ~TF_RTT_TIMING         # every ACK is a sample (RFC 7323 §4.1)
        elif pcb.flags & TF_RTT_TIMING and seq_gt(seg.ack, pcb.rtt_seq):
            pcb.flags &= ~TF_RTT_TIMING
            tcp_timers_rtt_sample(pcb, tcp_pcb_now() - pcb.rtt_start_ns)
        pcb.rexmt_shift = 0
        if pcb.snd_una == pcb.snd_max:
            pcb.rexmt_deadline = 0
        else:
            tcp_timers_arm_rexmt(pcb)           # RFC 6298 §5.3
        tcp_cc_ack(pcb, seg.ack, acked)
        tcp_sndspace_expand(pcb)
        if data_acked > 0:
            tcp_pcb_event(pcb, TCP_EVENT_OUT)
    elif dupack:
        tcp_cc_dupack(pcb)
    # Window update (RFC 9293 §3.10.7.4, SND.WL1/WL2).
    if seq_lt(pcb.snd_wl1, seg.seq) or (pcb.snd_wl1 == seg.seq and seq_le(pcb.snd_wl2, seg.ack)):
        pcb.snd_wnd = wnd
        pcb.snd_wl1 = seg.seq
        pcb.snd_wl2 = seg.ack
        if wnd > pcb.max_snd_wnd:
            pcb.max_snd_wnd = wnd
        if wnd > 0:
            pcb.persist_shift = 0
            pcb.persist_deadline = 0
    if fin_acked:
        if pcb.state == TCP_FIN_WAIT_1:
            pcb.state = TCP_FIN_WAIT_2
            if pcb.flags & TF_USER_CLOSED:
                pcb.close_deadline = tcp_pcb_now() + tcp_timers_ms(<uint64_t>tcp_pcb_tunables().fin_timeout_s * MS_PER_S)
            tcp_pcb_event(pcb, TCP_EVENT_SEND_DONE)
        elif pcb.state == TCP_CLOSING:
            tcp_timers_enter_time_wait(pcb)
            tcp_pcb_event(pcb, TCP_EVENT_SEND_DONE)
            return False
        elif pcb.state == TCP_LAST_ACK:
            tcp_pcb_terminate(pcb, 0)
            return False
    return True


cdef void data_input(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef tcp_sack_block held
    cdef int64_t n
    cdef bint filled_hole = False
    if seg.seq == pcb.rcv_nxt:
        n = tcp_bq_append(&pcb.rcvq, seg.payload, seg.payload_len, NULL)
        if n < 0:
            n = 0
        if n < seg.payload_len:
            st.mem_drops += 1
            pcb.flags |= TF_ACK_NOW
        pcb.rcv_nxt += <uint32_t>n
        st.data_segs_in += 1
        st.data_bytes_in += <uint64_t>n
        if pcb.ooo != NULL:
            n += tcp_ooo_drain(&pcb.ooo, &pcb.ooo_count, &pcb.ooo_bytes, &pcb.rcv_nxt, &pcb.rcvq)
            filled_hole = True                  # RFC 5681 §4.2: ACK at once when filling a gap
        if n > 0:
            tcp_rcvspace_measure(pcb)
            tcp_pcb_event(pcb, TCP_EVENT_IN)
        if filled_hole or pcb.rcv_nxt - pcb.last_ack_sent >= 2 * <uint32_t>pcb.mss:
            pcb.flags |= TF_ACK_NOW             # every second full-sized segment
        elif not (pcb.flags & TF_ACK_NOW):
            tcp_out_ack_later(pcb)
    else:
        # Beyond a hole: keep it, and send a duplicate ACK at once (RFC 5681 §4.2).
        if (tcp_ooo_block(pcb.ooo, seg.seq, &held) and
                seq_le(seg.seq + seg.payload_len, held.right)):
            tcp_sack_note_duplicate(pcb, seg.seq, seg.payload_len)     # all of it held already
        if tcp_ooo_insert(&pcb.ooo, &pcb.ooo_count, &pcb.ooo_bytes, tcp_pcb_tunables().ooo_max_segs,
                          seg.seq, seg.payload, seg.payload_len):
            st.ooo_queued += 1
        else:
            st.ooo_drops += 1
        tcp_sack_note_ooo(pcb, seg.seq)         # its block goes first in the ACK (RFC 2018 §4)
        pcb.flags |= TF_ACK_NOW


cdef void synchronized_input(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef uint32_t wnd, dup, fin_seq
    cdef bint has_fin
    if pcb.state == TCP_TIME_WAIT:
        time_wait_input(pcb, seg)
        return
    wnd = pcb.rcv_adv - pcb.rcv_nxt if seq_gt(pcb.rcv_adv, pcb.rcv_nxt) else 0
    # A retransmitted SYN in SYN-RECEIVED: our SYN-ACK was lost; send it again.
    if (pcb.state == TCP_SYN_RECEIVED and seg.flags & TCP_SYN and not (seg.flags & (TCP_ACK | TCP_RST))
            and seg.seq == pcb.irs):
        tcp_out_send_syn(pcb)
        return
    # RST (RFC 5961 §3.2): exact → reset, in window → challenge ACK, else ignore.
    if seg.flags & TCP_RST:
        if seg.seq == pcb.rcv_nxt:
            reset_received(pcb)
        elif wnd > 0 and seq_in(seg.seq, pcb.rcv_nxt, pcb.rcv_nxt + wnd):
            tcp_out_challenge_ack(pcb)
        else:
            st.rst_ignored += 1
        return
    # SYN (RFC 5961 §4): challenge ACK whatever the sequence number.  A passive
    # SYN-RECEIVED goes back to LISTEN instead (RFC 9293 §3.10.7.4).
    if seg.flags & TCP_SYN:
        if pcb.state == TCP_SYN_RECEIVED and pcb.flags & TF_PASSIVE:
            tcp_pcb_terminate(pcb, 0)
        else:
            tcp_out_challenge_ack(pcb)
        return
    if tcp_tstamp_paws_reject(pcb, seg):
        tcp_out_send_ack(pcb)                   # RFC 7323 §5.3 R1
        return
    if not acceptable(pcb, seg, wnd):
        st.out_of_window += 1
        if seg.payload_len > 0 and seq_le(seg.seq + seg.payload_len, pcb.rcv_nxt):
            tcp_sack_note_duplicate(pcb, seg.seq, seg.payload_len)     # old data again
        tcp_out_send_ack(pcb)
        return
    tcp_tstamp_update_recent(pcb, seg)
    pcb.last_rx_ns = tcp_pcb_now()
    # Trim to the window: bytes before RCV.NXT, and beyond the right edge (with the FIN).
    has_fin = (seg.flags & TCP_FIN) != 0
    if seq_lt(seg.seq, pcb.rcv_nxt):
        dup = pcb.rcv_nxt - seg.seq
        if dup >= seg.payload_len:
            dup = seg.payload_len
        tcp_sack_note_duplicate(pcb, seg.seq, dup)
        seg.payload += dup
        seg.payload_len -= dup
        seg.seq += dup
    if seq_gt(seg.seq + seg.payload_len, pcb.rcv_nxt + wnd):
        seg.payload_len = pcb.rcv_nxt + wnd - seg.seq
        has_fin = False
    fin_seq = seg.seq + seg.payload_len
    if not (seg.flags & TCP_ACK):
        return
    if not ack_input(pcb, seg):
        return
    if pcb.flags & TF_KEEPALIVE:
        tcp_timers_arm_keepalive(pcb)
    if (seg.payload_len > 0 and (pcb.state == TCP_ESTABLISHED or pcb.state == TCP_FIN_WAIT_1
                                 or pcb.state == TCP_FIN_WAIT_2)):
        if pcb.flags & TF_USER_CLOSED:
            # Data for a socket that is gone: reset (RFC 9293 §3.10.4, as Linux).
            st.conn_aborted += 1
            tcp_out_send_rst_pcb(pcb)
            tcp_pcb_terminate(pcb, ECONNRESET)
            return
        data_input(pcb, seg)
    if has_fin and (pcb.state == TCP_ESTABLISHED or pcb.state == TCP_FIN_WAIT_1
                    or pcb.state == TCP_FIN_WAIT_2):
        if fin_seq == pcb.rcv_nxt:
            fin_received(pcb)
        elif seq_gt(fin_seq, pcb.rcv_nxt):
            pcb.flags |= TF_OOO_FIN
            pcb.ooo_fin_seq = fin_seq
    elif has_fin and fin_seq == pcb.rcv_nxt - 1 and pcb.flags & TF_EOF:
        pcb.flags |= TF_ACK_NOW                 # the peer's FIN again
    if pcb.flags & TF_OOO_FIN and pcb.ooo_fin_seq == pcb.rcv_nxt and not (pcb.flags & TF_EOF):
        pcb.flags &= ~TF_OOO_FIN
        fin_received(pcb)
    tcp_out_output(pcb)


cdef void tcp_input(uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *segment, uint32_t len,
                    uint32_t rx_flags) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef tcp_segment seg
    cdef tcp_pcb *pcb
    cdef tcp_pcb *l
    cdef int r
    st.segs_in += 1
    r = wire_tcp_parse(src, dst, segment, len, &seg, (rx_flags & NETDEV_RX_CHECKSUM_OK) != 0)
    if seg.sack_malformed:
        st.sack_options_bad += 1                # ignored; the segment goes on
    if r != WIRE_TCP_OK:
        if r == WIRE_TCP_ERR_CHECKSUM:
            st.bad_checksum += 1
        elif r == WIRE_TCP_ERR_OPTIONS:
            st.bad_options += 1
        else:
            st.bad_header += 1
        return
    seg.ip_tos = tos
    if (seg.flags & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST) or seg.dst_port == 0 or seg.src_port == 0:
        st.bad_flags += 1                       # impossible: dropped, never answered
        return
    pcb = tcp_pcb_lookup(dst, seg.dst_port, src, seg.src_port)
    if (pcb != NULL and pcb.state == TCP_TIME_WAIT and seg.flags & TCP_SYN
            and not (seg.flags & TCP_ACK) and seq_gt(seg.seq, pcb.rcv_nxt)):
        # A new incarnation of a connection in TIME-WAIT (RFC 9293 §3.10.7.4 note, as
        # Linux): its SYN is beyond the old sequence space, so the old one can go.
        l = tcp_pcb_lookup_listener(dst, seg.dst_port)
        if l != NULL:
            st.syn_in_time_wait_reused += 1
            tcp_pcb_terminate(pcb, 0)
            pcb = NULL
    if pcb == NULL:
        l = tcp_pcb_lookup_listener(dst, seg.dst_port)
        if l != NULL:
            listen_input(l, src, dst, &seg)
        else:
            closed_input(src, dst, &seg)
        return
    if pcb.state == TCP_SYN_SENT:
        syn_sent_input(pcb, &seg)
    else:
        synchronized_input(pcb, &seg)
