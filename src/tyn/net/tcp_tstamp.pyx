# TCP timestamps (see tcp_tstamp.pxd).
from libc.stdint cimport uint32_t, uint64_t
from tyn.net.tcp_types cimport *
from tyn.net.tcp_seq cimport seq_lt, seq_le, seq_ge
from tyn.net.tcp_pcb cimport tcp_pcb_now, tcp_pcb_tunables, tcp_pcb_stats
from tyn.net.tcp_timers cimport tcp_timers_rtt_sample

cdef enum:
    NS_PER_MS = 1000000

cdef inline uint32_t ts_clock(tcp_pcb *pcb) noexcept nogil:
    # Our TSval: a millisecond clock (§5.4: between 1 ms and 1 s per tick) plus this
    # connection's offset, so TSvals do not reveal uptime or link connections.
    return <uint32_t>(tcp_pcb_now() // NS_PER_MS) + pcb.ts_offset

cdef void tcp_tstamp_offer(tcp_pcb *pcb) noexcept nogil:
    if tcp_pcb_tunables().timestamps != 0:
        pcb.flags |= TF_SEND_TSTAMP
        pcb.ts_offset = pcb.iss
    else:
        pcb.flags &= ~(<uint32_t>(TF_SEND_TSTAMP | TF_TSTAMP))

cdef void tcp_tstamp_take_syn(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    if seg.has_timestamp and (pcb.flags & TF_SEND_TSTAMP or
                              (pcb.flags & TF_PASSIVE and tcp_pcb_tunables().timestamps != 0)):
        pcb.flags |= TF_SEND_TSTAMP | TF_TSTAMP
        pcb.ts_recent = seg.ts_val
        pcb.ts_recent_ns = tcp_pcb_now()
        if pcb.mss > TCP_MIN_MSS + TCPOLEN_TSTAMP_ALIGNED:
            pcb.mss -= TCPOLEN_TSTAMP_ALIGNED
    else:
        pcb.flags &= ~(<uint32_t>(TF_SEND_TSTAMP | TF_TSTAMP))

cdef void tcp_tstamp_emit(tcp_pcb *pcb, tcp_segment *seg, bint syn) noexcept nogil:
    if not (pcb.flags & (TF_SEND_TSTAMP if syn else TF_TSTAMP)):
        return
    seg.has_timestamp = True
    seg.ts_val = ts_clock(pcb)
    # TSecr: TS.Recent once we have one; 0 in an initial SYN (§3.2).
    seg.ts_ecr = pcb.ts_recent if pcb.flags & TF_TSTAMP else 0

cdef bint tcp_tstamp_paws_reject(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    if not (pcb.flags & TF_TSTAMP) or not seg.has_timestamp or seg.flags & TCP_RST:
        return False
    if not seq_lt(seg.ts_val, pcb.ts_recent):
        return False
    if (tcp_pcb_now() - pcb.ts_recent_ns) // NS_PER_MS > <uint64_t>TCP_PAWS_IDLE_MS:
        pcb.ts_recent = seg.ts_val      # §5.5: TS.Recent too old to judge by; take the new one
        pcb.ts_recent_ns = tcp_pcb_now()
        return False
    tcp_pcb_stats().paws_rejected += 1
    return True

cdef void tcp_tstamp_update_recent(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    if not (pcb.flags & TF_TSTAMP) or not seg.has_timestamp:
        return
    if seq_ge(seg.ts_val, pcb.ts_recent) and seq_le(seg.seq, pcb.last_ack_sent):
        pcb.ts_recent = seg.ts_val
        pcb.ts_recent_ns = tcp_pcb_now()

cdef bint tcp_tstamp_rtt(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    cdef uint32_t rtt_ms
    if not (pcb.flags & TF_TSTAMP) or not seg.has_timestamp or seg.ts_ecr == 0:
        return False
    rtt_ms = ts_clock(pcb) - seg.ts_ecr
    if rtt_ms > <uint32_t>TCP_PAWS_IDLE_MS:
        return False                    # an echo from the future: not ours
    tcp_timers_rtt_sample(pcb, <uint64_t>rtt_ms * NS_PER_MS)
    return True
