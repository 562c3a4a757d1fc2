"""mm/heap: kmalloc/kfree/kcalloc/krealloc against a model of live blocks.

Seeded random operation sequences; after each step the heap's own walker
(heap_check) must find no inconsistency, blocks must be 16-byte aligned and
never overlap (headers included), and every block must still hold the bytes
written into it.
"""

import random

import pytest

from mm_support import fresh_machine
from tyn.twins import heap_twin as heap
from tyn.twins import machine
from tyn.twins import pmm_twin as pmm

PAGE = pmm.PAGE
ARENA = heap.ARENA_FRAMES * PAGE


def start_heap(ram=32 << 20):
    fresh_machine(ram)
    assert pmm.init([(0, ram)], [(0x100000, 0x100000)]) == pmm.OK
    heap.init()
    return pmm.free_count()


def random_size(rng):
    r = rng.random()
    if r < 0.6:
        return rng.randint(1, 256)
    if r < 0.9:
        return rng.randint(257, 8192)
    if r < 0.97:
        return rng.randint(8193, heap.LARGE_THRESHOLD)
    return rng.randint(heap.LARGE_THRESHOLD + 1, 200_000)


class LiveBlocks:
    """The model: address -> the bytes the test stored there."""

    def __init__(self, rng):
        self.rng = rng
        self.blocks = {}

    def fill(self, p, size):
        data = self.rng.randbytes(size)
        heap.write(p, data)
        self.blocks[p] = data

    def check_one(self, p):
        data = self.blocks[p]
        assert heap.read(p, len(data)) == data, hex(p)
        assert heap.usable_size(p) >= len(data)

    def check_layout(self):
        spans = sorted((p - heap.HEADER_SIZE, p + heap.usable_size(p)) for p in self.blocks)
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert a1 <= b0, f"blocks overlap: {a0:#x}..{a1:#x} and {b0:#x}..{b1:#x}"
        assert all(p % heap.ALIGN == 0 for p in self.blocks)


@pytest.mark.parametrize("seed", range(8))
def test_random_operations_keep_blocks_apart_and_intact(seed):
    rng = random.Random(seed)
    baseline = start_heap()
    live = LiveBlocks(rng)
    for step in range(1500):
        op = rng.random()
        if op < 0.45 or not live.blocks:
            size = random_size(rng)
            p = heap.malloc(size)
            assert p != 0
            live.fill(p, size)
        elif op < 0.55:
            count, size = rng.randint(1, 40), rng.randint(1, 64)
            p = heap.calloc(count, size)
            assert p != 0 and heap.read(p, count * size) == bytes(count * size)
            live.fill(p, count * size)
        elif op < 0.75:
            p = rng.choice(list(live.blocks))
            live.check_one(p)
            assert heap.free(p) == heap.OK
            del live.blocks[p]
        else:
            p = rng.choice(list(live.blocks))
            old = live.blocks.pop(p)
            size = random_size(rng)
            q = heap.realloc(p, size)
            assert q != 0
            keep = min(len(old), size)
            assert heap.read(q, keep) == old[:keep]
            live.fill(q, size)
        if step % 25 == 0:
            assert heap.check() == 0
            live.check_layout()
            for p in live.blocks:
                live.check_one(p)
    assert heap.check() == 0
    live.check_layout()
    for p in list(live.blocks):
        live.check_one(p)
        assert heap.free(p) == heap.OK
    # Everything coalesced back: one arena with one free block; every other frame returned.
    s = heap.stats()
    assert heap.check() == 0
    assert (s["arenas"], s["free_blocks"], s["used_blocks"], s["large_allocations"]) == (1, 1, 0, 0)
    assert pmm.free_count() == baseline - heap.ARENA_FRAMES
    assert machine.console() == b""


def test_fragmentation_stays_bounded():
    # Churn with a steady live set: the arenas must not keep growing.
    rng = random.Random(7)
    start_heap()
    live = []
    peak_live = 0
    for step in range(6000):
        if len(live) < 300 or rng.random() < 0.5:
            size = rng.choice([16, 24, 48, 100, 200, 500, 1000, 3000])
            p = heap.malloc(size)
            assert p != 0
            live.append((p, size))
        else:
            p, _ = live.pop(rng.randrange(len(live)))
            assert heap.free(p) == heap.OK
        peak_live = max(peak_live, sum(s for _, s in live))
        if step % 500 == 499:
            s = heap.stats()
            assert s["arena_bytes"] <= 2 * peak_live + 2 * ARENA, s
    assert heap.check() == 0


def test_double_free_is_reported_and_harmless():
    start_heap()
    a, b, c = heap.malloc(40), heap.malloc(40), heap.malloc(40)
    heap.write(c, b"x" * 40)
    assert heap.free(a) == heap.OK
    before = heap.stats()
    assert heap.free(a) == heap.ERR_DOUBLE_FREE
    assert heap.stats()["free_blocks"] == before["free_blocks"]
    assert heap.free(b) == heap.OK                 # b coalesces into a: its header is absorbed
    assert heap.free(b) == heap.ERR_DOUBLE_FREE    # ...and still reads as freed
    assert heap.free(a) == heap.ERR_DOUBLE_FREE
    out = machine.console()
    assert out.count(b"heap: double free of ") == 3 and hex(a).encode() in out and hex(b).encode() in out
    assert heap.stats()["double_frees"] == 3
    assert heap.read(c, 40) == b"x" * 40
    assert heap.check() == 0
    assert heap.free(c) == heap.OK
    assert heap.stats()["used_blocks"] == 0


