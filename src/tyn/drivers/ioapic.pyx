# The I/O APIC (see ioapic.pxd): one CPU, so every line goes to the boot CPU's APIC ID.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport mmio_read32, mmio_write32, cpuid

cdef uint64_t base
cdef uint32_t entries

cdef uint32_t read_reg(uint32_t reg) noexcept nogil:
    mmio_write32(base + IOAPIC_REGSEL, reg)
    return mmio_read32(base + IOAPIC_WINDOW)

cdef void write_reg(uint32_t reg, uint32_t v) noexcept nogil:
    mmio_write32(base + IOAPIC_REGSEL, reg)
    mmio_write32(base + IOAPIC_WINDOW, v)

cdef bint ioapic_init(uint64_t mmio) noexcept nogil:
    global base, entries
    cdef uint32_t ver
    base = mmio
    ver = read_reg(IOAPIC_REG_VER)
    if (ver & 0xFF) == IOAPIC_ABSENT_VERSION:
        base = 0
        return False
    entries = ((ver >> 16) & 0xFF) + 1
    return True

cdef bint route(uint32_t gsi, uint32_t low) noexcept nogil:
    cdef uint32_t r[4]
    if base == 0 or gsi >= entries:
        return False
    cpuid(1, 0, r)                      # EBX bits 24..31: this CPU's initial APIC ID
    write_reg(IOAPIC_REG_REDTBL + 2 * gsi + 1, (r[1] >> 24) << IOAPIC_DEST_SHIFT)
    write_reg(IOAPIC_REG_REDTBL + 2 * gsi, low)     # fixed, physical, active high, unmasked
    return True

cdef bint ioapic_route(uint32_t gsi, int vector) noexcept nogil:
    return route(gsi, <uint32_t>vector)

cdef bint ioapic_route_level(uint32_t gsi, int vector) noexcept nogil:
    return route(gsi, <uint32_t>vector | IOAPIC_REDIR_LEVEL)
