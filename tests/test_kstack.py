"""mm/kstack: guarded kernel stacks, checked through the page tables (mm_support.walk)."""

import random

import pytest

from mm_support import NX, P, PAGE, U, W, boot_mm, leaves, walk
from tyn.twins import kstack_twin as kstack
from tyn.twins import machine
from tyn.twins import paging_twin as paging
from tyn.twins import pmm_twin as pmm

SLOT = kstack.SLOT_PAGES * PAGE


def start(ram=32 << 20):
    root = boot_mm(ram)
    kstack.init()
    return root


def check_stack(root, top, pages, fresh=True):
    assert top % 16 == 0 and (top - paging.KSTACK_BASE) % SLOT == 0
    bottom = kstack.bottom(top)
    assert bottom == top - pages * PAGE
    frames = []
    for va in range(bottom, top, PAGE):
        pa, flags = walk(root, va)
        assert flags == P | W | NX                    # RW, never executable, never user
        frames.append(pa)
    assert walk(root, bottom - PAGE) is None          # the guard page
    assert walk(root, top) is None                    # nothing directly above either
    if fresh:
        assert all(machine.read_phys(f, PAGE) == bytes(PAGE) for f in frames)     # zeroed
    return frames


@pytest.mark.parametrize("seed", range(5))
def test_random_alloc_free_against_model(seed):
    rng = random.Random(seed)
    root = start()
    baseline = pmm.free_count()
    live = {}                                         # top -> pages
    for step in range(300):
        if rng.random() < 0.55 or not live:
            pages = rng.randint(1, kstack.MAX_PAGES)
            top = kstack.alloc(pages)
            assert top != kstack.NONE and top not in live
            live[top] = pages
            pa = walk(root, top - PAGE)[0]
            machine.write_phys(pa, top.to_bytes(8, "little"))     # tag the stack's top page
        else:
            top = rng.choice(list(live))
            assert kstack.free(top) == kstack.OK
            pages = live.pop(top)
            assert all(walk(root, va) is None for va in range(top - pages * PAGE, top, PAGE))
        assert kstack.live_count() == len(live)
        if step % 30 == 0:
            all_frames = []
            for top, pages in live.items():
                all_frames += check_stack(root, top, pages, fresh=False)
                assert machine.read_phys(walk(root, top - PAGE)[0], 8) == top.to_bytes(8, "little")
            assert len(all_frames) == len(set(all_frames))           # no frame shared between stacks
            kernel_half = leaves(root)
            assert not any(flags & U for _, _, flags in kernel_half.values())
    for top, pages in live.items():
        assert kstack.free(top) == kstack.OK
    # Every stack frame and every page table made for them went back to the pmm.
    assert pmm.free_count() == baseline
    assert machine.console() == b""


def test_stack_shape_and_guard():
    root = start()
    for pages in (1, 4, kstack.MAX_PAGES):
        top = kstack.alloc(pages)
        check_stack(root, top, pages)
    assert kstack.alloc(0) == kstack.NONE
    assert kstack.alloc(kstack.MAX_PAGES + 1) == kstack.NONE   # would eat the guard page


def test_bad_and_double_frees_are_reported():
    start()
    top = kstack.alloc(2)
    assert kstack.free(top + PAGE) == kstack.ERR_NOT_STACK
    assert kstack.free(top - PAGE) == kstack.ERR_NOT_STACK
    assert kstack.free(paging.KSTACK_BASE) == kstack.ERR_NOT_STACK
    assert kstack.free(top + 5 * SLOT) == kstack.ERR_NOT_STACK          # never-used slot
    assert kstack.free(paging.KSTACK_BASE + (kstack.MAX_SLOTS + 1) * SLOT) == kstack.ERR_NOT_STACK
    assert kstack.free(0xFFFFFFFF80100000) == kstack.ERR_NOT_STACK
    assert kstack.free(top) == kstack.OK
    assert kstack.free(top) == kstack.ERR_DOUBLE_FREE
    assert kstack.bad_free_count() == 7
    out = machine.console()
    assert out.count(b"kstack: free of a non-stack address") == 6
    assert out.count(b"kstack: double free") == 1


def test_slots_reused_late():
    start()
    first = kstack.alloc(1)
    assert kstack.free(first) == kstack.OK
    tops = [kstack.alloc(1) for _ in range(10)]
    assert first not in tops                       # round-robin: the freed slot waits its turn
    assert len(set(tops)) == 10


def test_exhaustion_leaks_nothing():
    start(ram=4 << 20)
    baseline = pmm.free_count()
    tops = []
    while (top := kstack.alloc(kstack.MAX_PAGES)) != kstack.NONE:
        tops.append(top)
    assert tops and pmm.free_count() < kstack.MAX_PAGES + 3
    for top in tops:
        assert kstack.free(top) == kstack.OK
    assert pmm.free_count() == baseline


def test_self_check():
    start()
    baseline = pmm.free_count()
    assert kstack.self_check() == 0
    assert pmm.free_count() == baseline
