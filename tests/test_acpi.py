"""boot/acpi: RSDP, RSDT/XSDT and MADT parsing on tables built here, and the search
through simulated RAM.  Every malformed input is refused with an error code."""

import struct

import pytest

from tyn.twins import acpi_twin as acpi
from tyn.twins import machine

OK, TRUNCATED, CHECKSUM, SIGNATURE, BAD_ENTRY, NOT_FOUND, UNMAPPED = 0, -1, -2, -3, -4, -5, -6
ENABLED, ONLINE_CAPABLE = 1, 2


def fix_checksum(data: bytearray, offset: int, length: int) -> bytearray:
    data[offset] = 0
    data[offset] = (-sum(data[:length])) & 0xFF
    return data


def rsdp(rsdt=0, xsdt=0, revision=2) -> bytes:
    body = bytearray(b"RSD PTR " + b"\0" + b"TYNOEM" + bytes([revision]) + struct.pack("<I", rsdt))
    fix_checksum(body, 8, 20)
    if revision >= 2:
        body += struct.pack("<IQ", 36, xsdt) + b"\0\0\0\0"
        fix_checksum(body, 32, 36)
    return bytes(body)


def table(signature: bytes, payload: bytes) -> bytes:
    length = 36 + len(payload)
    data = bytearray(signature + struct.pack("<IBB", length, 1, 0) + b"TYNOEM" + b"TYNTABLE"
                     + struct.pack("<I", 1) + b"TYN " + struct.pack("<I", 1) + payload)
    return bytes(fix_checksum(data, 9, length))


def lapic(uid, apic_id, flags=ENABLED):
    return struct.pack("<BBBBI", 0, 8, uid, apic_id, flags)


def x2apic(apic_id, uid, flags=ENABLED):
    return struct.pack("<BBHIII", 9, 16, 0, apic_id, flags, uid)


def ioapic(ident, address, gsi_base):
    return struct.pack("<BBBBII", 1, 12, ident, 0, address, gsi_base)


def madt(*entries, lapic_address=0xFEE00000, flags=1):
    return table(b"APIC", struct.pack("<II", lapic_address, flags) + b"".join(entries))


QEMU_LIKE = madt(lapic(0, 0), lapic(1, 1), lapic(2, 2), lapic(3, 3), ioapic(0, 0xFEC00000, 0),
                 struct.pack("<BBBBIH", 2, 10, 0, 0, 2, 0))


# ---------------------------------------------------------------- RSDP

def test_rsdp_v1_and_v2():
    assert acpi.rsdp(rsdp(rsdt=0x7FE0000, revision=0)) == (OK, 0, 0x7FE0000, 0)
    assert acpi.rsdp(rsdp(rsdt=0x1000, xsdt=0x2000)) == (OK, 2, 0x1000, 0x2000)


@pytest.mark.parametrize("cut", [0, 8, 19])
def test_rsdp_too_short(cut):
    assert acpi.rsdp(rsdp(revision=0)[:cut])[0] == TRUNCATED


def test_rsdp_v2_extension_cut_off():
    assert acpi.rsdp(rsdp(xsdt=0x2000)[:30])[0] == TRUNCATED


def test_rsdp_bad_signature_and_checksums():
    good = bytearray(rsdp(xsdt=0x2000))
    assert acpi.rsdp(b"RSD PTX" + bytes(good[7:]))[0] == SIGNATURE
    bad = bytearray(good)
    bad[16] ^= 1                                    # inside the v1 checksum
    assert acpi.rsdp(bytes(bad))[0] == CHECKSUM
    bad = bytearray(good)
    bad[24] ^= 1                                    # only the extended checksum covers it
    assert acpi.rsdp(bytes(bad))[0] == CHECKSUM


