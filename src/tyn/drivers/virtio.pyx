# The device status handshake every virtio driver goes through (virtio 1.0 §3.1.1).
from libc.stdint cimport uint8_t, uint64_t

cdef uint64_t virtio_negotiate(virtio_device *d, uint64_t required, uint64_t optional) noexcept nogil:
    cdef uint64_t offered, accepted
    required |= <uint64_t>1 << VIRTIO_F_VERSION_1    # modern devices only
    d.reset(d)
    d.set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE)
    d.set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER)
    offered = d.get_features(d)
    if offered & required != required:
        virtio_fail(d)
        return 0
    accepted = required | (offered & optional)
    d.set_features(d, accepted)
    d.set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK)
    if d.get_status(d) & VIRTIO_CONFIG_S_FEATURES_OK == 0:
        virtio_fail(d)                  # the device refused this subset
        return 0
    return accepted

cdef void virtio_driver_ok(virtio_device *d) noexcept nogil:
    d.set_status(d, d.get_status(d) | VIRTIO_CONFIG_S_DRIVER_OK)

cdef void virtio_fail(virtio_device *d) noexcept nogil:
    d.set_status(d, d.get_status(d) | VIRTIO_CONFIG_S_FAILED)
