# TCP input: one received segment through the RFC 9293 §3.10.7 event processing (the
# state machine), with RFC 5961's challenge ACKs and RFC 1337's TIME-WAIT rule.  Buffers
# are reached only through tcp_buffers; sending only through tcp_out.
from libc.stdint cimport uint8_t, uint32_t

# A TCP segment (header + payload) from src to dst (IPv4, host order), as the IP layer
# delivers it (rx_flags: NETDEV_RX_*).  Malformed segments are dropped and counted.
# net_lock held.
cdef extern void tcp_input(uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *segment,
                           uint32_t len, uint32_t rx_flags) noexcept nogil
