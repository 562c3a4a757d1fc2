# ACPI: RSDP search, RSDT/XSDT walk, MADT parse (see acpi.pxd).
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memset, memcmp

cdef enum:
    RSDP_CHECKSUM_OFFSET = 8
    RSDP_REVISION_OFFSET = 15
    RSDP_RSDT_OFFSET = 16
    RSDP_LENGTH_OFFSET = 20
    RSDP_XSDT_OFFSET = 24
    SDT_LENGTH_OFFSET = 4
    MADT_LAPIC_ADDRESS_OFFSET = 36
    MADT_FLAGS_OFFSET = 40
    ENTRY_HEADER_LENGTH = 2
    LOCAL_APIC_LENGTH = 8
    IO_APIC_LENGTH = 12
    LOCAL_APIC_OVERRIDE_LENGTH = 12
    LOCAL_X2APIC_LENGTH = 16
    RSDT_ENTRY_SIZE = 4
    XSDT_ENTRY_SIZE = 8

cdef inline uint32_t le16(const uint8_t *p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8)

cdef inline uint32_t le32(const uint8_t *p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)

cdef inline uint64_t le64(const uint8_t *p) noexcept nogil:
    return le32(p) | (<uint64_t>le32(p + 4) << 32)

cdef uint8_t checksum(const uint8_t *p, uint64_t length) noexcept nogil:
    cdef uint8_t sum = 0
    cdef uint64_t i
    for i in range(length):
        sum += p[i]
    return sum

cdef int acpi_rsdp_parse(const uint8_t *p, uint64_t avail, acpi_rsdp *out) noexcept nogil:
    cdef uint32_t length
    if avail < ACPI_RSDP_V1_LENGTH:
        return ACPI_ERR_TRUNCATED
    if memcmp(p, b"RSD PTR ", 8) != 0:
        return ACPI_ERR_SIGNATURE
    if checksum(p, ACPI_RSDP_V1_LENGTH) != 0:
        return ACPI_ERR_CHECKSUM
    out.revision = p[RSDP_REVISION_OFFSET]
    out.rsdt_address = le32(p + RSDP_RSDT_OFFSET)
    out.xsdt_address = 0
    if out.revision >= ACPI_RSDP_REVISION_2:
        if avail < ACPI_RSDP_V2_LENGTH:
            return ACPI_ERR_TRUNCATED
        length = le32(p + RSDP_LENGTH_OFFSET)
        if length < ACPI_RSDP_V2_LENGTH or length > avail:
            return ACPI_ERR_TRUNCATED
        if checksum(p, length) != 0:
            return ACPI_ERR_CHECKSUM
        out.xsdt_address = le64(p + RSDP_XSDT_OFFSET)
    return ACPI_OK

cdef int64_t acpi_table_check(const uint8_t *p, uint64_t avail, const char *signature) noexcept nogil:
    cdef uint32_t length
    if avail < ACPI_SDT_HEADER_LENGTH:
        return ACPI_ERR_TRUNCATED
    if signature != NULL and memcmp(p, signature, 4) != 0:
        return ACPI_ERR_SIGNATURE
    length = le32(p + SDT_LENGTH_OFFSET)
    if length < ACPI_SDT_HEADER_LENGTH or length > avail:
        return ACPI_ERR_TRUNCATED
    if checksum(p, length) != 0:
        return ACPI_ERR_CHECKSUM
    return length

cdef void add_cpu(acpi_madt_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags) noexcept nogil:
    cdef uint32_t i
    out.cpus_listed += 1
    if not (flags & ACPI_MADT_ENABLED):
        return                          # absent, or hot-pluggable later (online capable)
    for i in range(out.cpu_count):
        if out.cpus[i].apic_id == apic_id:
            return                      # listed both as a local APIC and a local x2APIC
    if out.cpu_count >= NR_CPUS:
        out.cpus_dropped += 1
        return
    out.cpus[out.cpu_count].apic_id = apic_id
    out.cpus[out.cpu_count].uid = uid
    out.cpu_count += 1

cdef int acpi_madt_parse(const uint8_t *p, uint64_t avail, acpi_madt_info *out) noexcept nogil:
    cdef int64_t length = acpi_table_check(p, avail, b"APIC")
    cdef int64_t offset = ACPI_MADT_ENTRIES_OFFSET
    cdef uint32_t kind, entry_length
    cdef const uint8_t *e
    memset(out, 0, sizeof(acpi_madt_info))
    if length < 0:
        return <int>length
    if length < ACPI_MADT_ENTRIES_OFFSET:
        return ACPI_ERR_TRUNCATED
    out.lapic_address = le32(p + MADT_LAPIC_ADDRESS_OFFSET)
    out.flags = le32(p + MADT_FLAGS_OFFSET)
    while offset < length:
        if length - offset < ENTRY_HEADER_LENGTH:
            return ACPI_ERR_BAD_ENTRY
        e = p + offset
        kind = e[0]
        entry_length = e[1]
        if entry_length < ENTRY_HEADER_LENGTH or entry_length > length - offset:
            return ACPI_ERR_BAD_ENTRY
        if kind == ACPI_MADT_LOCAL_APIC:
            if entry_length < LOCAL_APIC_LENGTH:
                return ACPI_ERR_BAD_ENTRY
            add_cpu(out, e[3], e[2], le32(e + 4))
        elif kind == ACPI_MADT_LOCAL_X2APIC:
            if entry_length < LOCAL_X2APIC_LENGTH:
                return ACPI_ERR_BAD_ENTRY
            add_cpu(out, le32(e + 4), le32(e + 12), le32(e + 8))
        elif kind == ACPI_MADT_IO_APIC:
            if entry_length < IO_APIC_LENGTH:
                return ACPI_ERR_BAD_ENTRY
            if out.ioapic_count < ACPI_MAX_IOAPICS:
                out.ioapics[out.ioapic_count].id = e[2]
                out.ioapics[out.ioapic_count].address = le32(e + 4)
                out.ioapics[out.ioapic_count].gsi_base = le32(e + 8)
                out.ioapic_count += 1
        elif kind == ACPI_MADT_LOCAL_APIC_OVERRIDE:
            if entry_length < LOCAL_APIC_OVERRIDE_LENGTH:
                return ACPI_ERR_BAD_ENTRY
            out.lapic_address = le64(e + 4)
        elif kind == ACPI_MADT_INTERRUPT_OVERRIDE:
            out.overrides += 1
        offset += entry_length
    return ACPI_OK