def test_rsdp_v2_length_field_lies():
    data = bytearray(rsdp(xsdt=0x2000))
    data[20:24] = struct.pack("<I", 4096)           # longer than what is there
    fix_checksum(data, 8, 20)
    assert acpi.rsdp(bytes(data))[0] == TRUNCATED
    data[20:24] = struct.pack("<I", 10)             # shorter than the structure
    fix_checksum(data, 8, 20)
    assert acpi.rsdp(bytes(data))[0] == TRUNCATED


# ---------------------------------------------------------------- headers

def test_table_check():
    t = table(b"XSDT", struct.pack("<Q", 0x1234))
    assert acpi.table_check(t, b"XSDT") == len(t)
    assert acpi.table_check(t + b"extra", b"XSDT") == len(t)
    assert acpi.table_check(t, b"RSDT") == SIGNATURE
    assert acpi.table_check(t[:-1], b"XSDT") == TRUNCATED
    assert acpi.table_check(t[:20], b"XSDT") == TRUNCATED
    bad = bytearray(t)
    bad[-1] ^= 0x40
    assert acpi.table_check(bytes(bad), b"XSDT") == CHECKSUM


def test_table_length_below_header_is_refused():
    t = bytearray(table(b"APIC", b"\0" * 8))
    t[4:8] = struct.pack("<I", 12)
    assert acpi.table_check(bytes(t), b"APIC") == TRUNCATED


# ---------------------------------------------------------------- MADT

def test_madt_like_qemus():
    m = acpi.madt(QEMU_LIKE)
    assert m["status"] == OK
    assert m["lapic_address"] == 0xFEE00000 and m["flags"] == 1
    assert m["cpus"] == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert m["cpus_listed"] == 4
    assert m["ioapics"] == [(0, 0xFEC00000, 0)]
    assert m["overrides"] == 1


def test_madt_skips_disabled_and_online_capable_cpus():
    m = acpi.madt(madt(lapic(0, 0), lapic(1, 1, flags=0), lapic(2, 2, flags=ONLINE_CAPABLE), lapic(3, 5)))
    assert m["cpus"] == [(0, 0), (5, 3)]
    assert m["cpus_listed"] == 4


def test_madt_x2apic_entries_and_duplicates():
    m = acpi.madt(madt(lapic(0, 0), x2apic(0, 0), x2apic(300, 7)))
    assert m["cpus"] == [(0, 0), (300, 7)]


def test_madt_lapic_address_override():
    m = acpi.madt(madt(lapic(0, 0), struct.pack("<BBHQ", 5, 12, 0, 0x1_FEE0_0000)))
    assert m["lapic_address"] == 0x1_FEE0_0000


def test_madt_more_cpus_than_the_kernel_keeps():
    m = acpi.madt(madt(*[x2apic(i, i) for i in range(70)]))
    assert len(m["cpus"]) == 64 and m["cpus_dropped"] == 6 and m["cpus_listed"] == 70


def test_madt_unknown_entries_are_skipped():
    m = acpi.madt(madt(lapic(0, 0), bytes([0x7F, 6, 1, 2, 3, 4]), lapic(1, 1)))
    assert m["status"] == OK and m["cpus"] == [(0, 0), (1, 1)]


@pytest.mark.parametrize("entry", [
    bytes([0, 0]),                      # length 0 would loop forever
    bytes([0, 1]),                      # shorter than its own header
    bytes([0, 6, 0, 0, 1, 0]),          # a local APIC entry needs 8 bytes
    bytes([9, 12]) + bytes(10),         # a local x2APIC entry needs 16
    bytes([1, 8]) + bytes(6),           # an I/O APIC entry needs 12
    bytes([5, 4, 0, 0]),                # an address override needs 12
    bytes([0, 40]) + bytes(6),          # runs past the end of the table
    bytes([0]),                         # a lone type byte at the end
])
def test_madt_malformed_entry_is_refused(entry):
    assert acpi.madt(madt(lapic(0, 0), entry))["status"] == BAD_ENTRY


