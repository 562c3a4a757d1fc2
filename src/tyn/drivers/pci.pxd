# PCI configuration space through the legacy I/O ports (configuration mechanism #1: pc and
# q35 both have it), BAR decoding, the capability list, and MSI-X.
#
# A function is addressed as a uint32_t: bus << 8 | device << 3 | function.
# Configuration space is shared by every CPU: pci_lock_* hold interrupts off around the
# two-step address/data access (a spinlock with SMP).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cdef enum:
    PCI_CONFIG_ADDRESS = 0xCF8
    PCI_CONFIG_DATA = 0xCFC
    PCI_CONFIG_ENABLE = 1 << 31
    # Configuration header (Linux's PCI_* names).
    PCI_VENDOR_ID = 0x00
    PCI_DEVICE_ID = 0x02
    PCI_COMMAND = 0x04
    PCI_STATUS = 0x06
    PCI_CLASS_REVISION = 0x08           # class << 8 | revision
    PCI_HEADER_TYPE = 0x0E
    PCI_BASE_ADDRESS_0 = 0x10
    PCI_SUBSYSTEM_ID = 0x2E
    PCI_CAPABILITY_LIST = 0x34
    PCI_INTERRUPT_LINE = 0x3C
    PCI_INTERRUPT_PIN = 0x3D            # 0: none, 1..4: INTA#..INTD#
    PCI_INTERRUPT_PINS = 4
    # INTx routing on QEMU's chipsets (see pci_intx_gsi).
    PCI_VENDOR_INTEL = 0x8086
    PIIX3_ISA_DEVICE = 1                # 00:01.0, the PIIX3 PCI-to-ISA bridge
    PIIX3_ISA_DEVICE_ID = 0x7000
    PIIX_PIRQRC = 0x60                  # PIRQ[A-D] route control, one byte each
    PIIX_PIRQRC_DISABLE = 0x80          # bit 7: not routed (QEMU's reset value)
    PIIX_PIRQRC_IRQ_MASK = 0x0F         # bits 0-3: the ISA IRQ
    PIIX_PIRQ_IRQ_AB = 10               # ISA IRQs given to unrouted PIRQs (A, B: 10; C, D:
    PIIX_PIRQ_IRQ_CD = 11               #   11; SeaBIOS's choice, level-triggered in QEMU's MADT)
    ICH9_LPC_DEVICE = 31                # 00:1f.0, the ICH9 LPC bridge
    ICH9_LPC_DEVICE_ID = 0x2918
    ICH9_PIRQ_GSI_BASE = 16             # QEMU wires PIRQ[A-H] to I/O APIC pins 16-23
    ICH9_PIRQ_E = 4                     # devices in slots 0-24 use PIRQ[E-H]
    ICH9_DEFAULT_ROUTED_SLOTS = 25      # slots 25-31 follow the chipset's D25IR..D31IR
    PCI_SECONDARY_BUS = 0x19            # bridges (header type 1)
    PCI_COMMAND_IO = 1 << 0
    PCI_COMMAND_MEMORY = 1 << 1
    PCI_COMMAND_MASTER = 1 << 2
    PCI_COMMAND_INTX_DISABLE = 1 << 10
    PCI_STATUS_CAP_LIST = 1 << 4
    PCI_HEADER_TYPE_MASK = 0x7F
    PCI_HEADER_TYPE_BRIDGE = 1
    PCI_HEADER_MULTI_FUNCTION = 0x80
    PCI_CLASS_BRIDGE_PCI = 0x0604
    PCI_VENDOR_NONE = 0xFFFF
    PCI_BASE_ADDRESS_SPACE_IO = 1
    PCI_BASE_ADDRESS_MEM_TYPE_MASK = 0x06
    PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04
    PCI_BASE_ADDRESS_MEM_MASK = 0xFFFFFFF0
    PCI_BASE_ADDRESS_IO_MASK = 0xFFFFFFFC
    PCI_STD_NUM_BARS = 6
    PCI_MAX_BUSES = 256
    PCI_MAX_DEVICES = 32
    PCI_MAX_FUNCTIONS = 8
    PCI_CAP_LIST_NEXT = 1
    PCI_CAP_ID_VNDR = 0x09
    PCI_CAP_ID_MSIX = 0x11
    PCI_CAP_WALK_LIMIT = 48             # a looping list ends here
    # MSI-X (PCI 3.0 §6.8.2)
    PCI_MSIX_FLAGS = 2                  # message control
    PCI_MSIX_FLAGS_QSIZE = 0x7FF        # table size - 1
    PCI_MSIX_FLAGS_MASKALL = 1 << 14
    PCI_MSIX_FLAGS_ENABLE = 1 << 15
    PCI_MSIX_TABLE = 4                  # BAR indicator (low 3 bits) | offset
    PCI_MSIX_TABLE_BIR = 0x7
    PCI_MSIX_ENTRY_SIZE = 16
    PCI_MSIX_ENTRY_LOWER_ADDR = 0
    PCI_MSIX_ENTRY_UPPER_ADDR = 4
    PCI_MSIX_ENTRY_DATA = 8
    PCI_MSIX_ENTRY_VECTOR_CTRL = 12
    PCI_MSIX_ENTRY_CTRL_MASKBIT = 1
    # Where memory BARs that firmware left unassigned go (qboot assigns none when it boots a
    # multiboot kernel): the top of QEMU's 32-bit PCI hole on pc and q35, above pc's largest
    # low RAM (3.5 GiB) and q35's MMCONFIG (0xB0000000..0xBFFFFFFF), below the I/O APIC.
    PCI_MMIO_WINDOW_BASE = 0xE0000000
    PCI_MMIO_WINDOW_END = 0xFEC00000
    MSI_ADDRESS_BASE = 0xFEE00000       # Intel SDM 11.11.1: to the local APIC
    MSI_ADDRESS_DEST_SHIFT = 12         # destination APIC ID (physical mode)

