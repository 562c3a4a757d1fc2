# The list of registered network devices (see netdev.pxd).  Under net_lock.
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.sys.errno cimport EINVAL
from tyn.lib.kprint cimport kputs
from tyn.net.wire_ethernet cimport ETH_ALEN
from tyn.net.checksum cimport inet_checksum

cdef netdev *devices


cdef int netdev_register(netdev *dev) noexcept nogil:
    cdef netdev **link = &devices
    while link[0] != NULL:
        if link[0] == dev:
            return -EINVAL
        link = &link[0].next
    dev.next = NULL
    link[0] = dev
    return 0


cdef netdev *netdev_first() noexcept nogil:
    return devices


cdef netdev *netdev_next(netdev *dev) noexcept nogil:
    return dev.next


cdef void netdev_reset() noexcept nogil:
    global devices
    devices = NULL


cdef void netdev_print_mac(const uint8_t *mac) noexcept nogil:
    cdef const char *digits = b"0123456789abcdef"
    cdef char text[3]
    cdef int i
    text[2] = 0
    for i in range(ETH_ALEN):
        if i:
            kputs(b":")
        text[0] = digits[mac[i] >> 4]
        text[1] = digits[mac[i] & 0xF]
        kputs(text)


cdef void netdev_finish_checksum(uint8_t *start, uint32_t len, uint16_t csum_offset) noexcept nogil:
    # The field already holds the folded pseudo-header sum, so summing it with the rest
    # gives the full one's-complement sum (RFC 1071).
    cdef uint16_t c = inet_checksum(start, len)
    start[csum_offset] = <uint8_t>(c >> 8)
    start[csum_offset + 1] = <uint8_t>c
