# Receive buffer autotuning (Linux's dynamic right-sizing, tcp_rcv_space_adjust): a
# connection whose reader keeps up gets a receive buffer of about two round trips of what
# the reader takes per round trip, so a bulk sender is not held back by a window sized
# for an idle connection; one whose reader lags keeps what it has.  Never past
# tcp_tunables.buf_max (the window scale is chosen to cover it), never when the socket
# set SO_RCVBUF (TF_RCVBUF_LOCK), never shrinks.  The global cap on buffered bytes still
# applies (over it, segments are dropped and counted, as before).
#
# The receiver's round trip is measured as Linux does without timestamps: the time from
# advertising a window to receiving its last byte (a sample per window; the smallest
# kept).  Called with net_lock held, like every tcp_* entry point.
from libc.stdint cimport uint32_t
from tyn.net.tcp_types cimport tcp_pcb

# In-order data just arrived (rcv_nxt moved): time the window.
cdef extern void tcp_rcvspace_measure(tcp_pcb *pcb) noexcept nogil
# The reader took `copied` bytes from the receive queue: once per measured round trip,
# grow the buffer if the reader took more than in the last one.
cdef extern void tcp_rcvspace_adjust(tcp_pcb *pcb, uint32_t copied) noexcept nogil