def test_large_blocks_come_from_pmm_and_double_free_is_caught():
    baseline = start_heap()
    size = heap.LARGE_THRESHOLD + 1
    p = heap.malloc(size)
    frames = -(-(size + heap.HEADER_SIZE) // PAGE)
    assert heap.stats()["large_allocations"] == 1
    assert pmm.free_count() == baseline - frames
    heap.write(p, b"\xAA" * size)
    assert heap.free(p) == heap.OK
    assert pmm.free_count() == baseline
    assert heap.free(p) == heap.ERR_DOUBLE_FREE
    assert heap.stats()["large_allocations"] == 0
    assert b"double free" in machine.console()


def test_frees_of_foreign_pointers_are_refused():
    start_heap()
    p = heap.malloc(64)
    heap.write(p, b"y" * 64)
    for bad in (p + 16, p + 8, 16, 0x1000, 0xDEADBEEF0, pmm.NO_FRAME & ~15):
        assert heap.free(bad) == heap.ERR_NOT_HEAP, hex(bad)
    assert heap.stats()["invalid_frees"] == 6
    assert machine.console().count(b"heap: free of a non-heap pointer") == 6
    assert heap.read(p, 64) == b"y" * 64
    assert heap.free(p) == heap.OK
    assert heap.free(0) == heap.OK                 # kfree(NULL) is fine


def test_damaged_header_is_reported_not_followed():
    start_heap()
    a, b = heap.malloc(100), heap.malloc(100)
    header = bytearray(heap.read(a - heap.HEADER_SIZE, heap.HEADER_SIZE))
    damaged = header[:16] + (10_000).to_bytes(8, "little") + header[24:]
    heap.write(a - heap.HEADER_SIZE, bytes(damaged))
    assert heap.free(a) == heap.ERR_CORRUPT
    assert heap.stats()["corruptions"] == 1
    assert b"corrupted" in machine.console()
    heap.write(a - heap.HEADER_SIZE, bytes(header))     # repaired: frees normally
    assert heap.free(a) == heap.OK and heap.free(b) == heap.OK
    assert heap.check() == 0


def test_realloc_in_place_and_moving():
    start_heap()
    p = heap.malloc(100)
    heap.write(p, bytes(range(100)))
    assert heap.realloc(p, 50) == p                       # shrink in place
    q = heap.realloc(p, 400)                              # the freed tail and beyond are free: grows in place
    assert q == p and heap.read(q, 50) == bytes(range(50))
    blocker = heap.malloc(16)
    r = heap.realloc(q, 4000)                             # blocked: must move, keeping contents
    assert r != q and heap.read(r, 50) == bytes(range(50))
    assert heap.free(q) == heap.ERR_DOUBLE_FREE           # the old block was freed by the move
    assert heap.realloc(0, 10) != 0                       # realloc(NULL) = malloc
    assert heap.realloc(r, 0) == 0 and heap.free(r) == heap.ERR_DOUBLE_FREE
    big = heap.realloc(blocker, 100_000)                  # into a large block
    assert heap.usable_size(big) >= 100_000
    assert heap.realloc(big, 90_000) == big               # large blocks shrink in place
    assert heap.realloc(0xDEAD0, 10) == 0                 # bad pointer: refused, reported
    assert heap.check() == 0
    machine.console()


def test_sizes_and_alignment():
    start_heap()
    assert heap.malloc(0) == 0
    assert heap.malloc(1 << 62) == 0
    assert heap.calloc(1 << 40, 1 << 40) == 0             # count * size overflows
    for size in [1, 15, 16, 17, 31, 32, 33, 4095, 4096, 4097, heap.LARGE_THRESHOLD,
                 heap.LARGE_THRESHOLD + 1, 1 << 20]:
        p = heap.malloc(size)
        assert p % 16 == 0 and heap.usable_size(p) >= size
        heap.write(p, b"z" * size)
    assert heap.check() == 0


def test_exhaustion_returns_null_and_recovers():
    baseline = start_heap(ram=4 << 20)
    got = []
    while (p := heap.malloc(3000)) != 0:
        got.append(p)
    assert len(got) > 100 and pmm.free_count() < heap.ARENA_FRAMES
    assert heap.malloc(100_000) == 0
    for p in got:
        assert heap.free(p) == heap.OK
    assert heap.check() == 0
    assert pmm.free_count() == baseline - heap.ARENA_FRAMES     # only the last arena is kept
    assert heap.malloc(100_000) != 0


def test_self_check():
    baseline = start_heap()
    assert heap.self_check() == 0
    assert pmm.free_count() == baseline - heap.ARENA_FRAMES
    assert machine.console() == b""


@pytest.mark.parametrize("enabled", [True, False])
def test_entry_points_restore_the_interrupt_flag(enabled):
    start_heap()
    heap.set_interrupts(enabled)
    p = heap.malloc(100)
    q = heap.malloc(100_000)                               # heap -> pmm: nested lock
    p = heap.realloc(p, 5000)
    assert heap.free(p) == heap.OK and heap.free(q) == heap.OK
    assert heap.free(q) == heap.ERR_DOUBLE_FREE            # error paths unlock too
    assert heap.interrupts_enabled() == enabled
    machine.console()
