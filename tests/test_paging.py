"""mm/paging: page tables checked by an independent SDM walker (mm_support.leaves/walk).

The kernel's tables are read back from simulated RAM and compared with a
model dict {va: (pa, size, flags)}; translate() is checked against the same
model, so a bug in the kernel's own walker cannot hide a bug in its writer.
"""

import random

import pytest

from mm_support import (HUGE, KERNEL_LAYOUT, KERNEL_VMA_BASE, NX, P, PAGE, PHYS_MAP_BASE, U, W, boot_mm,
                        fresh_machine, leaves, table_frames, walk)
from tyn.twins import machine
from tyn.twins import paging_twin as paging
from tyn.twins import pmm_twin as pmm

RAM = 32 << 20
USER_BASES = [0x400000, 0x7FFF_0000_0000, 0x40_0000_0000]
KERNEL_BASES = [0xFFFF_C000_0000_0000 + 0x1234_0000_0000, 0xFFFF_FF00_0000_0000, 0xFFFF_D000_0020_0000]


def fresh_root():
    fresh_machine(RAM)
    assert pmm.init([(0, RAM)], []) == pmm.OK
    paging.detect_cpu_features()
    root = paging.new_root()
    assert root != paging.NOT_MAPPED
    return root


def effective(flags, user):
    """Leaf flags as the walker reports them for a mapping made with `flags`."""
    nx = NX if (flags & NX and paging.nx_supported()) else 0
    return P | (flags & (W | 0x118)) | (U if user else 0) | nx


def pages_overlap(va, size, model):
    return any(v < va + size and va < v + s for v, (_, s, _) in model.items())


@pytest.mark.parametrize("seed", range(6))
def test_random_map_unmap_matches_model(seed):
    rng = random.Random(seed)
    root = fresh_root()
    baseline = pmm.free_count() + paging.spare_tables()
    model = {}
    for step in range(400):
        if rng.random() < 0.6 or not model:
            huge = rng.random() < 0.2
            size = HUGE if huge else PAGE
            user = rng.random() < 0.5
            base = rng.choice(USER_BASES if user else KERNEL_BASES)
            va = base + rng.randrange(64) * size
            pa = rng.randrange(0, RAM - size, size)
            flags = rng.choice([0, W, NX, W | NX, W | paging.GLOBAL, paging.PCD | paging.PWT | W])
            flags |= U if user else 0
            rc = (paging.map_huge if huge else paging.map)(root, va, pa, flags)
            if (va, size) in {(v, s) for v, (_, s, _) in model.items()}:
                assert rc == paging.ERR_ALREADY_MAPPED
            elif pages_overlap(va, size, model):
                assert rc in (paging.ERR_HUGE_CONFLICT, paging.ERR_ALREADY_MAPPED)
            else:
                assert rc == paging.OK, hex(va)
                model[va] = (pa, size, effective(flags, user))
        else:
            va = rng.choice(list(model))
            size = model[va][1]
            if size == HUGE:
                assert paging.unmap(root, va) == paging.ERR_HUGE_CONFLICT
                assert paging.unmap_huge(root, va) == paging.OK
            else:
                assert paging.unmap_huge(root, va & ~(HUGE - 1)) in (paging.ERR_HUGE_CONFLICT,
                                                                      paging.ERR_UNALIGNED)
                assert paging.unmap(root, va) == paging.OK
            del model[va]
            assert paging.unmap(root, va) in (paging.ERR_NOT_MAPPED, paging.ERR_HUGE_CONFLICT)
        if step % 40 == 0:
            assert leaves(root) == model
        # translate agrees with the model inside, at the edges of, and next to mappings
        for va, (pa, size, flags) in rng.sample(sorted(model.items()), min(3, len(model))):
            off = rng.randrange(size)
            got = paging.translate(root, va + off)
            assert got is not None and got[0] == pa + off
            assert walk(root, va + off) == (pa + off, flags & (P | W | U | NX))
        probe = rng.choice(USER_BASES + KERNEL_BASES) + rng.randrange(70) * PAGE
        if not pages_overlap(probe, 1, model):
            assert paging.translate(root, probe) is None and walk(root, probe) is None
    assert leaves(root) == model
    for va, (_, size, _) in list(model.items()):
        assert (paging.unmap_huge if size == HUGE else paging.unmap)(root, va) == paging.OK
    assert leaves(root) == {}
    # Emptied PTs and PDs went to the spare-table list (reused only as page tables; see
    # paging.pyx); the root and PDPTs are kept.  Frames are conserved either way.
    kept = table_frames(root)
    pml4_slots = {(va >> 39) & 511 for va in USER_BASES + KERNEL_BASES}
    assert len(kept) <= 1 + len(pml4_slots)
    assert pmm.free_count() + paging.spare_tables() == baseline - (len(kept) - 1)


