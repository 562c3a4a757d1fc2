# IPv4 reassembly (RFC 791 §3.2, RFC 815 holes), with limits.
#
# Fragments are kept per (src, dst, id, protocol) in offset order.  Limits: at most
# IP_REASS_MAX_DATAGRAMS datagrams in progress (a new one evicts the oldest), at most
# IP_REASS_MAX_BYTES of buffers over all of them (a fragment past it drops its datagram),
# IP_REASS_TIMEOUT_NS from a datagram's first fragment (then it is dropped, and ICMP time
# exceeded is sent if fragment 0 arrived).  An exact duplicate is dropped alone; any other
# overlap drops the whole datagram (as Linux since the FragmentSmack fixes), as do
# inconsistent ends and non-last fragments whose length is not a multiple of 8.
# Under net_lock.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.net.pbuf cimport pbuf
from tyn.net.wire_ipv4 cimport ipv4_header

cdef enum:
    IP_REASS_MAX_DATAGRAMS = 16
    IP_REASS_MAX_BYTES = 256 << 10

cdef extern from *:
    """
    #define IP_REASS_TIMEOUT_NS ((uint64_t)30000000000ULL)   /* 30 s, Linux ipfrag_time */
    """
    const uint64_t IP_REASS_TIMEOUT_NS

cdef extern void ipv4_reass_init() noexcept nogil
# Add one fragment (hdr parsed from packet, which holds hdr.total_len bytes).  Returns the
# whole datagram once complete (a 20-byte header, no options, fragment fields cleared,
# then the payload), which the caller frees; NULL otherwise (held or dropped, counted).
cdef extern pbuf *ipv4_reass_input(const ipv4_header *hdr, const uint8_t *packet) noexcept nogil
cdef extern void ipv4_reass_timers_run(uint64_t now_ns) noexcept nogil
cdef extern uint64_t ipv4_reass_next_deadline_ns() noexcept nogil
cdef extern uint32_t ipv4_reass_datagrams() noexcept nogil
cdef extern uint32_t ipv4_reass_bytes() noexcept nogil
