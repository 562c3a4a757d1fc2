"""boot/multiboot: memory map and command line from a multiboot info block in simulated RAM."""
import struct

import pytest

from tyn.twins import machine, multiboot_twin as mb

MAGIC = 0x2BADB002
INFO_MEMORY, INFO_CMDLINE, INFO_MEM_MAP = 1 << 0, 1 << 2, 1 << 6
AVAILABLE, RESERVED = 1, 2
INFO_AT, MMAP_AT, CMDLINE_AT = 0x1000, 0x2000, 0x3000


@pytest.fixture(autouse=True)
def ram():
    machine.reset()
    machine.set_phys_memory(1 << 20)


def put_info(flags, mem_upper=0, cmdline=0, mmap=b""):
    machine.write_phys(MMAP_AT, mmap)
    info = struct.pack("<11I", flags, 640, mem_upper, 0, cmdline, 0, 0, 0, 0, 0, 0)
    info += struct.pack("<II", len(mmap), MMAP_AT)
    machine.write_phys(INFO_AT, info)


def entry(base, length, kind):
    return struct.pack("<IQQI", 20, base, length, kind)


def test_memory_map_keeps_available_ram_page_aligned_sorted_and_merged():
    mmap = (entry(0x100000, 0x7EE0000, AVAILABLE) + entry(0, 0x9FC00, AVAILABLE)
            + entry(0x9FC00, 0x400, RESERVED) + entry(0xFEFFC000, 0x4000, RESERVED)
            + entry(0x8000000, 0x1000, AVAILABLE) + entry(0x100000123, 0x2000, AVAILABLE))
    put_info(INFO_MEM_MAP, mmap=mmap)
    status, regions, usable, highest, _ = mb.parse(MAGIC, INFO_AT)
    assert status == 0
    assert regions == [(0, 0x9F000), (0x100000, 0x7EE0000), (0x8000000, 0x1000), (0x100001000, 0x1000)]
    assert usable == sum(length for _, length in regions)
    assert highest == 0x100002000


def test_overlapping_entries_merge():
    put_info(INFO_MEM_MAP, mmap=entry(0x100000, 0x200000, AVAILABLE) + entry(0x200000, 0x200000, AVAILABLE))
    assert mb.parse(MAGIC, INFO_AT)[1] == [(0x100000, 0x300000)]


def test_falls_back_to_mem_upper():
    put_info(INFO_MEMORY, mem_upper=63 * 1024)
    assert mb.parse(MAGIC, INFO_AT)[1] == [(0x100000, 63 << 20)]


def test_command_line_drops_the_image_path():
    machine.write_phys(CMDLINE_AT, b"build/tyn.elf hz=250 -- -eval x\0")
    put_info(INFO_MEMORY | INFO_CMDLINE, mem_upper=1024, cmdline=CMDLINE_AT)
    assert mb.parse(MAGIC, INFO_AT)[4] == b"hz=250 -- -eval x"


def test_wrong_magic_is_refused_with_a_message():
    put_info(INFO_MEMORY, mem_upper=1024)
    assert mb.parse(0x12345678, INFO_AT)[0] < 0
    assert b"not started by a multiboot loader" in machine.console()


def test_no_memory_information_is_refused():
    put_info(0)
    assert mb.parse(MAGIC, INFO_AT)[0] < 0
    assert b"no memory information" in machine.console()


def test_truncated_entry_stops_the_walk():
    put_info(INFO_MEM_MAP, mmap=entry(0x100000, 0x100000, AVAILABLE) + struct.pack("<I", 4) + b"\0" * 20)
    assert mb.parse(MAGIC, INFO_AT)[1] == [(0x100000, 0x100000)]
