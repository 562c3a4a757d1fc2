# TCP timers.  See tcp_timers.pxd.
from libc.stdint cimport uint32_t, uint64_t
from tyn.sys.errno cimport ETIMEDOUT
from tyn.net.tcp_types cimport *
from tyn.net.tcp_pcb cimport (tcp_pcb_stats, tcp_pcb_tunables, tcp_pcb_now, tcp_pcb_note_time,
                              tcp_pcb_first, tcp_pcb_free, tcp_pcb_terminate)
from tyn.net.tcp_out cimport (tcp_out_output, tcp_out_send_syn, tcp_out_send_ack, tcp_out_send_probe,
                              tcp_out_send_rst_pcb, tcp_out_unsent)
from tyn.net.tcp_cc cimport tcp_cc_timeout
from tyn.net.tcp_scoreboard cimport tcp_scoreboard_clear

cdef enum:
    NS_PER_MS = 1000000
    NS_PER_US = 1000
    MS_PER_S = 1000
    US_PER_MS = 1000
    RTTVAR_SHIFT = 2                    # beta = 1/4
    SRTT_SHIFT = 3                      # alpha = 1/8
    RTO_K = 4
    BACKOFF_LIMIT = 16                  # 1 s << 16 is far past the 60 s cap


cdef uint64_t tcp_timers_ms(uint64_t ms) noexcept nogil:
    return ms * NS_PER_MS

cdef uint64_t deadline_after_ms(uint64_t ms) noexcept nogil:
    cdef uint64_t d = tcp_pcb_now() + ms * NS_PER_MS
    return d if d != 0 else 1


cdef uint32_t backoff_ms(uint32_t base_ms, uint32_t shift) noexcept nogil:
    cdef uint64_t v
    if shift > BACKOFF_LIMIT:
        shift = BACKOFF_LIMIT
    v = (<uint64_t>base_ms) << shift
    return <uint32_t>(v if v < TCP_RTO_MAX_MS else TCP_RTO_MAX_MS)

cdef uint32_t tcp_timers_rto_ms(tcp_pcb *pcb) noexcept nogil:
    return backoff_ms(pcb.rto_ms, pcb.rexmt_shift)

cdef void tcp_timers_arm_rexmt(tcp_pcb *pcb) noexcept nogil:
    pcb.rexmt_deadline = deadline_after_ms(tcp_timers_rto_ms(pcb))

cdef void tcp_timers_arm_persist(tcp_pcb *pcb) noexcept nogil:
    pcb.persist_deadline = deadline_after_ms(backoff_ms(pcb.rto_ms, pcb.persist_shift))

cdef void tcp_timers_arm_keepalive(tcp_pcb *pcb) noexcept nogil:
    if pcb.flags & TF_KEEPALIVE and pcb.state >= TCP_ESTABLISHED and pcb.state != TCP_TIME_WAIT:
        pcb.keepalive_probes = 0
        pcb.keepalive_deadline = deadline_after_ms(<uint64_t>pcb.keep_idle_s * MS_PER_S)
    else:
        pcb.keepalive_deadline = 0

cdef void tcp_timers_enter_time_wait(tcp_pcb *pcb) noexcept nogil:
    pcb.state = TCP_TIME_WAIT
    pcb.rexmt_deadline = 0
    pcb.persist_deadline = 0
    pcb.keepalive_deadline = 0
    pcb.delack_deadline = 0
    pcb.close_deadline = deadline_after_ms(tcp_pcb_tunables().time_wait_ms)


