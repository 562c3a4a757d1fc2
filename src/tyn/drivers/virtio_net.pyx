# The virtio-net driver (see virtio_net.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memcpy, memset, phys_to_virt
from tyn.arch.lapic cimport lapic_eoi
from tyn.arch.trap cimport VECTOR_NETDEV_FIRST, VECTOR_NETDEV_LAST
from tyn.arch.trapframe cimport trap_frame
from tyn.drivers.virtio cimport *
from tyn.drivers.virtio_mmio cimport virtio_mmio_find
from tyn.drivers.virtio_pci cimport virtio_pci_find
from tyn.drivers.virtqueue cimport *
from tyn.lib.kprint cimport kputs, kput_udec, kput_hex
from tyn.mm.heap cimport kcalloc, kmalloc, kfree
from tyn.mm.pmm cimport pmm_alloc_frame, PAGE_SIZE
from tyn.net.netdev cimport (netdev, netdev_register, netdev_print_mac, netdev_tx_offload, NETDEV_NAME_MAX,
                            NETDEV_RX_CHECKSUM_OK, NETDEV_OFFLOAD_CSUM, NETDEV_OFFLOAD_TSO4)
from tyn.net.wire_ethernet cimport ETH_ALEN, ETH_HLEN, ETH_DATA_LEN
from tyn.net.netlock cimport net_lock_acquire, net_lock_release
from tyn.sys.errno cimport EINVAL, ENOBUFS

cdef enum:
    BUFFERS_PER_PAGE = PAGE_SIZE // VIRTIO_NET_BUFFER_BYTES
    NO_FRAME = 0xFFFFFFFFFFFFFFFF       # pmm_alloc_frame: none left
    LOCAL_MAC_PREFIX = 0x02             # locally administered, unicast
    CHAIN_END = 0xFFFF                  # chain_next: the last buffer of a frame

# One queue with its DMA buffers (buffer i at buffer_phys[i], i is the queue token).
cdef struct net_queue:
    virtqueue vq
    uint16_t index                      # VIRTIO_NET_RX_QUEUE / VIRTIO_NET_TX_QUEUE
    uint64_t *buffer_phys
    uint16_t *free_buffers              # transmit only: a stack of idle buffers
    uint16_t *chain_next                # transmit only: the frame's next buffer, or CHAIN_END
    uint16_t free_count

# A packet spread over several receive buffers (MRG_RXBUF), gathered in `bytes`.
cdef struct merged_packet:
    uint8_t *bytes                      # VIRTIO_NET_GSO_FRAME_MAX (only with GUEST_TSO4)
    uint32_t len
    uint32_t rx_flags
    uint16_t buffers_left               # 0: no packet under way
    bint bad                            # too long: dropped once its last buffer is in

cdef struct virtio_net:
    netdev dev                          # first: &n.dev is n
    virtio_device vdev
    net_queue rx
    net_queue tx
    uint64_t features
    uint32_t frame_max                  # VIRTIO_NET_FRAME_MAX, or GSO_FRAME_MAX with GUEST_TSO4
    merged_packet merged
    int vector
    bint link_up                        # VIRTIO_NET_S_LINK_UP (always, without VIRTIO_NET_F_STATUS)

cdef virtio_net *devices[VIRTIO_NET_DEVICES_MAX]    # by vector - VECTOR_NETDEV_FIRST
cdef int device_count

cdef inline uint8_t *buffer(net_queue *q, uint64_t i) noexcept nogil:
    return <uint8_t *>phys_to_virt(q.buffer_phys[i])

# ---------------------------------------------------------------- receive

cdef void post_receive(virtio_net *n, uint64_t i) noexcept nogil:
    cdef virtq_buf seg
    seg.phys = n.rx.buffer_phys[i]
    seg.len = VIRTIO_NET_BUFFER_BYTES
    virtqueue_add(&n.rx.vq, &seg, 0, 1, i)      # cannot fail: it replaces the one just taken

cdef inline bint has_feature(virtio_net *n, uint32_t bit) noexcept nogil:
    return (n.features & (<uint64_t>1 << bit)) != 0