def test_argument_errors():
    root = fresh_root()
    k = KERNEL_BASES[0]
    assert paging.map(root, k + 1, 0x200000, W) == paging.ERR_UNALIGNED
    assert paging.map(root, k, 0x200001, W) == paging.ERR_UNALIGNED
    assert paging.map_huge(root, k + PAGE, 0x200000, W) == paging.ERR_UNALIGNED
    assert paging.map(root, 0x0000_8000_0000_0000, 0x200000, W) == paging.ERR_BAD_ADDRESS   # non-canonical
    assert paging.map(root, k, 1 << 52, W) == paging.ERR_BAD_ADDRESS
    assert paging.map(root, k, 0x200000, W | U) == paging.ERR_USER_KERNEL
    assert paging.unmap(root, k) == paging.ERR_NOT_MAPPED
    assert paging.map_huge(root, k, 0x200000, W) == paging.OK
    assert paging.map(root, k + PAGE, 0x300000, W) == paging.ERR_HUGE_CONFLICT
    assert paging.map_huge(root, k + HUGE, 0x400000, W) == paging.OK
    assert paging.map(root, k + 2 * HUGE, 0x400000, W) == paging.OK
    assert paging.map_huge(root, k + 2 * HUGE, 0x400000, W) == paging.ERR_HUGE_CONFLICT
    assert paging.translate(root, k + 0x1234) == (0x201234, P | W | paging.HUGE)
    assert leaves(root)[k] == (0x200000, HUGE, P | W)


def test_page_table_exhaustion_is_an_error_not_a_crash():
    root = fresh_root()
    while pmm.alloc_frame() != pmm.NO_FRAME:
        pass
    assert paging.map(root, KERNEL_BASES[0], 0x200000, W) == paging.ERR_NO_MEMORY
    assert paging.new_root() == paging.NOT_MAPPED


def test_unmap_of_live_root_invalidates_tlb():
    root = boot_mm(RAM)
    va = paging.map_mmio(0xFEC00000, PAGE)
    before = machine.invlpg_count()
    assert paging.unmap(root, va) == paging.OK
    assert machine.invlpg_count() == before + 1
    other = paging.new_root()
    assert paging.map(other, 0x400000, 0x200000, W | U) == paging.OK
    before = machine.invlpg_count()
    assert paging.unmap(other, 0x400000) == paging.OK        # not loaded in CR3: no flush needed
    assert machine.invlpg_count() == before


# ---------------------------------------------------------------- kernel address space

def section_pages(start, end):
    first = start & ~(PAGE - 1)
    return range(first, (end + PAGE - 1) & ~(PAGE - 1), PAGE)