cdef void tcp_timers_rtt_sample(tcp_pcb *pcb, uint64_t rtt_ns) noexcept nogil:
    cdef uint64_t r = rtt_ns // NS_PER_US, rto
    cdef uint64_t delta
    if r == 0:
        r = 1
    if pcb.srtt_us == 0:
        pcb.srtt_us = <uint32_t>r
        pcb.rttvar_us = <uint32_t>(r // 2)
    else:
        delta = pcb.srtt_us - r if pcb.srtt_us > r else r - pcb.srtt_us
        pcb.rttvar_us = <uint32_t>(pcb.rttvar_us - (pcb.rttvar_us >> RTTVAR_SHIFT) + (delta >> RTTVAR_SHIFT))
        pcb.srtt_us = <uint32_t>(pcb.srtt_us - (pcb.srtt_us >> SRTT_SHIFT) + (r >> SRTT_SHIFT))
    rto = pcb.srtt_us + (RTO_K * <uint64_t>pcb.rttvar_us if RTO_K * <uint64_t>pcb.rttvar_us > TCP_RTO_GRANULARITY_US
                         else TCP_RTO_GRANULARITY_US)
    rto = rto // US_PER_MS
    if rto < TCP_RTO_MIN_MS:
        rto = TCP_RTO_MIN_MS
    if rto > TCP_RTO_MAX_MS:
        rto = TCP_RTO_MAX_MS
    pcb.rto_ms = <uint32_t>rto


# ------------------------------------------------------------------ expiries

cdef inline int timeout_error(tcp_pcb *pcb) noexcept nogil:
    # Linux's tcp_write_err: the last soft error (an ICMP unreachable) explains a timeout
    # better than ETIMEDOUT (RFC 1122 §4.2.3.9).
    return pcb.soft_error if pcb.soft_error != 0 else ETIMEDOUT

cdef bint rexmt_expired(tcp_pcb *pcb) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef tcp_tunables *tun = tcp_pcb_tunables()
    pcb.rexmt_deadline = 0
    if pcb.state == TCP_SYN_SENT or pcb.state == TCP_SYN_RECEIVED:
        if pcb.rexmt_shift >= (tun.syn_retries if pcb.state == TCP_SYN_SENT else tun.synack_retries):
            if pcb.state == TCP_SYN_RECEIVED and pcb.flags & TF_PASSIVE:
                st.synack_giveups += 1
            else:
                st.timeouts += 1
            return tcp_pcb_terminate(pcb, timeout_error(pcb))
        pcb.rexmt_shift += 1
        pcb.flags &= ~TF_RTT_TIMING
        st.syn_retransmits += 1
        tcp_out_send_syn(pcb)
        return False
    if pcb.snd_una == pcb.snd_max:
        return False
    if pcb.rexmt_shift >= tun.retries2:
        st.timeouts += 1
        return tcp_pcb_terminate(pcb, timeout_error(pcb))
    pcb.rexmt_shift += 1
    st.retransmits += 1
    tcp_cc_timeout(pcb)
    tcp_scoreboard_clear(pcb)                   # the peer may have reneged (RFC 2018 §8)
    pcb.snd_nxt = pcb.snd_una                   # go back: resend from the first hole
    pcb.flags &= ~TF_RTT_TIMING                 # Karn
    tcp_out_output(pcb)
    if pcb.rexmt_deadline == 0 and pcb.snd_una != pcb.snd_max:
        tcp_timers_arm_rexmt(pcb)
    return False

cdef void persist_expired(tcp_pcb *pcb) noexcept nogil:
    pcb.persist_deadline = 0
    if tcp_out_unsent(pcb) == 0 or pcb.snd_nxt != pcb.snd_una:
        pcb.persist_shift = 0
        return
    if pcb.snd_wnd == 0:
        tcp_pcb_stats().persist_probes += 1
        tcp_out_send_probe(pcb)
        if backoff_ms(pcb.rto_ms, pcb.persist_shift) < TCP_RTO_MAX_MS:
            pcb.persist_shift += 1
        tcp_timers_arm_persist(pcb)               # never gives up (RFC 9293 MUST-37)
    else:
        pcb.flags |= TF_FORCE_SEND
        tcp_out_output(pcb)

cdef bint keepalive_expired(tcp_pcb *pcb) noexcept nogil:
    pcb.keepalive_deadline = 0
    if not (pcb.flags & TF_KEEPALIVE) or pcb.state < TCP_ESTABLISHED or pcb.state == TCP_TIME_WAIT:
        return False
    if pcb.snd_una != pcb.snd_max or tcp_out_unsent(pcb) > 0:
        tcp_timers_arm_keepalive(pcb)             # the retransmission timer watches the peer
        return False
    if pcb.keepalive_probes >= pcb.keep_cnt:
        tcp_pcb_stats().timeouts += 1
        tcp_out_send_rst_pcb(pcb)
        return tcp_pcb_terminate(pcb, timeout_error(pcb))
    pcb.keepalive_probes += 1
    tcp_pcb_stats().keepalive_probes += 1
    tcp_out_send_probe(pcb)
    pcb.keepalive_deadline = deadline_after_ms(<uint64_t>pcb.keep_intvl_s * MS_PER_S)
    return False

cdef bint close_expired(tcp_pcb *pcb) noexcept nogil:
    pcb.close_deadline = 0
    if pcb.state == TCP_FIN_WAIT_2:
        tcp_out_send_rst_pcb(pcb)             # an orphan the peer never finished (Linux)
    return tcp_pcb_terminate(pcb, 0)


cdef inline bint due(uint64_t deadline, uint64_t now) noexcept nogil:
    return deadline != 0 and deadline <= now

# Run pcb's due timers; True when pcb was freed on the way.
cdef bint fire(tcp_pcb *pcb, uint64_t now) noexcept nogil:
    if due(pcb.close_deadline, now):
        return close_expired(pcb)
    if due(pcb.rexmt_deadline, now) and rexmt_expired(pcb):
        return True
    if due(pcb.persist_deadline, now):
        persist_expired(pcb)
    if due(pcb.keepalive_deadline, now) and keepalive_expired(pcb):
        return True
    if due(pcb.delack_deadline, now):
        pcb.delack_deadline = 0
        if pcb.flags & TF_ACK_DELAYED:
            tcp_pcb_stats().delayed_acks += 1
            tcp_out_send_ack(pcb)
    return False

cdef void tcp_timers_run(uint64_t now_ns) noexcept nogil:
    cdef tcp_pcb *pcb
    cdef tcp_pcb *next
    tcp_pcb_note_time(now_ns)
    pcb = tcp_pcb_first()
    while pcb != NULL:
        next = pcb.next                 # an expiry may free pcb (and only pcb)
        fire(pcb, now_ns)
        pcb = next

cdef uint64_t tcp_next_deadline_ns() noexcept nogil:
    cdef tcp_pcb *pcb = tcp_pcb_first()
    cdef uint64_t best = 0
    while pcb != NULL:
        best = earliest(best, pcb.close_deadline)
        best = earliest(best, pcb.rexmt_deadline)
        best = earliest(best, pcb.persist_deadline)
        best = earliest(best, pcb.keepalive_deadline)
        best = earliest(best, pcb.delack_deadline)
        pcb = pcb.next
    return best

cdef inline uint64_t earliest(uint64_t a, uint64_t b) noexcept nogil:
    if b == 0:
        return a
    if a == 0 or b < a:
        return b
    return a