cdef int search_rsdp(acpi_map_fn map, uint64_t base, uint64_t length, acpi_rsdp *out) noexcept nogil:
    cdef const uint8_t *area = map(base, length)
    cdef uint64_t off
    if area == NULL:
        return ACPI_ERR_UNMAPPED
    off = 0
    while off + ACPI_RSDP_V1_LENGTH <= length:
        if acpi_rsdp_parse(area + off, length - off, out) == ACPI_OK:
            return ACPI_OK
        off += ACPI_RSDP_ALIGN
    return ACPI_ERR_NOT_FOUND

cdef int find_rsdp(acpi_map_fn map, acpi_rsdp *out) noexcept nogil:
    cdef const uint8_t *bda = map(BDA_EBDA_SEGMENT, 2)
    cdef uint64_t ebda
    if bda != NULL:
        ebda = <uint64_t>le16(bda) << 4
        if EBDA_LOWEST <= ebda and ebda + EBDA_SEARCH_LENGTH <= EBDA_END:
            if search_rsdp(map, ebda, EBDA_SEARCH_LENGTH, out) == ACPI_OK:
                return ACPI_OK
    return search_rsdp(map, BIOS_AREA_BASE, BIOS_AREA_LENGTH, out)

cdef int64_t map_table(acpi_map_fn map, uint64_t phys, const char *signature,
                       const uint8_t **table) noexcept nogil:
    """Map a table's header, then all of it; its checked length, or an error."""
    cdef const uint8_t *p = map(phys, ACPI_SDT_HEADER_LENGTH)
    cdef uint32_t length
    if p == NULL:
        return ACPI_ERR_UNMAPPED
    if memcmp(p, signature, 4) != 0:
        return ACPI_ERR_SIGNATURE
    length = le32(p + SDT_LENGTH_OFFSET)
    if length < ACPI_SDT_HEADER_LENGTH or length > ACPI_TABLE_MAX_LENGTH:
        return ACPI_ERR_TRUNCATED
    p = map(phys, length)
    if p == NULL:
        return ACPI_ERR_UNMAPPED
    table[0] = p
    return acpi_table_check(p, length, signature)

cdef int acpi_find_madt(acpi_map_fn map, acpi_madt_info *out) noexcept nogil:
    cdef acpi_rsdp rsdp
    cdef const uint8_t *root
    cdef const uint8_t *entry
    cdef const uint8_t *madt
    cdef int64_t root_length, madt_length, off
    cdef uint64_t entry_size, phys
    cdef int rc
    memset(out, 0, sizeof(acpi_madt_info))
    rc = find_rsdp(map, &rsdp)
    if rc != ACPI_OK:
        return rc
    if rsdp.xsdt_address != 0:
        root_length = map_table(map, rsdp.xsdt_address, b"XSDT", &root)
        entry_size = XSDT_ENTRY_SIZE
    else:
        root_length = map_table(map, rsdp.rsdt_address, b"RSDT", &root)
        entry_size = RSDT_ENTRY_SIZE
    if root_length < 0:
        return <int>root_length
    off = ACPI_SDT_HEADER_LENGTH
    while off + <int64_t>entry_size <= root_length:
        phys = le64(root + off) if entry_size == XSDT_ENTRY_SIZE else le32(root + off)
        off += entry_size
        entry = map(phys, ACPI_SDT_HEADER_LENGTH)
        if entry == NULL or memcmp(entry, b"APIC", 4) != 0:
            continue
        madt_length = map_table(map, phys, b"APIC", &madt)
        if madt_length < 0:
            return <int>madt_length
        return acpi_madt_parse(madt, madt_length, out)
    return ACPI_ERR_NOT_FOUND

cdef const char *acpi_error_name(int error) noexcept nogil:
    if error == ACPI_OK:
        return b"ok"
    if error == ACPI_ERR_TRUNCATED:
        return b"truncated table"
    if error == ACPI_ERR_CHECKSUM:
        return b"bad checksum"
    if error == ACPI_ERR_SIGNATURE:
        return b"bad signature"
    if error == ACPI_ERR_BAD_ENTRY:
        return b"malformed MADT entry"
    if error == ACPI_ERR_NOT_FOUND:
        return b"no RSDP or no MADT"
    if error == ACPI_ERR_UNMAPPED:
        return b"table not reachable"
    return b"unknown error"
