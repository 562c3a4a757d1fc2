# PCI configuration space, BARs, capabilities, MSI-X (see pci.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport outl, inl, cpuid, mmio_write32, mmio_read32
from tyn.mm.paging cimport paging_map_mmio
from tyn.lib.spinlock cimport (spinlock, spinlock_init, spinlock_acquire, spinlock_release,
    SPINLOCK_RANK_PCI_WINDOW, SPINLOCK_RANK_PCI_CONFIG)

cdef enum:
    DWORD_MASK = 0xFC
    ALL_ONES = 0xFFFFFFFF
    CPUID_APIC_ID_SHIFT = 24            # CPUID.1:EBX[31:24], the initial APIC ID

# pci_config_lock (rank SPINLOCK_RANK_PCI_CONFIG, a leaf): the port pair CF8/CFC is one
# access in two steps (address, then data), so no other CPU may come between them.
# Drivers probe holding their own locks (net), which all rank below it.
cdef spinlock pci_config_lock
# pci_window_lock (rank SPINLOCK_RANK_PCI_WINDOW): mmio_next, the window's next free address.
cdef spinlock pci_window_lock

cdef void pci_init() noexcept nogil:
    spinlock_init(&pci_config_lock, b"pci_config", SPINLOCK_RANK_PCI_CONFIG)
    spinlock_init(&pci_window_lock, b"pci_window", SPINLOCK_RANK_PCI_WINDOW)

cdef uint32_t pci_address(uint32_t bus, uint32_t device, uint32_t function) noexcept nogil:
    return (bus << 8) | (device << 3) | function

cdef uint32_t pci_read32(uint32_t addr, uint32_t offset) noexcept nogil:
    cdef uint64_t flags = spinlock_acquire(&pci_config_lock)
    cdef uint32_t v
    outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | (addr << 8) | (offset & DWORD_MASK))
    v = inl(PCI_CONFIG_DATA)
    spinlock_release(&pci_config_lock, flags)
    return v

cdef uint16_t pci_read16(uint32_t addr, uint32_t offset) noexcept nogil:
    return <uint16_t>(pci_read32(addr, offset) >> ((offset & 2) * 8))

cdef uint8_t pci_read8(uint32_t addr, uint32_t offset) noexcept nogil:
    return <uint8_t>(pci_read32(addr, offset) >> ((offset & 3) * 8))

cdef void pci_write32(uint32_t addr, uint32_t offset, uint32_t v) noexcept nogil:
    cdef uint64_t flags = spinlock_acquire(&pci_config_lock)
    outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | (addr << 8) | (offset & DWORD_MASK))
    outl(PCI_CONFIG_DATA, v)
    spinlock_release(&pci_config_lock, flags)

cdef void pci_write16(uint32_t addr, uint32_t offset, uint16_t v) noexcept nogil:
    cdef uint32_t shift = (offset & 2) * 8
    cdef uint32_t old = pci_read32(addr, offset)
    if offset & DWORD_MASK == PCI_COMMAND:
        old &= 0x0000FFFF                # the status half is write-one-to-clear: write zeros
    pci_write32(addr, offset, (old & ~(<uint32_t>0xFFFF << shift)) | (<uint32_t>v << shift))