def check_kernel_space(root, regions, nx):
    lv = leaves(root)
    nxbit = NX if nx else 0
    # Nothing anywhere is user-accessible; nothing below the kernel half at all.
    assert all(not flags & U for _, _, flags in lv.values())
    assert all(va >= PHYS_MAP_BASE for va in lv)
    assert walk(root, 0) is None
    L = KERNEL_LAYOUT
    for va in section_pages(L["text_start"], L["text_end"]):
        assert walk(root, va) == (va - KERNEL_VMA_BASE, P)                     # RX
    for va in section_pages(L["rodata_start"], L["rodata_end"]):
        assert walk(root, va) == (va - KERNEL_VMA_BASE, P | nxbit)             # R
    for va in section_pages(L["data_start"], L["data_end"]):
        if va == L["stack_guard"]:
            assert walk(root, va) is None                                        # guard page
        else:
            assert walk(root, va) == (va - KERNEL_VMA_BASE, P | W | nxbit)     # RW
    for va in section_pages(L["data_end"], L["end"]):
        assert walk(root, va) == (va - KERNEL_VMA_BASE, P | nxbit)             # .ksyms
    image = {va for va in lv if va >= KERNEL_VMA_BASE}
    want_image = set()
    for a, b in [("text_start", "text_end"), ("rodata_start", "rodata_end"), ("data_start", "data_end"),
                 ("data_end", "end")]:
        want_image.update(section_pages(L[a], L[b]))
    assert image == want_image - {L["stack_guard"]}
    assert all(lv[va][2] & paging.GLOBAL for va in image)
    # Direct map: every page of every region (and the low 1 MiB), RW, never executable;
    # 4 KiB pages only where RAM is, 2 MiB pages only where they overlap RAM.
    direct = {va - PHYS_MAP_BASE: v for va, v in lv.items() if PHYS_MAP_BASE <= va < PHYS_MAP_BASE + (1 << 46)}
    want = set(range(0, 0x100000, PAGE))
    for base, length in regions:
        want.update(range(base & ~(PAGE - 1), base + length, PAGE))
    covered = set()
    for off, (pa, size, flags) in direct.items():
        assert pa == off and flags & (P | W | U | NX) == P | W | nxbit
        pages = set(range(off, off + size, PAGE))
        assert pages <= want if size == PAGE else pages & want
        covered |= pages
    assert want <= covered
    # 2 MiB pages wherever a whole aligned 2 MiB of a region allows it.
    for base, length in regions:
        first = (base + HUGE - 1) & ~(HUGE - 1)
        for off in range(first, base + length - HUGE + 1, HUGE):
            assert direct[off][1] == HUGE, hex(off)
    return lv


def test_kernel_space_layout_and_permissions():
    root = boot_mm(RAM)
    assert paging.nx_supported()
    check_kernel_space(root, pmm.regions(), nx=True)
    assert paging.self_check() == 0
    assert machine.console() == b""


def test_kernel_space_with_ragged_ram_map():
    regions = [(0, 0x9FC00), (0x100000, 0x2F0000), (0x3F1800, 0x1C0E000), (0x1E00000, 0x200000)]
    root = boot_mm(RAM, regions=regions)
    check_kernel_space(root, pmm.regions(), nx=True)
    assert paging.self_check() == 0


def test_kernel_space_without_nx():
    root = boot_mm(RAM, hide_nx=True)
    assert not paging.nx_supported()
    lv = check_kernel_space(root, pmm.regions(), nx=False)
    assert all(not flags & NX for _, _, flags in lv.values())
    assert paging.self_check() == 0


def test_page_tables_stay_below_the_boot_map_until_the_switch():
    ceiling = 0x400000
    fresh_machine(RAM)
    machine.set_kernel_layout(**KERNEL_LAYOUT)
    assert pmm.init([(0, RAM)], [(0x100000, 0x29000)], ceiling) == pmm.OK
    assert paging.init_kernel_space() == paging.OK
    root = paging.kernel_root()
    assert all(f < ceiling for f in table_frames(root))
    assert pmm.alloc_frames(1, 1024) >= ceiling            # ceiling lifted after the switch


