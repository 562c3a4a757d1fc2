# ACPI tables, as far as finding the CPUs and I/O APICs (the MADT) needs them.
#
# Parsers work on table bytes (host-tested on tables the tests build); the search walks
# physical memory through a map function the caller supplies (the kernel: the direct map).
# Malformed tables (bad signature, checksum, length, entry) are refused with an error code,
# never trusted past their checked length.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from tyn.arch.percpu cimport NR_CPUS

cdef enum:
    ACPI_OK = 0
    ACPI_ERR_TRUNCATED = -1         # shorter than its header or its own length says
    ACPI_ERR_CHECKSUM = -2
    ACPI_ERR_SIGNATURE = -3
    ACPI_ERR_BAD_ENTRY = -4         # a MADT entry with a bad length
    ACPI_ERR_NOT_FOUND = -5         # no RSDP, or no MADT in the root table
    ACPI_ERR_UNMAPPED = -6          # the map function could not reach a table

    # ACPI 6.5 sections 5.2.5 (RSDP), 5.2.6 (system description table header), 5.2.12 (MADT).
    ACPI_RSDP_V1_LENGTH = 20
    ACPI_RSDP_V2_LENGTH = 36
    ACPI_RSDP_REVISION_2 = 2
    ACPI_RSDP_ALIGN = 16
    ACPI_SDT_HEADER_LENGTH = 36
    ACPI_MADT_ENTRIES_OFFSET = 44
    ACPI_TABLE_MAX_LENGTH = 0x100000    # refuse anything claiming more (1 MiB)
    ACPI_MADT_LOCAL_APIC = 0
    ACPI_MADT_IO_APIC = 1
    ACPI_MADT_INTERRUPT_OVERRIDE = 2
    ACPI_MADT_LOCAL_APIC_OVERRIDE = 5
    ACPI_MADT_LOCAL_X2APIC = 9
    ACPI_MADT_ENABLED = 1 << 0
    ACPI_MADT_ONLINE_CAPABLE = 1 << 1
    ACPI_MAX_IOAPICS = 8
    # Where the RSDP may be (ACPI 6.5 5.2.5.1): the first KiB of the EBDA, whose real-mode
    # segment is the 16-bit word at 0x40E, and the BIOS area 0xE0000..0xFFFFF.
    BDA_EBDA_SEGMENT = 0x40E
    EBDA_SEARCH_LENGTH = 1024
    EBDA_LOWEST = 0x80000
    EBDA_END = 0xA0000
    BIOS_AREA_BASE = 0xE0000
    BIOS_AREA_LENGTH = 0x20000

cdef struct acpi_rsdp:
    uint8_t revision
    uint64_t rsdt_address
    uint64_t xsdt_address           # 0 before ACPI 2.0

cdef struct acpi_cpu:
    uint32_t apic_id
    uint32_t uid                    # the ACPI processor UID

cdef struct acpi_ioapic:
    uint32_t id
    uint64_t address
    uint32_t gsi_base

cdef struct acpi_madt_info:
    uint64_t lapic_address
    uint32_t flags
    uint32_t cpus_listed            # processor entries, enabled or not
    uint32_t cpu_count              # enabled ones kept in cpus[] (at most NR_CPUS)
    uint32_t cpus_dropped           # enabled ones beyond NR_CPUS
    acpi_cpu cpus[NR_CPUS]
    uint32_t ioapic_count
    acpi_ioapic ioapics[ACPI_MAX_IOAPICS]
    uint32_t overrides              # interrupt source overrides (not used yet)

# Physical memory for the search: a pointer to `length` readable bytes at `phys`, or NULL.
ctypedef const uint8_t *(*acpi_map_fn)(uint64_t phys, uint64_t length) noexcept nogil

# An RSDP at p (avail bytes readable): ACPI_OK and *out, or an error.
cdef extern int acpi_rsdp_parse(const uint8_t *p, uint64_t avail, acpi_rsdp *out) noexcept nogil
# A table with this 4-character signature at p: its length (>= the header), or an error.
cdef extern int64_t acpi_table_check(const uint8_t *p, uint64_t avail, const char *signature) noexcept nogil
# The CPUs and I/O APICs a MADT (checked as above) lists.
cdef extern int acpi_madt_parse(const uint8_t *p, uint64_t avail, acpi_madt_info *out) noexcept nogil
# Search for the RSDP, walk the XSDT (or RSDT) to the MADT and parse it.
cdef extern int acpi_find_madt(acpi_map_fn map, acpi_madt_info *out) noexcept nogil
cdef extern const char *acpi_error_name(int error) noexcept nogil
