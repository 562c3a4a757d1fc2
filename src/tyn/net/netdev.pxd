# Network devices: what a NIC driver offers the stack (the link layer boundary).
#
# A driver fills a netdev (mac, mtu, transmit, its own `driver` pointer) and registers it;
# the stack binds an interface to it (netif_add_netdev), which sets `receive` and `stack`.
# The driver calls dev.receive(dev, frame, len, rx_flags) for each received Ethernet frame
# (no FCS) with net_lock held, and dev.receive_done(dev) once after each batch (what one
# interrupt found); the stack copies what it keeps, and runs its per-batch work (loopback
# queue, timer deadline) in receive_done.  transmit copies the frame and returns 0, or
# -ENOBUFS when the device has no room (the stack counts the drop).
# Registered devices are never unregistered.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef enum:
    NETDEV_NAME_MAX = 16
    # rx_flags: the device vouches for the frame's TCP/UDP checksum (virtio's DATA_VALID, or
    # NEEDS_CSUM: a host-local sender left it to be filled), so the stack need not check it.
    NETDEV_RX_CHECKSUM_OK = 1 << 0

cdef struct netdev

ctypedef int (*netdev_transmit_fn)(netdev *dev, const uint8_t *frame, uint32_t len) noexcept nogil
ctypedef void (*netdev_receive_fn)(netdev *dev, const uint8_t *frame, uint32_t len,
                                   uint32_t rx_flags) noexcept nogil
ctypedef void (*netdev_receive_done_fn)(netdev *dev) noexcept nogil

cdef struct netdev:
    netdev *next                    # registration order
    char name[NETDEV_NAME_MAX]      # set by the driver, e.g. "virtio-net0"
    uint8_t mac[6]
    uint32_t mtu                    # IP MTU (1500 for Ethernet)
    netdev_transmit_fn transmit     # driver
    netdev_receive_fn receive       # stack (NULL until an interface is bound)
    netdev_receive_done_fn receive_done     # stack: after a batch of receive calls
    void *driver                    # the driver's state
    void *stack                     # the stack's state (the bound netif)
    uint64_t rx_packets
    uint64_t rx_bytes
    uint64_t rx_drops               # frames the driver could not deliver
    uint64_t tx_packets
    uint64_t tx_bytes
    uint64_t tx_drops               # transmit refused (no room)

# Append dev to the device list; 0, or -EINVAL if it is already registered.
cdef extern int netdev_register(netdev *dev) noexcept nogil
cdef extern netdev *netdev_first() noexcept nogil
cdef extern netdev *netdev_next(netdev *dev) noexcept nogil
# Forget every device (tests).
cdef extern void netdev_reset() noexcept nogil
# Print a MAC address on the console as Linux writes it (52:54:00:12:34:56).
cdef extern void netdev_print_mac(const uint8_t *mac) noexcept nogil
