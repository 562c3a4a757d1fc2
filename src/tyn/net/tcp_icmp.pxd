# TCP's reaction to ICMP errors (RFC 1122 §4.2.3.9, RFC 5927 §4.1), as Linux's tcp_v4_err:
# - the error must quote a connection's 4-tuple and a sequence number in [snd_una, snd_max]
#   (a passive SYN-RECEIVED connection: exactly its ISS), else it is ignored and counted:
#   blind ICMP attacks need the sequence number;
# - SYN-SENT (and a simultaneous open's SYN-RECEIVED): any error aborts the connect with
#   its errno (port unreachable ECONNREFUSED, host unreachable EHOSTUNREACH, ...);
# - a passive SYN-RECEIVED connection (a listener's SYN queue) is dropped on net/host
#   unreachable, time exceeded and parameter problem only (Linux's tcp_req_err);
# - every later state: a soft error, kept as the pcb's soft_error, reported by SO_ERROR or
#   instead of ETIMEDOUT when the connection times out; the connection goes on;
# - fragmentation needed is counted and ignored: we send without DF, so there is no path
#   MTU discovery for it to feed (Linux with IP_PMTUDISC_DONT does not react either).
# Called by ICMP with net_lock held.
from libc.stdint cimport uint8_t, int32_t, uint32_t

cdef extern void tcp_icmp_error(uint32_t src, uint32_t dst, const uint8_t *quoted, uint32_t len,
                                uint8_t type, uint8_t code, uint32_t info, int32_t err,
                                bint hard) noexcept nogil
