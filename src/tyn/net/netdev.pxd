# Network devices: what a NIC driver offers the stack (the link layer boundary).
#
# A driver fills a netdev (mac, mtu, transmit, its own `driver` pointer) and registers it;
# the stack binds an interface to it (netif_add_netdev), which sets `receive` and `stack`.
# The driver calls dev.receive(dev, frame, len, rx_flags) for each received Ethernet frame
# (no FCS) with net_lock held, and dev.receive_done(dev) once after each batch (what one
# interrupt found); the stack copies what it keeps, and runs its per-batch work (loopback
# queue, timer deadline) in receive_done.  transmit copies the frame and returns 0, or
# -ENOBUFS when the device has no room (the stack counts the drop).
#
# Transmit offloads: a driver whose device can finish TCP/UDP checksums (virtio's
# VIRTIO_NET_F_CSUM) or cut large TCPv4 segments into MSS-sized frames (HOST_TSO4) sets
# NETDEV_OFFLOAD_* in tx_offloads; the stack then may pass a netdev_tx_offload with a frame,
# asking only for what the device said it can do.  offload NULL (or flags 0): a finished
# frame no larger than the MTU, as without offloads.
# Registered devices are never unregistered.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cdef enum:
    NETDEV_NAME_MAX = 16
    # rx_flags: the device vouches for the frame's TCP/UDP checksum (virtio's DATA_VALID, or
    # NEEDS_CSUM: a host-local sender left it to be filled), so the stack need not check it.
    NETDEV_RX_CHECKSUM_OK = 1 << 0
    # tx_offloads (what the device can do) and netdev_tx_offload.flags (what a frame needs):
    # NEEDS_CSUM: the checksum field holds the pseudo-header sum; the device sums from
    # csum_start to the frame's end and stores the result at csum_start + csum_offset.
    NETDEV_OFFLOAD_CSUM = 1 << 0
    # TSO4: a TCPv4 segment of up to 64 KiB the device cuts into gso_size-byte segments
    # (headers of hdr_len bytes copied, sequence numbers, IP ids and checksums fixed up).
    NETDEV_OFFLOAD_TSO4 = 1 << 1

cdef struct netdev

# What a transmitted frame leaves to the device (virtio_net_hdr's fields).  Offsets count
# from the frame's first byte; the IP and TCP layers fill them relative to their own
# header and each layer below adds its header's length.
cdef struct netdev_tx_offload:
    uint32_t flags                  # NETDEV_OFFLOAD_*
    uint16_t csum_start
    uint16_t csum_offset
    uint16_t hdr_len                # bytes of headers in front of the TCP payload (TSO4)
    uint16_t gso_size               # payload bytes per segment the device sends (TSO4)

ctypedef int (*netdev_transmit_fn)(netdev *dev, const uint8_t *frame, uint32_t len,
                                   const netdev_tx_offload *offload) noexcept nogil
ctypedef void (*netdev_receive_fn)(netdev *dev, const uint8_t *frame, uint32_t len,
                                   uint32_t rx_flags) noexcept nogil
ctypedef void (*netdev_receive_done_fn)(netdev *dev) noexcept nogil

cdef struct netdev:
    netdev *next                    # registration order
    char name[NETDEV_NAME_MAX]      # set by the driver, e.g. "virtio-net0"
    uint8_t mac[6]
    uint32_t mtu                    # IP MTU (1500 for Ethernet)
    uint32_t tx_offloads            # NETDEV_OFFLOAD_*: set by the driver before registering
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
# Finish a partial checksum in software (a device or path without NETDEV_OFFLOAD_CSUM):
# start points at csum_start, len bytes from there to the end, the field at csum_offset
# holding the pseudo-header sum.
cdef extern void netdev_finish_checksum(uint8_t *start, uint32_t len, uint16_t csum_offset) noexcept nogil
# Print a MAC address on the console as Linux writes it (52:54:00:12:34:56).
cdef extern void netdev_print_mac(const uint8_t *mac) noexcept nogil
