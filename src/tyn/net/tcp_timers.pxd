# TCP timers: the retransmission timeout (RFC 6298, with Karn's rule in tcp_out), SYN and
# SYN-ACK retries, zero-window probes (persist), delayed ACK, keepalive, TIME-WAIT and
# the orphaned FIN-WAIT-2 timeout.  Each pcb keeps absolute deadlines; the caller drives
# time with tcp_timers_run and asks tcp_next_deadline_ns when to call again.
from libc.stdint cimport uint32_t, uint64_t
from tyn.net.tcp_types cimport tcp_pcb

cdef extern uint64_t tcp_timers_ms(uint64_t ms) noexcept nogil
# Fire every deadline <= now_ns.
cdef extern void tcp_timers_run(uint64_t now_ns) noexcept nogil
# The earliest armed deadline over all pcbs, 0 if none.
cdef extern uint64_t tcp_next_deadline_ns() noexcept nogil
# The current RTO with backoff, in ms (RFC 6298 §5.5, capped at TCP_RTO_MAX_MS).
cdef extern uint32_t tcp_timers_rto_ms(tcp_pcb *pcb) noexcept nogil
cdef extern void tcp_timers_arm_rexmt(tcp_pcb *pcb) noexcept nogil
cdef extern void tcp_timers_arm_persist(tcp_pcb *pcb) noexcept nogil
cdef extern void tcp_timers_arm_keepalive(tcp_pcb *pcb) noexcept nogil
# Enter TIME-WAIT (timers off but the 2 MSL one), or restart it.
cdef extern void tcp_timers_enter_time_wait(tcp_pcb *pcb) noexcept nogil
# A round-trip measurement (RFC 6298 §2).
cdef extern void tcp_timers_rtt_sample(tcp_pcb *pcb, uint64_t rtt_ns) noexcept nogil
