# The virtio PCI transport (see virtio_pci.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport (mmio_read8, mmio_write8, mmio_read16, mmio_write16, mmio_read32,
                           mmio_write32, memset)
from tyn.arch.trap cimport trap_handler, trap_set_handler
from tyn.drivers.pci cimport *
from tyn.drivers.ioapic cimport ioapic_route_level
from tyn.drivers.virtio cimport (virtio_device, VIRTIO_TRANSPORT_PCI, VIRTIO_MSI_NO_VECTOR,
                                 VIRTIO_ISR_QUEUE, VIRTIO_QUEUES_MAX)
from tyn.lib.kprint cimport kputs, kput_hex
from tyn.mm.paging cimport paging_map_mmio

cdef enum:
    RESET_POLL_LIMIT = 1000000
    PCI_INTERRUPT_LINE_NONE = 0xFF      # firmware routed no line

cdef inline uint64_t common(virtio_device *d, uint32_t offset) noexcept nogil:
    return d.regs + offset

cdef void pci_reset(virtio_device *d) noexcept nogil:
    cdef int spins = 0
    mmio_write8(common(d, VIRTIO_PCI_COMMON_STATUS), 0)
    while mmio_read8(common(d, VIRTIO_PCI_COMMON_STATUS)) != 0 and spins < RESET_POLL_LIMIT:
        spins += 1

cdef uint8_t pci_get_status(virtio_device *d) noexcept nogil:
    return mmio_read8(common(d, VIRTIO_PCI_COMMON_STATUS))

cdef void pci_set_status(virtio_device *d, uint8_t status) noexcept nogil:
    mmio_write8(common(d, VIRTIO_PCI_COMMON_STATUS), status)

cdef uint64_t pci_get_features(virtio_device *d) noexcept nogil:
    cdef uint64_t low, high
    mmio_write32(common(d, VIRTIO_PCI_COMMON_DFSELECT), 0)
    low = mmio_read32(common(d, VIRTIO_PCI_COMMON_DF))
    mmio_write32(common(d, VIRTIO_PCI_COMMON_DFSELECT), 1)
    high = mmio_read32(common(d, VIRTIO_PCI_COMMON_DF))
    return low | (high << 32)

cdef void pci_set_features(virtio_device *d, uint64_t features) noexcept nogil:
    mmio_write32(common(d, VIRTIO_PCI_COMMON_GFSELECT), 0)
    mmio_write32(common(d, VIRTIO_PCI_COMMON_GF), <uint32_t>features)
    mmio_write32(common(d, VIRTIO_PCI_COMMON_GFSELECT), 1)
    mmio_write32(common(d, VIRTIO_PCI_COMMON_GF), <uint32_t>(features >> 32))

cdef uint8_t pci_config_read8(virtio_device *d, uint32_t offset) noexcept nogil:
    return mmio_read8(d.device_config + offset)

cdef uint16_t pci_queue_max(virtio_device *d, uint16_t index) noexcept nogil:
    if index >= VIRTIO_QUEUES_MAX or index >= mmio_read16(common(d, VIRTIO_PCI_COMMON_NUMQ)):
        return 0
    mmio_write16(common(d, VIRTIO_PCI_COMMON_Q_SELECT), index)
    if mmio_read16(common(d, VIRTIO_PCI_COMMON_Q_ENABLE)) != 0:
        return 0
    return mmio_read16(common(d, VIRTIO_PCI_COMMON_Q_SIZE))

cdef void write64(virtio_device *d, uint32_t low_offset, uint64_t v) noexcept nogil:
    mmio_write32(common(d, low_offset), <uint32_t>v)
    mmio_write32(common(d, low_offset + 4), <uint32_t>(v >> 32))

cdef bint pci_queue_setup(virtio_device *d, uint16_t index, uint16_t size, uint64_t desc,
                          uint64_t avail, uint64_t used) noexcept nogil:
    cdef uint16_t notify_off
    mmio_write16(common(d, VIRTIO_PCI_COMMON_Q_SELECT), index)
    mmio_write16(common(d, VIRTIO_PCI_COMMON_Q_SIZE), size)
    write64(d, VIRTIO_PCI_COMMON_Q_DESCLO, desc)
    write64(d, VIRTIO_PCI_COMMON_Q_AVAILLO, avail)
    write64(d, VIRTIO_PCI_COMMON_Q_USEDLO, used)
    if d.msix:
        mmio_write16(common(d, VIRTIO_PCI_COMMON_Q_MSIX), VIRTIO_PCI_MSIX_ENTRY)
        if mmio_read16(common(d, VIRTIO_PCI_COMMON_Q_MSIX)) != VIRTIO_PCI_MSIX_ENTRY:
            return False                # the device could not take the vector
    notify_off = mmio_read16(common(d, VIRTIO_PCI_COMMON_Q_NOFF))
    d.notify_addr[index] = d.notify + <uint64_t>notify_off * d.notify_multiplier
    mmio_write16(common(d, VIRTIO_PCI_COMMON_Q_ENABLE), 1)
    return True

cdef void pci_queue_notify(virtio_device *d, uint16_t index) noexcept nogil:
    mmio_write16(d.notify_addr[index], index)

