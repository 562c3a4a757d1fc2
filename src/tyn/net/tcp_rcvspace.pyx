# Receive buffer autotuning.  See tcp_rcvspace.pxd.
from libc.stdint cimport uint32_t, uint64_t
from tyn.net.tcp_types cimport *
from tyn.net.tcp_seq cimport seq_lt, seq_gt
from tyn.net.tcp_pcb cimport tcp_pcb_now, tcp_pcb_tunables, tcp_pcb_stats

cdef enum:
    # Linux's rcvwin = 2 * copied + 16 * advmss: two round trips of the reader's pace,
    # plus room for a burst.
    RCVSPACE_ROUND_TRIPS = 2
    RCVSPACE_BURST_SEGS = 16


cdef void tcp_rcvspace_measure(tcp_pcb *pcb) noexcept nogil:
    cdef uint64_t now = tcp_pcb_now()
    cdef uint64_t sample
    cdef uint32_t wnd
    if pcb.rcv_rtt_start_ns != 0:
        if seq_lt(pcb.rcv_nxt, pcb.rcv_rtt_seq):
            return
        sample = now - pcb.rcv_rtt_start_ns
        if sample == 0:
            sample = 1                          # 0 means "none yet"
        if pcb.rcv_rtt_ns == 0 or sample < pcb.rcv_rtt_ns:
            pcb.rcv_rtt_ns = sample
    wnd = pcb.rcv_adv - pcb.rcv_nxt if seq_gt(pcb.rcv_adv, pcb.rcv_nxt) else 0
    if wnd < pcb.adv_mss:
        wnd = pcb.adv_mss
    pcb.rcv_rtt_seq = pcb.rcv_nxt + wnd
    pcb.rcv_rtt_start_ns = now if now != 0 else 1


cdef void tcp_rcvspace_adjust(tcp_pcb *pcb, uint32_t copied) noexcept nogil:
    cdef uint64_t now = tcp_pcb_now()
    cdef uint64_t want
    cdef uint32_t cap = tcp_pcb_tunables().buf_max
    if pcb.flags & TF_RCVBUF_LOCK:
        return
    pcb.rcv_space_copied += copied
    if pcb.rcv_space_start_ns == 0:
        pcb.rcv_space_start_ns = now if now != 0 else 1
        # Linux's start: min(rcv_wnd, 10 * advmss).  Our window is the whole buffer; the
        # bound matters where the MSS is large (loopback's 65495 bytes: 10 of them are
        # more than the buffer, and a reader could then never show it needs more).
        pcb.rcv_space = TCP_INITIAL_WINDOW_SEGS * <uint32_t>pcb.adv_mss
        if pcb.rcv_space > pcb.rcvbuf:
            pcb.rcv_space = pcb.rcvbuf
        return
    if pcb.rcv_rtt_ns == 0 or now - pcb.rcv_space_start_ns < pcb.rcv_rtt_ns:
        return
    if pcb.rcv_space_copied > pcb.rcv_space:
        want = (<uint64_t>RCVSPACE_ROUND_TRIPS * pcb.rcv_space_copied
                + <uint64_t>RCVSPACE_BURST_SEGS * pcb.adv_mss)
        if want > cap:
            want = cap
        if want > pcb.rcvbuf:
            pcb.rcvbuf = <uint32_t>want
            tcp_pcb_stats().rcvbuf_grown += 1
        pcb.rcv_space = pcb.rcv_space_copied
    pcb.rcv_space_copied = 0
    pcb.rcv_space_start_ns = now if now != 0 else 1
