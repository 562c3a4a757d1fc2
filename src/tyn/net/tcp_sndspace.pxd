# Send buffer autotuning (Linux's tcp_sndbuf_expand): as the congestion window grows, the
# send buffer grows to two congestion windows, so a bulk writer keeps the window full
# (one window in flight, one queued behind it) instead of stalling on a buffer sized for
# an idle connection.  Never past tcp_tunables.buf_max, never once the socket set
# SO_SNDBUF (TF_SNDBUF_LOCK), never shrinks.  Called with net_lock held, like every tcp_*
# entry point.
from tyn.net.tcp_types cimport tcp_pcb

# An ACK moved snd_una (after congestion control updated cwnd).
cdef extern void tcp_sndspace_expand(tcp_pcb *pcb) noexcept nogil