cdef bint pci_irq_setup(virtio_device *d, int vector, trap_handler handler) noexcept nogil:
    # MSI-X when the device has it; else INTx, level-triggered through the I/O APIC, with
    # the chipset's PIRQ routing done by pci_intx_gsi (qboot leaves it off when it boots a
    # multiboot kernel, and the firmware's Interrupt Line says nothing then).
    cdef int gsi
    trap_set_handler(vector, handler)
    if pci_msix_route(d.pci_address, VIRTIO_PCI_MSIX_ENTRY, vector):
        d.msix = True
        mmio_write16(common(d, VIRTIO_PCI_COMMON_MSIX), VIRTIO_MSI_NO_VECTOR)  # no config interrupts
        return True
    gsi = pci_intx_gsi(d.pci_address)
    if gsi >= 0 and ioapic_route_level(<uint32_t>gsi, vector):
        d.msix = False
        d.irq_line = <uint32_t>gsi
        return True
    trap_set_handler(vector, NULL)
    return False

cdef uint32_t pci_irq_ack(virtio_device *d) noexcept nogil:
    # MSI-X: the vector says it all.  INTx: reading the ISR byte tells why and lowers the line.
    if d.msix:
        return VIRTIO_ISR_QUEUE
    return mmio_read8(d.isr)

# ------------------------------------------------------------------ discovery

cdef struct find_state:
    uint32_t device_id
    virtio_device *out
    int max
    int found

cdef uint64_t map_capability(uint32_t addr, uint8_t cap, uint32_t min_length) noexcept nogil:
    """Map the BAR window a virtio capability describes; 0 if unusable."""
    cdef pci_bar bar
    cdef uint8_t index = pci_read8(addr, cap + VIRTIO_PCI_CAP_BAR)
    cdef uint32_t offset = pci_read32(addr, cap + VIRTIO_PCI_CAP_OFFSET)
    cdef uint32_t length = pci_read32(addr, cap + VIRTIO_PCI_CAP_LENGTH)
    if length < min_length or not pci_bar_decode(addr, index, &bar) or bar.io:
        return 0
    if bar.base == 0 and not pci_bar_assign(addr, index, &bar):
        return 0
    if <uint64_t>offset + length > bar.size:
        return 0
    return paging_map_mmio(bar.base + offset, length)

cdef bint attach(uint32_t addr, virtio_device *d) noexcept nogil:
    """Find and map the four modern capabilities; fill d.  False if any is missing."""
    cdef uint8_t cap = 0, kind
    memset(d, 0, sizeof(virtio_device))
    while True:
        cap = pci_find_capability(addr, PCI_CAP_ID_VNDR, cap)
        if cap == 0:
            break
        kind = pci_read8(addr, cap + VIRTIO_PCI_CAP_CFG_TYPE)
        if kind == VIRTIO_PCI_CAP_COMMON_CFG and d.regs == 0:
            d.regs = map_capability(addr, cap, VIRTIO_PCI_COMMON_CFG_BYTES)
        elif kind == VIRTIO_PCI_CAP_NOTIFY_CFG and d.notify == 0:
            d.notify_multiplier = pci_read32(addr, cap + VIRTIO_PCI_NOTIFY_CAP_MULT)
            d.notify = map_capability(addr, cap, 2)
        elif kind == VIRTIO_PCI_CAP_ISR_CFG and d.isr == 0:
            d.isr = map_capability(addr, cap, 1)
        elif kind == VIRTIO_PCI_CAP_DEVICE_CFG and d.device_config == 0:
            d.device_config = map_capability(addr, cap, 1)
    if d.regs == 0 or d.notify == 0 or d.isr == 0 or d.device_config == 0:
        return False
    # Memory decoding for the registers, bus mastering for the rings' DMA.
    pci_write16(addr, PCI_COMMAND, pci_read16(addr, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
    d.pci_address = addr
    d.phys = addr
    d.transport = VIRTIO_TRANSPORT_PCI
    d.reset = pci_reset
    d.get_status = pci_get_status
    d.set_status = pci_set_status
    d.get_features = pci_get_features
    d.set_features = pci_set_features
    d.config_read8 = pci_config_read8
    d.queue_max = pci_queue_max
    d.queue_setup = pci_queue_setup
    d.queue_notify = pci_queue_notify
    d.irq_setup = pci_irq_setup
    d.irq_ack = pci_irq_ack
    return True

cdef uint32_t virtio_id_of(uint32_t addr) noexcept nogil:
    """The virtio device ID of a virtio PCI function, or 0."""
    cdef uint16_t device
    if pci_read16(addr, PCI_VENDOR_ID) != PCI_VENDOR_ID_REDHAT_QUMRANET:
        return 0
    device = pci_read16(addr, PCI_DEVICE_ID)
    if VIRTIO_PCI_MODERN_DEVICE_BASE <= device <= VIRTIO_PCI_MODERN_DEVICE_LAST:
        return device - VIRTIO_PCI_MODERN_DEVICE_BASE
    if VIRTIO_PCI_TRANSITIONAL_FIRST <= device <= VIRTIO_PCI_TRANSITIONAL_LAST:
        return pci_read16(addr, PCI_SUBSYSTEM_ID)
    return 0

cdef void consider(uint32_t addr, void *ctx) noexcept nogil:
    cdef find_state *st = <find_state *>ctx
    if st.found >= st.max or virtio_id_of(addr) != st.device_id:
        return
    if attach(addr, &st.out[st.found]):
        st.found += 1
    else:
        kputs(b"tyn: virtio PCI function ")
        kput_hex(addr)
        kputs(b" has no modern (virtio 1.0) interface (ignored)\n")

cdef int virtio_pci_find(uint32_t device_id, virtio_device *out, int max) noexcept nogil:
    cdef find_state st
    st.device_id = device_id
    st.out = out
    st.max = max
    st.found = 0
    pci_enumerate(consider, &st)
    return st.found
