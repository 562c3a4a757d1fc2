# The I/O APIC: routes device interrupt lines (GSIs) to local APIC vectors.  QEMU's
# microvm and pc machines have one at the standard address, ISA IRQs on the same GSIs.
from libc.stdint cimport uint32_t, uint64_t

cdef enum:
    IOAPIC_PHYS_BASE = 0xFEC00000
    IOAPIC_REGSEL = 0x00            # index register
    IOAPIC_WINDOW = 0x10            # data register
    IOAPIC_REG_VER = 0x01           # bits 16..23: highest redirection entry
    IOAPIC_REG_REDTBL = 0x10        # entry n: registers 0x10 + 2n (low), + 1 (high)
    IOAPIC_REDIR_MASKED = 1 << 16
    IOAPIC_REDIR_LEVEL = 1 << 15    # level-triggered (else edge); remote IRR until EOI
    IOAPIC_DEST_SHIFT = 24          # in the high word: physical APIC ID
    IOAPIC_ABSENT_VERSION = 0xFF    # a bus with nothing there reads all ones

# Map the I/O APIC (mmio: its page, mapped by the caller); False if none answers.
cdef extern bint ioapic_init(uint64_t mmio) noexcept nogil
# Deliver GSI gsi (edge-triggered, active high: ISA) as vector to the boot CPU.
cdef extern bint ioapic_route(uint32_t gsi, int vector) noexcept nogil
# The same, level-triggered and active high (virtio-mmio and PCI INTx lines: the device
# holds the line until acknowledged; a line still high after the EOI is delivered again).
cdef extern bint ioapic_route_level(uint32_t gsi, int vector) noexcept nogil
