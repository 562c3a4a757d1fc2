# The list of registered network devices (see netdev.pxd).  Under net_lock.
from libc.stdint cimport uint8_t
from tyn.sys.errno cimport EINVAL
from tyn.lib.kprint cimport kputs
from tyn.net.wire_ethernet cimport ETH_ALEN

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