cdef void deliver(virtio_net *n, const uint8_t *frame, uint32_t length, uint32_t rx_flags) noexcept nogil:
    """Count the frame and hand it to the stack; malformed or unbound: rx_drops."""
    if length < ETH_HLEN or length > n.frame_max or n.dev.receive == NULL:
        n.dev.rx_drops += 1
        return
    n.dev.rx_packets += 1
    n.dev.rx_bytes += length
    n.dev.receive(&n.dev, frame, length, rx_flags)

cdef int header_check(virtio_net *n, const uint8_t *hdr, uint32_t *rx_flags) noexcept nogil:
    """The packet's buffer count from its virtio_net_hdr, and its rx_flags; 0 when the header
    asks for what was not negotiated (the packet is dropped)."""
    cdef uint8_t gso = hdr[VIRTIO_NET_HDR_GSO_TYPE]
    cdef uint32_t buffers = 1
    rx_flags[0] = 0
    if has_feature(n, VIRTIO_NET_F_GUEST_CSUM) and (
            hdr[VIRTIO_NET_HDR_FLAGS] & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)):
        rx_flags[0] = NETDEV_RX_CHECKSUM_OK
    if gso != VIRTIO_NET_HDR_GSO_NONE and not (gso == VIRTIO_NET_HDR_GSO_TCPV4
                                               and has_feature(n, VIRTIO_NET_F_GUEST_TSO4)):
        buffers = 0
    if has_feature(n, VIRTIO_NET_F_MRG_RXBUF):
        buffers = 0 if buffers == 0 else (<uint32_t>hdr[VIRTIO_NET_HDR_NUM_BUFFERS]
                                          | <uint32_t>hdr[VIRTIO_NET_HDR_NUM_BUFFERS + 1] << 8)
    return <int>buffers

cdef void merge_start(virtio_net *n, const uint8_t *data, uint32_t len, uint32_t buffers,
                      uint32_t rx_flags) noexcept nogil:
    cdef merged_packet *m = &n.merged
    m.len = 0
    m.rx_flags = rx_flags
    m.buffers_left = <uint16_t>(buffers - 1)  # this one is in
    m.bad = m.bytes == NULL             # no gather buffer: TSO off, so the device should not
    if not m.bad:
        memcpy(m.bytes, data, len)      # len <= one buffer < GSO_FRAME_MAX
        m.len = len

cdef void merge_more(virtio_net *n, const uint8_t *data, uint32_t len) noexcept nogil:
    cdef merged_packet *m = &n.merged
    if not m.bad and len <= VIRTIO_NET_BUFFER_BYTES and len <= VIRTIO_NET_GSO_FRAME_MAX - m.len:
        memcpy(m.bytes + m.len, data, len)
        m.len += len
    else:
        m.bad = True
    m.buffers_left -= 1
    if m.buffers_left == 0:
        if m.bad:
            n.dev.rx_drops += 1
        else:
            deliver(n, m.bytes, m.len, m.rx_flags)

cdef void harvest_receive(virtio_net *n) noexcept nogil:
    """Every received buffer, to the stack and back to the device; then the stack's batch end."""
    cdef uint64_t i
    cdef uint32_t written, rx_flags
    cdef uint8_t *buf
    cdef int buffers
    cdef bint any = False
    while virtqueue_pop_used(&n.rx.vq, &i, &written):
        any = True
        buf = buffer(&n.rx, i)
        if n.merged.buffers_left > 0:
            merge_more(n, buf, written)         # the next piece of a packet under way
        elif written < VIRTIO_NET_HDR_BYTES or written > VIRTIO_NET_BUFFER_BYTES:
            n.dev.rx_drops += 1                 # the device wrote an impossible length
        else:
            buffers = header_check(n, buf, &rx_flags)
            if buffers == 1:
                deliver(n, buf + VIRTIO_NET_HDR_BYTES, written - VIRTIO_NET_HDR_BYTES, rx_flags)
            elif buffers > 1:
                merge_start(n, buf + VIRTIO_NET_HDR_BYTES, written - VIRTIO_NET_HDR_BYTES,
                            <uint32_t>buffers, rx_flags)
            else:
                n.dev.rx_drops += 1             # an offload not negotiated, or 0 buffers
        post_receive(n, i)
    if virtqueue_kick_prepare(&n.rx.vq):
        n.vdev.queue_notify(&n.vdev, VIRTIO_NET_RX_QUEUE)
    if any and n.dev.receive_done != NULL:
        n.dev.receive_done(&n.dev)

