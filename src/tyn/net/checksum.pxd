# The Internet checksum (RFC 1071), shared by IPv4, ICMP, UDP and TCP.
#
# Sums are kept unfolded in a uint32 accumulator so that pieces (pseudo-header, header,
# payload chunks of a buffer chain) can be added in any order; inet_checksum_fold turns
# the total into the 16-bit one's-complement checksum, in network byte order as it sits
# in the packet (store it with the bytes as they are: hi byte first).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

# Add len bytes at data (big-endian 16-bit words; an odd last byte is padded with zero)
# to sum.  Pieces other than the last must have even length.
cdef extern uint64_t inet_checksum_add(uint64_t sum, const uint8_t *data, uint32_t len) noexcept nogil
# The pseudo-header of RFC 9293 §3.1 / RFC 768 (addresses in host byte order).
cdef extern uint64_t inet_checksum_pseudo(uint32_t src, uint32_t dst, uint8_t protocol,
                                          uint32_t length) noexcept nogil
# Fold to 16 bits and complement: the value to store in the checksum field (host order).
cdef extern uint16_t inet_checksum_fold(uint64_t sum) noexcept nogil
# Checksum of one buffer, from scratch.
cdef extern uint16_t inet_checksum(const uint8_t *data, uint32_t len) noexcept nogil
