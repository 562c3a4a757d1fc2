# The Internet checksum (RFC 1071).  See checksum.pxd.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t


cdef uint64_t inet_checksum_add(uint64_t sum, const uint8_t *data, uint32_t len) noexcept nogil:
    cdef uint32_t i = 0
    while i + 1 < len:
        sum += (<uint32_t>data[i] << 8) | data[i + 1]
        i += 2
    if i < len:
        sum += <uint32_t>data[i] << 8
    return sum


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
