# virtio-net (virtio 1.0 §5.1): one receive and one transmit queue per device.  Each device
# is registered as a netdev (net/netdev.pxd), named virtio-netN.
#
# Receive offloads, when the device offers them (QEMU does with a tap backend): GUEST_CSUM
# (the device vouches for TCP/UDP checksums: NETDEV_RX_CHECKSUM_OK), and GUEST_TSO4 with
# MRG_RXBUF (the host's large TCP segments arrive whole, up to VIRTIO_NET_GSO_FRAME_MAX,
# spread over several receive buffers and gathered here): one frame, one interrupt's share
# and one ACK decision per 64 KiB instead of per 1460 bytes.
#
# Transmit offloads, likewise when offered: CSUM (the device finishes a TCP checksum from
# csum_start, NEEDS_CSUM) and HOST_TSO4 with it (a TCPv4 segment of up to 64 KiB that the
# device cuts into gso_size pieces).  They are reported in dev.tx_offloads and used only
# when the stack asks, per frame.  A large frame takes a chain of transmit buffers (one
# descriptor each; chain_next links them for the reclaim).  Without them (user-mode
# networking, sockets backends) everything is as before: one buffer, a zeroed header.
#
# Locking: a device's queues, buffers and counters are under net_lock.  `transmit` is
# called with it held; the interrupt handler takes it, acknowledges the device, hands each
# received frame to dev.receive (so the stack runs with net_lock held; a frame shorter
# than an Ethernet header or longer than frame_max, or arriving before the stack
# bound the device, is counted in rx_drops), re-posts the buffer, and reclaims finished
# transmissions.  The device does not
# interrupt for finished transmissions (they are reclaimed on the next send or interrupt).
from libc.stdint cimport uint32_t
from tyn.net.wire_ethernet cimport ETH_HLEN
from tyn.net.wire_ipv4 cimport IP_MAXPACKET

cdef enum:
    VIRTIO_NET_F_CSUM = 0               # the device finishes partial checksums we send
    VIRTIO_NET_F_GUEST_CSUM = 1         # the device may deliver partial or validated checksums
    VIRTIO_NET_F_MAC = 5                # device configuration has a MAC address
    VIRTIO_NET_F_GUEST_TSO4 = 7         # the device may deliver TCPv4 segments larger than the MTU
    VIRTIO_NET_F_HOST_TSO4 = 11         # the device cuts up TCPv4 segments larger than the MTU
    VIRTIO_NET_F_MRG_RXBUF = 15         # a received packet may span several buffers
    VIRTIO_NET_F_STATUS = 16            # device configuration has the link status
    VIRTIO_NET_S_LINK_UP = 1
    VIRTIO_NET_CONFIG_MAC = 0           # struct virtio_net_config
    VIRTIO_NET_CONFIG_STATUS = 6
    VIRTIO_NET_HDR_BYTES = 12           # struct virtio_net_hdr_v1 (num_buffers included)
    # struct virtio_net_hdr_v1: byte offsets and values.
    VIRTIO_NET_HDR_FLAGS = 0
    VIRTIO_NET_HDR_GSO_TYPE = 1
    VIRTIO_NET_HDR_HDR_LEN = 2          # little-endian 16 bits, as the three below
    VIRTIO_NET_HDR_GSO_SIZE = 4
    VIRTIO_NET_HDR_CSUM_START = 6
    VIRTIO_NET_HDR_CSUM_OFFSET = 8
    VIRTIO_NET_HDR_NUM_BUFFERS = 10     # little-endian 16 bits
    VIRTIO_NET_HDR_F_NEEDS_CSUM = 1     # the TCP/UDP checksum is partial (a local sender's)
    VIRTIO_NET_HDR_F_DATA_VALID = 2     # the device checked the TCP/UDP checksum
    VIRTIO_NET_HDR_GSO_NONE = 0
    VIRTIO_NET_HDR_GSO_TCPV4 = 1
    VIRTIO_NET_RX_QUEUE = 0             # receiveq1
    VIRTIO_NET_TX_QUEUE = 1             # transmitq1
    VIRTIO_NET_QUEUE_SIZE_MAX = 256     # entries used per queue (fewer if the device says so)
    VIRTIO_NET_BUFFER_BYTES = 2048      # header + the largest frame (1526), two per page
    VIRTIO_NET_FRAME_MAX = 1514         # Linux's ETH_FRAME_LEN: header + 1500, no FCS
    VIRTIO_NET_GSO_FRAME_MAX = ETH_HLEN + IP_MAXPACKET
    VIRTIO_NET_TX_CHAIN_MAX = (VIRTIO_NET_HDR_BYTES + VIRTIO_NET_GSO_FRAME_MAX
                               + VIRTIO_NET_BUFFER_BYTES - 1) // VIRTIO_NET_BUFFER_BYTES
    VIRTIO_NET_DEVICES_MAX = 4          # one interrupt vector each (VECTOR_NETDEV_FIRST + i)

# Find virtio-net devices (virtio-mmio transports from the command line, then PCI), bring
# each up and register it; one console line per device.  Needs the heap, the MMIO mapper,
# the IDT and the I/O APIC.  Returns how many are up.
cdef extern int virtio_net_init() noexcept nogil
