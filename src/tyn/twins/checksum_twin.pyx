# Host face of net/checksum for tests.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.net.checksum cimport *


def checksum(bytes data):
    """The 16-bit Internet checksum of data (the value a header field would hold)."""
    return inet_checksum(<const uint8_t *><char *>data, len(data))


def checksum_with_pseudo(uint32_t src, uint32_t dst, uint8_t protocol, bytes segment):
    """The TCP/UDP checksum of segment under the IPv4 pseudo-header."""
    cdef uint64_t s = inet_checksum_pseudo(src, dst, protocol, len(segment))
    return inet_checksum_fold(inet_checksum_add(s, <const uint8_t *><char *>segment, len(segment)))