def test_kernel_space_needs_the_pmm():
    fresh_machine(RAM)
    machine.set_kernel_layout(**KERNEL_LAYOUT)
    assert pmm.init([], []) == pmm.ERR_NO_MEMORY
    assert paging.init_kernel_space() == paging.ERR_NOT_READY
    assert b"pmm_init first" in machine.console()


def test_mmio_mappings_are_uncached_kernel_only_and_separated():
    root = boot_mm(RAM)
    lapic = paging.map_mmio(0xFEE00000, 0x400)
    ioapic = paging.map_mmio(0xFEC00010, 0x2000)           # unaligned, spans 3 pages
    assert lapic % PAGE == 0 and ioapic % PAGE == 0x10
    assert paging.MMIO_BASE <= lapic < ioapic
    for va, pa in [(lapic, 0xFEE00000), (ioapic, 0xFEC00010), (ioapic + 0x1FF0, 0xFEC02000)]:
        got, flags = paging.translate(root, va)
        assert got == pa
        assert flags & (paging.PCD | paging.PWT | W | NX) == paging.PCD | paging.PWT | W | NX
        assert not flags & U
    assert paging.translate(root, lapic + PAGE) is None            # gap page after each window
    assert paging.translate(root, (ioapic & ~(PAGE - 1)) + 3 * PAGE) is None
    assert paging.map_mmio(0xFEE00000, 0) == 0
    assert paging.map_direct(0xE0000000, 0x3000) == paging.OK        # e.g. ACPI tables outside RAM
    assert walk(root, PHYS_MAP_BASE + 0xE0002FFF) == (0xE0002FFF, P | W | NX)


def test_self_check_notices_a_broken_space():
    root = boot_mm(RAM)
    assert paging.unmap(root, KERNEL_LAYOUT["text_start"]) == paging.OK
    assert paging.map(root, KERNEL_LAYOUT["stack_guard"], 0x11D000, W) == paging.OK
    assert paging.self_check() == 2
    assert b"paging: self-check" in machine.console()


# ---------------------------------------------------------------- frees wait for the shootdown

VISIT_BASE = 0x400000


def map_pages(root, count):
    for i in range(count):
        f = pmm.alloc_frame()
        assert f != pmm.NO_FRAME
        assert paging.map(root, VISIT_BASE + i * PAGE, f, W | U) == paging.OK


def test_released_frames_stay_allocated_until_the_visit_has_flushed():
    """mmu_gather order: a frame unmapped by a range visit goes back to the pmm only after
    the visit's TLB shootdown, so no CPU can write into it through a stale entry after reuse."""
    root = fresh_root()
    map_pages(root, 40)                  # fewer than one gather: a single batch
    before = paging.frames_freed_after_flush()
    n, freed_early, frames = paging.visit_release(root, VISIT_BASE, VISIT_BASE + 40 * PAGE)
    assert n == 40 and freed_early == 0
    assert all(pmm.frame_state(f) == pmm.FRAME_FREE for f in frames)
    # The 40 pages and the PT and PD they emptied waited for the flush.
    assert paging.frames_freed_after_flush() - before == 42
    assert walk(root, VISIT_BASE) is None


def test_the_early_free_check_catches_frees_inside_the_visit():
    """The check above can fail: freeing in the visitor (the old order) is seen."""
    root = fresh_root()
    map_pages(root, 8)
    n, freed_early, _ = paging.visit_release(root, VISIT_BASE, VISIT_BASE + 8 * PAGE, immediate=True)
    assert n == 8 and freed_early == 7 * 8 // 2


def test_a_long_range_is_released_in_flushed_batches():
    root = fresh_root()
    count = 300                          # several gathers
    map_pages(root, count)
    n, _, frames = paging.visit_release(root, VISIT_BASE, VISIT_BASE + count * PAGE)
    assert n == count
    assert all(pmm.frame_state(f) == pmm.FRAME_FREE for f in frames)
    assert all(walk(root, VISIT_BASE + i * PAGE) is None for i in range(count))
