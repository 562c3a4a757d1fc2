# Host face of drivers/virtio_mmio's command line parser.
from libc.stdint cimport uint32_t, uint64_t
from tyn.drivers.virtio_mmio cimport virtio_mmio_parse_device


def parse_device(bytes text):
    """A virtio_mmio.device= value -> (base, size, gsi), or None."""
    cdef uint64_t base = 0, size = 0
    cdef uint32_t gsi = 0
    if virtio_mmio_parse_device(text, &base, &size, &gsi):
        return base, size, gsi
    return None
