# The Internet checksum (RFC 1071).  See checksum.pxd.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t


cdef uint64_t inet_checksum_add(uint64_t sum, const uint8_t *data, uint32_t len) noexcept nogil:
    # RFC 1071 §2(B): the one's-complement sum does not care about byte order, so add the
    # buffer as native (little-endian, x86) 32-bit halves of 8-byte loads (x86 loads
    # unaligned), fold, and swap the 16-bit result into the big-endian words callers add.
    # Eight bytes per step instead of two: the receive and transmit paths sum every byte.
    cdef uint64_t acc = 0, word
    cdef uint32_t i = 0
    while i + 8 <= len:
        word = (<const uint64_t *>(data + i))[0]
        acc += <uint32_t>word + (word >> 32)
        i += 8
    while i + 1 < len:
        acc += (<uint32_t>data[i + 1] << 8) | data[i]
        i += 2
    if i < len:
        acc += data[i]                  # an odd last byte: the high byte of a big-endian word
    while acc >> 16:
        acc = (acc & 0xffff) + (acc >> 16)
    return sum + (((acc & 0xff) << 8) | (acc >> 8))


cdef uint64_t inet_checksum_pseudo(uint32_t src, uint32_t dst, uint8_t protocol,
                                   uint32_t length) noexcept nogil:
    return ((src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff)
            + protocol + (length >> 16) + (length & 0xffff))


cdef uint16_t inet_checksum_fold(uint64_t sum) noexcept nogil:
    while sum >> 16:
        sum = (sum & 0xffff) + (sum >> 16)
    return <uint16_t>(~sum & 0xffff)


cdef uint16_t inet_checksum(const uint8_t *data, uint32_t len) noexcept nogil:
    return inet_checksum_fold(inet_checksum_add(0, data, len))
