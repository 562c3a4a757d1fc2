# Send buffer autotuning.  See tcp_sndspace.pxd.
from libc.stdint cimport uint64_t
from tyn.net.tcp_types cimport *
from tyn.net.tcp_pcb cimport tcp_pcb_tunables, tcp_pcb_stats

cdef enum:
    SNDSPACE_WINDOWS = 2                # Linux: sndmem = 2 * cwnd's worth of segments


cdef void tcp_sndspace_expand(tcp_pcb *pcb) noexcept nogil:
    cdef uint64_t want = <uint64_t>SNDSPACE_WINDOWS * pcb.cwnd
    cdef uint64_t cap = tcp_pcb_tunables().buf_max
    if pcb.flags & TF_SNDBUF_LOCK:
        return
    if want > cap:
        want = cap
    if want > pcb.sndbuf:
        pcb.sndbuf = <uint32_t>want
        tcp_pcb_stats().sndbuf_grown += 1
