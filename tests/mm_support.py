"""Shared helpers for the memory-manager tests (test_pmm/heap/paging/kstack).

The page-table walker here is written from the SDM, independently of
mm/paging.pyx: tests compare what the kernel's tables *say* (read from the
simulated RAM) with a model, not with the kernel's own translate().
"""

import struct

from tyn.twins import machine
from tyn.twins import pmm_twin as pmm
from tyn.twins import paging_twin as paging

PAGE = 4096
HUGE = 2 << 20
KERNEL_VMA_BASE = 0xFFFFFFFF80000000
PHYS_MAP_BASE = 0xFFFF800000000000
BOOT_IDENTITY_LIMIT = 1 << 30

P, W, U, PS, NX = 1 << 0, 1 << 1, 1 << 2, 1 << 7, 1 << 63
ADDR_MASK = 0x000FFFFFFFFFF000

# A kernel image like the one tyn.build links (see linker.ld): phys 1 MiB, sections
# 4 KiB aligned, boot stack (with its guard page) at the end of .bss, .ksyms last.
KERNEL_LAYOUT = dict(
    phys_start=0x100000, phys_end=0x129000,
    text_start=KERNEL_VMA_BASE + 0x106000, text_end=KERNEL_VMA_BASE + 0x1093FE,
    rodata_start=KERNEL_VMA_BASE + 0x10A000, rodata_end=KERNEL_VMA_BASE + 0x10B118,
    data_start=KERNEL_VMA_BASE + 0x10C000, data_end=KERNEL_VMA_BASE + 0x126000,
    stack_guard=KERNEL_VMA_BASE + 0x11D000, stack_bottom=KERNEL_VMA_BASE + 0x11E000,
    stack_top=KERNEL_VMA_BASE + 0x126000, end=KERNEL_VMA_BASE + 0x129000,
)


def fresh_machine(ram_bytes):
    machine.reset()
    machine.set_phys_memory(ram_bytes)
    machine.console()          # drain


def boot_mm(ram_bytes=64 << 20, regions=None, ceiling=BOOT_IDENTITY_LIMIT, hide_nx=False):
    """What kmain does: pmm over the RAM map (kernel image reserved), then the kernel address space."""
    fresh_machine(ram_bytes)
    if hide_nx:
        machine.hide_cpuid_bits(0x80000001, 3, 1 << 20)
    machine.set_kernel_layout(**KERNEL_LAYOUT)
    if regions is None:
        regions = [(0, 0x9FC00), (0x100000, ram_bytes - 0x100000)]
    kernel = (KERNEL_LAYOUT["phys_start"], KERNEL_LAYOUT["phys_end"] - KERNEL_LAYOUT["phys_start"])
    assert pmm.init(regions, [kernel], ceiling) == pmm.OK
    paging.detect_cpu_features()
    assert paging.init_kernel_space() == paging.OK
    return paging.kernel_root()


def read_u64(phys):
    return struct.unpack("<Q", machine.read_phys(phys, 8))[0]


def canonical(va):
    return va - (1 << 64) if va >> 63 else va


def leaves(root):
    """Every leaf mapping in the tables under root, walked per SDM 4.5:
    {va: (pa, page_size, effective_flags)} where W and U are ANDed down the walk and NX ORed."""
    out = {}

    def visit(table, level, va_base, w, u, nx):
        for i in range(512):
            e = read_u64(table + 8 * i)
            if not e & P:
                continue
            va = va_base | (i << (12 + 9 * (level - 1)))
            if level == 4 and i >= 256:
                va |= 0xFFFF << 48                       # sign-extend: upper half
            ew, eu, enx = w and bool(e & W), u and bool(e & U), nx or bool(e & NX)
            if level == 1 or (level in (2, 3) and e & PS):
                size = 1 << (12 + 9 * (level - 1))
                flags = P | (W if ew else 0) | (U if eu else 0) | (NX if enx else 0) | (e & 0x118)
                out[va] = (e & ADDR_MASK & ~(size - 1), size, flags)
            else:
                visit(e & ADDR_MASK, level - 1, va, ew, eu, enx)

    visit(root, 4, 0, True, True, False)
    return out


def table_frames(root):
    """Physical frames holding page tables under root (root included)."""
    frames = {root}

    def visit(table, level):
        for i in range(512):
            e = read_u64(table + 8 * i)
            if e & P and level > 1 and not (level in (2, 3) and e & PS):
                frames.add(e & ADDR_MASK)
                visit(e & ADDR_MASK, level - 1)

    visit(root, 4)
    return frames


def walk(root, va):
    """(pa, effective flags) for one address per the SDM walk, or None."""
    table, w, u, nx = root, True, True, False
    for level in (4, 3, 2, 1):
        e = read_u64(table + 8 * ((va >> (12 + 9 * (level - 1))) & 511))
        if not e & P:
            return None
        w, u, nx = w and bool(e & W), u and bool(e & U), nx or bool(e & NX)
        if level == 1 or e & PS:
            size = 1 << (12 + 9 * (level - 1))
            pa = (e & ADDR_MASK & ~(size - 1)) | (va & (size - 1))
            return pa, P | (W if w else 0) | (U if u else 0) | (NX if nx else 0)
        table = e & ADDR_MASK