cdef bint pci_bar_decode(uint32_t addr, int index, pci_bar *out) noexcept nogil:
    cdef uint32_t reg, low, high = 0, size_low, size_high = ALL_ONES
    cdef uint16_t command
    cdef uint64_t mask
    if index < 0 or index >= PCI_STD_NUM_BARS:
        return False
    reg = PCI_BASE_ADDRESS_0 + 4 * index
    low = pci_read32(addr, reg)
    out.io = (low & PCI_BASE_ADDRESS_SPACE_IO) != 0
    out.is64 = not out.io and (low & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64
    if out.is64:
        if index + 1 >= PCI_STD_NUM_BARS:
            return False
        high = pci_read32(addr, reg + 4)
    # Size: write all ones, read back the writable bits, restore; decoding off meanwhile.
    command = pci_read16(addr, PCI_COMMAND)
    pci_write16(addr, PCI_COMMAND, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
    pci_write32(addr, reg, ALL_ONES)
    size_low = pci_read32(addr, reg)
    pci_write32(addr, reg, low)
    if out.is64:
        pci_write32(addr, reg + 4, ALL_ONES)
        size_high = pci_read32(addr, reg + 4)
        pci_write32(addr, reg + 4, high)
    pci_write16(addr, PCI_COMMAND, command)
    if out.io:
        out.base = low & PCI_BASE_ADDRESS_IO_MASK
        mask = (size_low & PCI_BASE_ADDRESS_IO_MASK) | (<uint64_t>ALL_ONES << 32)
    else:
        out.base = (low & PCI_BASE_ADDRESS_MEM_MASK) | (<uint64_t>high << 32)
        mask = (size_low & PCI_BASE_ADDRESS_MEM_MASK) | (<uint64_t>size_high << 32)
    out.size = (~mask + 1) if mask != 0 else 0
    return True

cdef uint64_t mmio_next                 # the next free address in the window; 0: not yet scanned (pci_window_lock)

cdef void note_assigned(uint32_t addr, void *ctx) noexcept nogil:
    """Move mmio_next past the function's memory BARs that firmware put in the window."""
    global mmio_next
    cdef pci_bar bar
    cdef int i = 0
    if pci_read8(addr, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK != 0:
        return                          # bridges: their windows are the firmware's business
    while i < PCI_STD_NUM_BARS:
        if not pci_bar_decode(addr, i, &bar):
            break                       # the upper half of a 64-bit BAR at the end
        if not bar.io and bar.base != 0 \
                and PCI_MMIO_WINDOW_BASE <= bar.base < PCI_MMIO_WINDOW_END \
                and bar.base + bar.size > mmio_next:
            mmio_next = bar.base + bar.size
        i += 2 if bar.is64 else 1

cdef bint pci_bar_assign(uint32_t addr, int index, pci_bar *bar) noexcept nogil:
    global mmio_next
    cdef uint64_t base, flags
    cdef uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * index
    cdef uint32_t low
    if bar.io or bar.size == 0 or bar.size & (bar.size - 1):
        return False
    flags = spinlock_acquire(&pci_window_lock)
    if mmio_next == 0:
        mmio_next = PCI_MMIO_WINDOW_BASE
        pci_enumerate(note_assigned, NULL)
    base = (mmio_next + bar.size - 1) & ~(bar.size - 1)     # BARs are aligned to their size
    if base + bar.size > PCI_MMIO_WINDOW_END:
        spinlock_release(&pci_window_lock, flags)
        return False
    low = pci_read32(addr, reg) & ~(<uint32_t>PCI_BASE_ADDRESS_MEM_MASK)   # keep the type bits
    pci_write32(addr, reg, low | <uint32_t>base)
    if bar.is64:
        pci_write32(addr, reg + 4, 0)
    mmio_next = base + bar.size
    spinlock_release(&pci_window_lock, flags)
    bar.base = base
    return True

cdef uint8_t pci_find_capability(uint32_t addr, uint8_t cap_id, uint8_t after) noexcept nogil:
    cdef uint8_t at
    cdef int steps
    if pci_read16(addr, PCI_STATUS) & PCI_STATUS_CAP_LIST == 0:
        return 0
    at = pci_read8(addr, PCI_CAPABILITY_LIST) if after == 0 else pci_read8(addr, after + PCI_CAP_LIST_NEXT)
    for steps in range(PCI_CAP_WALK_LIMIT):
        at &= DWORD_MASK
        if at == 0:
            return 0
        if pci_read8(addr, at) == cap_id:
            return at
        at = pci_read8(addr, at + PCI_CAP_LIST_NEXT)
    return 0

cdef void visit_bus(uint32_t bus, pci_visitor visit, void *ctx, int depth) noexcept nogil:
    cdef uint32_t dev, fn, addr, functions
    cdef uint8_t header, secondary
    for dev in range(PCI_MAX_DEVICES):
        if pci_read16(pci_address(bus, dev, 0), PCI_VENDOR_ID) == PCI_VENDOR_NONE:
            continue
        functions = PCI_MAX_FUNCTIONS if pci_read8(pci_address(bus, dev, 0), PCI_HEADER_TYPE) \
            & PCI_HEADER_MULTI_FUNCTION else 1
        for fn in range(functions):
            addr = pci_address(bus, dev, fn)
            if pci_read16(addr, PCI_VENDOR_ID) == PCI_VENDOR_NONE:
                continue
            visit(addr, ctx)
            header = pci_read8(addr, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK
            if header == PCI_HEADER_TYPE_BRIDGE and (pci_read32(addr, PCI_CLASS_REVISION) >> 16) \
                    == PCI_CLASS_BRIDGE_PCI:
                secondary = pci_read8(addr, PCI_SECONDARY_BUS)
                # A bus number not above ours would loop; the depth bounds a broken tree.
                if secondary > bus and depth < PCI_MAX_BUSES:
                    visit_bus(secondary, visit, ctx, depth + 1)

cdef void pci_enumerate(pci_visitor visit, void *ctx) noexcept nogil:
    visit_bus(0, visit, ctx, 0)

cdef bint pci_msix_route(uint32_t addr, uint32_t entry, int vector) noexcept nogil:
    cdef uint8_t cap = pci_find_capability(addr, PCI_CAP_ID_MSIX, 0)
    cdef uint16_t control
    cdef uint32_t table
    cdef uint32_t apic[4]
    cdef pci_bar bar
    cdef uint64_t entry_va
    if cap == 0:
        return False
    control = pci_read16(addr, cap + PCI_MSIX_FLAGS)
    if entry > (control & PCI_MSIX_FLAGS_QSIZE):
        return False
    table = pci_read32(addr, cap + PCI_MSIX_TABLE)
    if not pci_bar_decode(addr, table & PCI_MSIX_TABLE_BIR, &bar) or bar.io:
        return False
    if bar.base == 0 and not pci_bar_assign(addr, table & PCI_MSIX_TABLE_BIR, &bar):
        return False
    entry_va = paging_map_mmio(bar.base + (table & ~(<uint32_t>PCI_MSIX_TABLE_BIR))
                               + entry * PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_SIZE)
    if entry_va == 0:
        return False
    pci_write16(addr, PCI_COMMAND, pci_read16(addr, PCI_COMMAND) | PCI_COMMAND_MEMORY)
    # Enable with every vector masked, program the entry, then unmask it (PCI 3.0 §6.8.2.9).
    pci_write16(addr, cap + PCI_MSIX_FLAGS, control | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL)
    cpuid(1, 0, apic)
    mmio_write32(entry_va + PCI_MSIX_ENTRY_LOWER_ADDR,
                 MSI_ADDRESS_BASE | ((apic[1] >> CPUID_APIC_ID_SHIFT) << MSI_ADDRESS_DEST_SHIFT))
    mmio_write32(entry_va + PCI_MSIX_ENTRY_UPPER_ADDR, 0)
    mmio_write32(entry_va + PCI_MSIX_ENTRY_DATA, <uint32_t>vector)     # fixed, edge
    mmio_write32(entry_va + PCI_MSIX_ENTRY_VECTOR_CTRL, 0)
    pci_write16(addr, cap + PCI_MSIX_FLAGS, (control | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL)
    return True


# ------------------------------------------------------------------ INTx

cdef bint is_device(uint32_t addr, uint16_t device_id) noexcept nogil:
    return (pci_read16(addr, PCI_VENDOR_ID) == PCI_VENDOR_INTEL
            and pci_read16(addr, PCI_DEVICE_ID) == device_id)

cdef int piix3_route(uint32_t bridge, uint32_t pirq) noexcept nogil:
    # The ISA IRQ PIRQ pirq is routed to, routing it first when the firmware did not.
    cdef uint32_t routes = pci_read32(bridge, PIIX_PIRQRC)
    cdef uint32_t shift = 8 * pirq
    cdef uint32_t rc = (routes >> shift) & 0xFF
    if rc & PIIX_PIRQRC_DISABLE:
        rc = PIIX_PIRQ_IRQ_AB if pirq < 2 else PIIX_PIRQ_IRQ_CD
        pci_write32(bridge, PIIX_PIRQRC, (routes & ~(<uint32_t>0xFF << shift)) | (rc << shift))
    return <int>(rc & PIIX_PIRQRC_IRQ_MASK)

cdef int pci_intx_gsi(uint32_t addr) noexcept nogil:
    cdef uint32_t pin = pci_read8(addr, PCI_INTERRUPT_PIN)
    cdef uint32_t bus = addr >> 8
    cdef uint32_t slot = (addr >> 3) & (PCI_MAX_DEVICES - 1)
    cdef uint32_t piix = pci_address(0, PIIX3_ISA_DEVICE, 0)
    cdef uint32_t lpc = pci_address(0, ICH9_LPC_DEVICE, 0)
    cdef int gsi = -1
    if pin == 0 or pin > PCI_INTERRUPT_PINS or bus != 0:
        return -1
    pin -= 1                                    # INTA# = 0
    if is_device(lpc, ICH9_LPC_DEVICE_ID):
        if slot < ICH9_DEFAULT_ROUTED_SLOTS:
            gsi = ICH9_PIRQ_GSI_BASE + ICH9_PIRQ_E + <int>((slot + pin) % PCI_INTERRUPT_PINS)
    elif is_device(piix, PIIX3_ISA_DEVICE_ID) and slot >= 1:
        gsi = piix3_route(piix, (pin + slot - 1) % PCI_INTERRUPT_PINS)
    if gsi >= 0:
        pci_write16(addr, PCI_COMMAND, pci_read16(addr, PCI_COMMAND) & ~(<uint16_t>PCI_COMMAND_INTX_DISABLE))
    return gsi