cdef struct pci_bar:
    uint64_t base                       # 0: unassigned
    uint64_t size
    bint io                             # an I/O port range (else memory)
    bint is64                           # takes two BAR registers

# The config-space locks; before any other pci_ call (kmain, before the drivers probe).
cdef extern void pci_init() noexcept nogil
cdef extern uint32_t pci_address(uint32_t bus, uint32_t device, uint32_t function) noexcept nogil
cdef extern uint32_t pci_read32(uint32_t addr, uint32_t offset) noexcept nogil
cdef extern uint16_t pci_read16(uint32_t addr, uint32_t offset) noexcept nogil
cdef extern uint8_t pci_read8(uint32_t addr, uint32_t offset) noexcept nogil
cdef extern void pci_write32(uint32_t addr, uint32_t offset, uint32_t v) noexcept nogil
cdef extern void pci_write16(uint32_t addr, uint32_t offset, uint16_t v) noexcept nogil
# Decode BAR `index` (base and size; sizing briefly turns decoding off).  False if the
# index is out of range or is the upper half of a 64-bit BAR.
cdef extern bint pci_bar_decode(uint32_t addr, int index, pci_bar *out) noexcept nogil
# Give an unassigned memory BAR (decoded into *bar) an address in the PCI MMIO window,
# after every BAR already assigned there; updates *bar.  False when it does not fit.
cdef extern bint pci_bar_assign(uint32_t addr, int index, pci_bar *bar) noexcept nogil
# Offset of the first capability with this ID after `after` (0: from the start), or 0.
cdef extern uint8_t pci_find_capability(uint32_t addr, uint8_t cap_id, uint8_t after) noexcept nogil
# Call visit(addr, ctx) for every function present, bus 0 and the buses behind bridges.
ctypedef void (*pci_visitor)(uint32_t addr, void *ctx) noexcept nogil
cdef extern void pci_enumerate(pci_visitor visit, void *ctx) noexcept nogil
# Point MSI-X table entry `entry` at `vector` on this CPU's local APIC, unmask it and
# enable MSI-X (INTx then stays quiet).  False if the function has no MSI-X or the entry
# does not exist.
cdef extern bint pci_msix_route(uint32_t addr, uint32_t entry, int vector) noexcept nogil
# The I/O APIC input (GSI) the function's INTx pin reaches, routing it through the chipset
# first if the firmware left it unrouted; -1 when unknown (no pin, not on bus 0, another
# chipset).  Facts from QEMU's boards: pc (PIIX3) swizzles slot s pin p (0 = INTA) to
# PIRQ (p + s - 1) & 3, whose route control byte names an ISA IRQ = the same GSI, level,
# active high (its MADT overrides); q35 (ICH9) sends slots 0-24 to PIRQ 4 + (s + p) % 4,
# wired to GSI 16 + PIRQ whatever the route control says (ich9_lpc_set_irq).  Then
# clears the function's INTx-disable bit.
cdef extern int pci_intx_gsi(uint32_t addr) noexcept nogil
