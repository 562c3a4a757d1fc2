# Host face of net/netdev (the device list, receive counting, MAC text) and of the
# virtio-mmio command line parser.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free
from tyn.net.netdev cimport *
from tyn.drivers.virtio_mmio cimport virtio_mmio_parse_device

cdef list received = []

cdef void record(netdev *dev, const uint8_t *frame, uint32_t length) noexcept nogil:
    with gil:
        received.append((dev.index, (<const char *>frame)[:length]))


cdef class Device:
    cdef netdev *dev

    def __cinit__(self, bytes name=b""):
        self.dev = <netdev *>calloc(1, sizeof(netdev))
        if len(name) >= NETDEV_NAME_MAX:
            raise ValueError("name too long")
        for i, c in enumerate(name):
            self.dev.name[i] = c

    def register(self):
        return netdev_register(self.dev)

    def listen(self):
        """Frames given to the stack land in `received` as (index, bytes)."""
        self.dev.receive = record

    def input(self, bytes frame):
        netdev_input(self.dev, <const uint8_t *><const char *>frame, len(frame))

    @property
    def name(self):
        return (<char *>self.dev.name).decode()

    @property
    def index(self):
        return self.dev.index

    @property
    def stats(self):
        return dict(self.dev.stats)

    @property
    def address(self):
        return <uint64_t>self.dev

# Devices live as long as the list may point at them (tests reset it first).


def reset():
    netdev_reset()
    received.clear()


def names():
    """The registered devices' names, in order."""
    out = []
    cdef netdev *d = netdev_first()
    while d != NULL:
        out.append((<char *>d.name).decode())
        d = netdev_next(d)
    return out


def by_index(uint32_t index):
    cdef netdev *d = netdev_by_index(index)
    return None if d == NULL else (<char *>d.name).decode()


def by_name(bytes name):
    cdef netdev *d = netdev_by_name(name)
    return None if d == NULL else d.index


def format_mac(bytes mac):
    cdef char out[NETDEV_MAC_TEXT]
    netdev_format_mac(<const uint8_t *><const char *>mac, out)
    return out.decode()


def received_frames():
    return list(received)


def parse_mmio_device(bytes text):
    """virtio_mmio.device= value -> (base, size, gsi) or None."""
    cdef uint64_t base = 0, size = 0
    cdef uint32_t gsi = 0
    if virtio_mmio_parse_device(text, &base, &size, &gsi):
        return base, size, gsi
    return None


FRAME_MAX = NETDEV_FRAME_MAX
HLEN = ETH_HLEN