def test_madt_header_problems():
    assert acpi.madt(QEMU_LIKE[:-1])["status"] == TRUNCATED
    assert acpi.madt(table(b"FACP", bytes(8)))["status"] == SIGNATURE
    assert acpi.madt(table(b"APIC", bytes(4)))["status"] == TRUNCATED     # no room for address/flags
    bad = bytearray(QEMU_LIKE)
    bad[50] ^= 1
    assert acpi.madt(bytes(bad))["status"] == CHECKSUM


def test_madt_survives_random_damage():
    import random
    rng = random.Random(10)
    for _ in range(2000):
        data = bytearray(QEMU_LIKE)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.5:
            fix_checksum(data, 9, min(len(data), struct.unpack_from("<I", data, 4)[0]))
        m = acpi.madt(bytes(data[:rng.randint(0, len(data))] if rng.random() < 0.2 else data))
        assert m["status"] <= 0 and len(m["cpus"]) <= 64


# ---------------------------------------------------------------- search

RAM = 2 << 20
RSDT_AT, XSDT_AT, MADT_AT, OTHER_AT = 0x100000, 0x101000, 0x102000, 0x103000


@pytest.fixture
def ram():
    machine.reset()
    machine.set_phys_memory(RAM)
    yield
    machine.reset()


def place_tables(rsdp_at, *, xsdt=True, madt_table=QEMU_LIKE):
    machine.write_phys(OTHER_AT, table(b"FACP", bytes(16)))
    machine.write_phys(MADT_AT, madt_table)
    machine.write_phys(RSDT_AT, table(b"RSDT", struct.pack("<II", OTHER_AT, MADT_AT)))
    machine.write_phys(XSDT_AT, table(b"XSDT", struct.pack("<QQ", OTHER_AT, MADT_AT)))
    machine.write_phys(rsdp_at, rsdp(rsdt=RSDT_AT, xsdt=XSDT_AT if xsdt else 0, revision=2 if xsdt else 0))


def test_found_in_the_bios_area_through_the_xsdt(ram):
    place_tables(0xF5A40)
    m = acpi.find_madt()
    assert m["status"] == OK and len(m["cpus"]) == 4


def test_found_in_the_ebda_through_the_rsdt(ram):
    machine.write_phys(0x40E, struct.pack("<H", 0x9FC0))      # EBDA at 0x9FC00
    place_tables(0x9FC00 + 0x30, xsdt=False)
    m = acpi.find_madt()
    assert m["status"] == OK and m["cpus"] == [(0, 0), (1, 1), (2, 2), (3, 3)]


def test_misaligned_rsdp_is_not_found(ram):
    place_tables(0xF5A48)
    assert acpi.find_madt()["status"] == NOT_FOUND


def test_no_rsdp(ram):
    assert acpi.find_madt()["status"] == NOT_FOUND


def test_root_table_without_a_madt(ram):
    place_tables(0xE0000)
    machine.write_phys(XSDT_AT, table(b"XSDT", struct.pack("<Q", OTHER_AT)))
    assert acpi.find_madt()["status"] == NOT_FOUND


def test_root_table_pointing_outside_memory(ram):
    place_tables(0xE0000)
    machine.write_phys(XSDT_AT, table(b"XSDT", struct.pack("<Q", 0xFFFF_FFFF_0000)))
    assert acpi.find_madt()["status"] == NOT_FOUND


def test_madt_claiming_a_huge_length_is_refused(ram):
    place_tables(0xE0000)
    machine.write_phys(MADT_AT + 4, struct.pack("<I", 0xFFFFFFF0))
    assert acpi.find_madt()["status"] == TRUNCATED


def test_damaged_madt_in_memory(ram):
    place_tables(0xE0000, madt_table=madt(lapic(0, 0), bytes([0, 0])))
    assert acpi.find_madt()["status"] == BAD_ENTRY
    assert acpi.error_name(BAD_ENTRY) == "malformed MADT entry"
