# ICMP (RFC 792, RFC 1122 §3.2.2): echo replies and error messages.
#
# Errors are never sent about ICMP errors, non-first fragments, or datagrams to or from a
# broadcast/multicast address, and at most ICMP_ERROR_BURST at once, refilled at
# ICMP_ERRORS_PER_SEC (Linux icmp_msgs_per_sec/icmp_msgs_burst).  Under net_lock.
from libc.stdint cimport uint8_t, int32_t, uint32_t
from tyn.net.wire_icmp cimport icmp_header

cdef enum:
    ICMP_ERRORS_PER_SEC = 1000
    ICMP_ERROR_BURST = 50

# A transport protocol's handler of ICMP errors (destination unreachable, time exceeded,
# parameter problem) about a datagram it sent from src to dst (host order): quoted is the
# start of its header as the error quotes it (len bytes, at least 8); type, code and info
# (the header's second word: the next-hop MTU of "fragmentation needed") as received; err
# the errno the error means, hard whether it is fatal to a connection (Linux's
# icmp_err_convert; time exceeded soft, parameter problem hard).  Called with net_lock held.
ctypedef void (*icmp_error_fn)(uint32_t src, uint32_t dst, const uint8_t *quoted, uint32_t len,
                               uint8_t type, uint8_t code, uint32_t info, int32_t err,
                               bint hard) noexcept nogil

cdef enum:
    ICMP_ERROR_HANDLERS = 256       # one per IP protocol number

# The errno an error message means and whether it is hard (see icmp_error_fn).
cdef extern int32_t icmp_error_errno(const icmp_header *hdr, bint *hard) noexcept nogil
# Start over (no error handlers).
cdef extern void icmp_init() noexcept nogil
# ICMP errors about protocol's datagrams go to fn from now on.
cdef extern void icmp_register_error_handler(uint8_t protocol, icmp_error_fn fn) noexcept nogil
# The IPPROTO_ICMP handler.  Its checksum is always checked (devices vouch only for TCP/UDP).
cdef extern void icmp_input(uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *msg, uint32_t len,
                            uint32_t rx_flags) noexcept nogil
# Send an error of type/code about datagram (its IP header onward, datagram_len bytes).
cdef extern void icmp_send_error(uint8_t type, uint8_t code, uint32_t rest, const uint8_t *datagram,
                                 uint32_t datagram_len) noexcept nogil
