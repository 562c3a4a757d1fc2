# The list of registered network devices (see netdev.pxd).  Under net_lock.
from tyn.sys.errno cimport EINVAL

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