# --------------------------------------------------------------- transmit

cdef void free_chain(virtio_net *n, uint16_t i) noexcept nogil:
    while i != CHAIN_END:
        n.tx.free_buffers[n.tx.free_count] = i
        n.tx.free_count += 1
        i = n.tx.chain_next[i]

cdef void reclaim_transmit(virtio_net *n) noexcept nogil:
    cdef uint64_t i
    cdef uint32_t written
    while virtqueue_pop_used(&n.tx.vq, &i, &written):
        free_chain(n, <uint16_t>i)

cdef inline void put_le16(uint8_t *p, uint16_t v) noexcept nogil:
    p[0] = <uint8_t>v
    p[1] = <uint8_t>(v >> 8)

cdef void write_header(uint8_t *hdr, const netdev_tx_offload *offload) noexcept nogil:
    """virtio_net_hdr_v1 for a frame: zero (flags 0, gso_type NONE) without offloads."""
    memset(hdr, 0, VIRTIO_NET_HDR_BYTES)
    if offload == NULL:
        return
    if offload.flags & NETDEV_OFFLOAD_CSUM:
        hdr[VIRTIO_NET_HDR_FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM
        put_le16(hdr + VIRTIO_NET_HDR_CSUM_START, offload.csum_start)
        put_le16(hdr + VIRTIO_NET_HDR_CSUM_OFFSET, offload.csum_offset)
    if offload.flags & NETDEV_OFFLOAD_TSO4:
        hdr[VIRTIO_NET_HDR_GSO_TYPE] = VIRTIO_NET_HDR_GSO_TCPV4
        put_le16(hdr + VIRTIO_NET_HDR_HDR_LEN, offload.hdr_len)
        put_le16(hdr + VIRTIO_NET_HDR_GSO_SIZE, offload.gso_size)

cdef int virtio_net_transmit(netdev *dev, const uint8_t *frame, uint32_t length,
                             const netdev_tx_offload *offload) noexcept nogil:
    """The header and frame copied into as many buffers as they fill (one, up to
    VIRTIO_NET_TX_CHAIN_MAX for a TSO4 frame), offered as one descriptor chain."""
    cdef virtio_net *n = <virtio_net *>dev.driver
    cdef uint32_t flags = offload.flags if offload != NULL else 0
    cdef uint32_t limit = VIRTIO_NET_GSO_FRAME_MAX if flags & NETDEV_OFFLOAD_TSO4 else VIRTIO_NET_FRAME_MAX
    cdef uint32_t count, k, piece, done = 0, room
    cdef uint16_t i, head = CHAIN_END, prev = CHAIN_END
    cdef uint8_t *buf
    cdef virtq_buf segs[VIRTIO_NET_TX_CHAIN_MAX]
    if length < ETH_HLEN or length > limit or (flags & ~dev.tx_offloads) != 0:
        dev.tx_drops += 1
        return -EINVAL
    count = (VIRTIO_NET_HDR_BYTES + length + VIRTIO_NET_BUFFER_BYTES - 1) // VIRTIO_NET_BUFFER_BYTES
    if n.tx.free_count < count:
        reclaim_transmit(n)
    if n.tx.free_count < count:
        dev.tx_drops += 1
        return -ENOBUFS
    for k in range(count):
        n.tx.free_count -= 1
        i = n.tx.free_buffers[n.tx.free_count]
        buf = buffer(&n.tx, i)
        room = VIRTIO_NET_BUFFER_BYTES
        if k == 0:
            head = i
            write_header(buf, offload if flags != 0 else NULL)
            buf += VIRTIO_NET_HDR_BYTES
            room -= VIRTIO_NET_HDR_BYTES
        else:
            n.tx.chain_next[prev] = i
        piece = length - done if length - done < room else room
        memcpy(buf, frame + done, piece)
        segs[k].phys = n.tx.buffer_phys[i]
        segs[k].len = piece + (VIRTIO_NET_HDR_BYTES if k == 0 else 0)
        done += piece
        prev = i
    n.tx.chain_next[prev] = CHAIN_END
    if virtqueue_add(&n.tx.vq, segs, <int>count, 0, head) < 0:
        free_chain(n, head)                      # as many buffers as descriptors: not reached
        dev.tx_drops += 1
        return -ENOBUFS
    if virtqueue_kick_prepare(&n.tx.vq):
        n.vdev.queue_notify(&n.vdev, VIRTIO_NET_TX_QUEUE)
    dev.tx_packets += 1
    dev.tx_bytes += length
    return 0

# -------------------------------------------------------------- interrupt

cdef void read_link(virtio_net *n) noexcept nogil:
    cdef bint up = True
    if n.features & (<uint64_t>1 << VIRTIO_NET_F_STATUS):
        up = (n.vdev.config_read8(&n.vdev, VIRTIO_NET_CONFIG_STATUS) & VIRTIO_NET_S_LINK_UP) != 0
    n.link_up = up

cdef void virtio_net_irq(trap_frame *frame) noexcept nogil:
    cdef uint64_t slot = frame.vector - VECTOR_NETDEV_FIRST
    cdef virtio_net *n
    cdef uint64_t flags
    cdef uint32_t causes
    if slot >= VIRTIO_NET_DEVICES_MAX or devices[slot] == NULL:
        lapic_eoi()
        return
    n = devices[slot]
    flags = net_lock_acquire()
    causes = n.vdev.irq_ack(&n.vdev)            # before the work: a later event raises it again
    if causes & VIRTIO_ISR_CONFIG:
        read_link(n)
    harvest_receive(n)
    reclaim_transmit(n)
    net_lock_release(flags)
    lapic_eoi()

# ------------------------------------------------------------------ setup

cdef uint64_t alloc_page() noexcept nogil:
    cdef uint64_t frame = pmm_alloc_frame()
    if frame != NO_FRAME:
        memset(phys_to_virt(frame), 0, PAGE_SIZE)
    return frame

cdef bint setup_queue(virtio_net *n, net_queue *q, uint16_t index) noexcept nogil:
    """The rings (one page each), the shadow state and a buffer per entry; tell the device."""
    cdef uint16_t size = n.vdev.queue_max(&n.vdev, index), fit = 1
    cdef uint64_t desc, avail, used, page = NO_FRAME
    cdef void *shadow
    cdef uint32_t i
    if size == 0:
        return False
    while fit * 2 <= size and fit * 2 <= VIRTIO_NET_QUEUE_SIZE_MAX:
        fit *= 2                        # split queues are a power of two long
    desc = alloc_page()
    avail = alloc_page()
    used = alloc_page()
    shadow = kcalloc(1, virtqueue_shadow_bytes(fit))
    q.buffer_phys = <uint64_t *>kcalloc(fit, sizeof(uint64_t))
    q.free_buffers = <uint16_t *>kcalloc(fit, sizeof(uint16_t))
    q.chain_next = <uint16_t *>kcalloc(fit, sizeof(uint16_t))
    if desc == NO_FRAME or avail == NO_FRAME or used == NO_FRAME or shadow == NULL \
            or q.buffer_phys == NULL or q.free_buffers == NULL or q.chain_next == NULL:
        return False
    if not virtqueue_init(&q.vq, fit, phys_to_virt(desc), phys_to_virt(avail), phys_to_virt(used), shadow):
        return False
    for i in range(fit):
        if i % BUFFERS_PER_PAGE == 0:
            page = alloc_page()
            if page == NO_FRAME:
                return False
        q.buffer_phys[i] = page + (i % BUFFERS_PER_PAGE) * VIRTIO_NET_BUFFER_BYTES
        q.free_buffers[i] = <uint16_t>(fit - 1 - i)
    q.free_count = fit
    q.index = index
    return n.vdev.queue_setup(&n.vdev, index, fit, desc, avail, used)

cdef void read_mac(virtio_net *n, int slot) noexcept nogil:
    cdef int i
    if n.features & (<uint64_t>1 << VIRTIO_NET_F_MAC):
        for i in range(ETH_ALEN):
            n.dev.mac[i] = n.vdev.config_read8(&n.vdev, VIRTIO_NET_CONFIG_MAC + i)
    else:
        memset(n.dev.mac, 0, ETH_ALEN)          # the spec leaves it to us: a local address
        n.dev.mac[0] = LOCAL_MAC_PREFIX
        n.dev.mac[ETH_ALEN - 1] = <uint8_t>(slot + 1)

cdef void set_name(virtio_net *n, int number) noexcept nogil:
    """virtio-netN (number < 10: VIRTIO_NET_DEVICES_MAX is 4)."""
    cdef const char *prefix = b"virtio-net"
    cdef int i = 0
    while prefix[i] != 0:
        n.dev.name[i] = prefix[i]
        i += 1
    n.dev.name[i] = <char>(48 + number)
    n.dev.name[i + 1] = 0

cdef void report(virtio_net *n, const char *problem) noexcept nogil:
    kputs(b"tyn: ")
    if problem == NULL:
        kputs(n.dev.name)
        kputs(b": ")
    kputs(b"virtio-net on ")
    if n.vdev.transport == VIRTIO_TRANSPORT_MMIO:
        kputs(b"virtio-mmio at ")
        kput_hex(n.vdev.phys)
        kputs(b" GSI ")
        kput_udec(n.vdev.irq_line)
    else:
        kputs(b"PCI ")
        kput_udec((n.vdev.pci_address >> 8) & 0xFF)
        kputs(b":")
        kput_udec((n.vdev.pci_address >> 3) & 0x1F)
        kputs(b".")
        kput_udec(n.vdev.pci_address & 7)
        if n.vdev.msix:
            kputs(b" MSI-X")
        elif problem == NULL:
            kputs(b" INTx GSI ")
            kput_udec(n.vdev.irq_line)
    if problem != NULL:
        kputs(b": ")
        kputs(problem)
        kputs(b" (not used)\n")
        return
    kputs(b", vector ")
    kput_udec(<uint64_t>n.vector)
    kputs(b", MAC ")
    netdev_print_mac(n.dev.mac)
    kputs(b", queues ")
    kput_udec(n.rx.vq.size)
    kputs(b"/")
    kput_udec(n.tx.vq.size)
    if has_feature(n, VIRTIO_NET_F_GUEST_TSO4):
        kputs(b", receive offloads checksum+TSO")
    elif has_feature(n, VIRTIO_NET_F_GUEST_CSUM):
        kputs(b", receive offload checksum")
    if n.dev.tx_offloads & NETDEV_OFFLOAD_TSO4:
        kputs(b", transmit offloads checksum+TSO")
    elif n.dev.tx_offloads & NETDEV_OFFLOAD_CSUM:
        kputs(b", transmit offload checksum")
    kputs(b", link up\n" if n.link_up else b", link down\n")

cdef uint64_t negotiate(virtio_net *n) noexcept nogil:
    """Features, with the offloads where offered; GUEST_TSO4 only with GUEST_CSUM and
    MRG_RXBUF (our buffers are small) and a gather buffer, HOST_TSO4 only with CSUM
    (virtio 1.0 §5.1.3.1), else negotiated again without."""
    cdef uint64_t basic = (<uint64_t>1 << VIRTIO_NET_F_MAC) | (<uint64_t>1 << VIRTIO_NET_F_STATUS)
    cdef uint64_t csum = <uint64_t>1 << VIRTIO_NET_F_GUEST_CSUM
    cdef uint64_t tso = (<uint64_t>1 << VIRTIO_NET_F_GUEST_TSO4) | (<uint64_t>1 << VIRTIO_NET_F_MRG_RXBUF)
    cdef uint64_t tx_csum = <uint64_t>1 << VIRTIO_NET_F_CSUM
    cdef uint64_t tx_tso = <uint64_t>1 << VIRTIO_NET_F_HOST_TSO4
    cdef uint64_t wanted = basic | csum | tso | tx_csum | tx_tso
    cdef uint64_t got = virtio_negotiate(&n.vdev, 0, wanted)
    if got & tso and (got & (tso | csum) != (tso | csum) or n.merged.bytes == NULL):
        wanted &= ~tso
    if got & tx_tso and not got & tx_csum:
        wanted &= ~tx_tso
    if got != 0 and got & ~wanted & (tso | tx_tso):
        got = virtio_negotiate(&n.vdev, 0, wanted)
    return got

cdef bint bring_up(virtio_net *n, int slot) noexcept nogil:
    cdef uint16_t i
    n.merged.bytes = <uint8_t *>kmalloc(VIRTIO_NET_GSO_FRAME_MAX)   # NULL: no TSO, that is all
    n.features = negotiate(n)
    if not has_feature(n, VIRTIO_NET_F_GUEST_TSO4):
        kfree(n.merged.bytes)
        n.merged.bytes = NULL
    if n.features == 0:
        report(n, b"device refuses virtio 1.0 without offloads")
        return False
    n.frame_max = VIRTIO_NET_GSO_FRAME_MAX if has_feature(n, VIRTIO_NET_F_GUEST_TSO4) else VIRTIO_NET_FRAME_MAX
    n.vector = VECTOR_NETDEV_FIRST + slot
    n.dev.driver = n
    n.dev.mtu = ETH_DATA_LEN
    set_name(n, slot)
    n.dev.transmit = virtio_net_transmit
    read_mac(n, slot)
    devices[slot] = n                   # before the first interrupt can arrive
    if not n.vdev.irq_setup(&n.vdev, n.vector, virtio_net_irq):
        devices[slot] = NULL
        virtio_fail(&n.vdev)
        report(n, b"no interrupt (virtio-mmio: no I/O APIC line; PCI: no MSI-X and no known INTx route)")
        return False
    if not setup_queue(n, &n.rx, VIRTIO_NET_RX_QUEUE) or not setup_queue(n, &n.tx, VIRTIO_NET_TX_QUEUE):
        devices[slot] = NULL
        virtio_fail(&n.vdev)
        report(n, b"cannot set up its queues (out of memory, or the device refused)")
        return False
    virtqueue_disable_interrupts(&n.tx.vq)
    if has_feature(n, VIRTIO_NET_F_CSUM):
        n.dev.tx_offloads = NETDEV_OFFLOAD_CSUM
        # A frame of 64 KiB takes VIRTIO_NET_TX_CHAIN_MAX buffers: a shorter queue never fits one.
        if has_feature(n, VIRTIO_NET_F_HOST_TSO4) and n.tx.vq.size >= VIRTIO_NET_TX_CHAIN_MAX:
            n.dev.tx_offloads |= NETDEV_OFFLOAD_TSO4
    for i in range(n.rx.vq.size):
        post_receive(n, i)
    virtio_driver_ok(&n.vdev)
    read_link(n)
    return True

cdef int virtio_net_init() noexcept nogil:
    global device_count
    cdef virtio_device found[VIRTIO_NET_DEVICES_MAX]
    cdef int count, i
    cdef virtio_net *n
    cdef uint64_t flags
    count = virtio_mmio_find(VIRTIO_ID_NET, found, VIRTIO_NET_DEVICES_MAX)
    count += virtio_pci_find(VIRTIO_ID_NET, found + count, VIRTIO_NET_DEVICES_MAX - count)
    for i in range(count):
        n = <virtio_net *>kcalloc(1, sizeof(virtio_net))
        if n == NULL:
            kputs(b"tyn: virtio-net: out of memory\n")
            break
        n.vdev = found[i]
        flags = net_lock_acquire()      # the handler may run as soon as the device is live
        if not bring_up(n, device_count):
            net_lock_release(flags)
            continue
        netdev_register(&n.dev)
        report(n, NULL)
        if virtqueue_kick_prepare(&n.rx.vq):    # only after DRIVER_OK (§3.1.1)
            n.vdev.queue_notify(&n.vdev, VIRTIO_NET_RX_QUEUE)
        net_lock_release(flags)
        device_count += 1
    return device_count
