"""mm/pmm: the physical frame allocator against a Python model.

The model is a set of free frames and a set of allocated ones; the allocator
is specified as lowest-address-first, so the model predicts the exact frame
every allocation returns (and when contiguous/aligned requests must fail).
"""

import pytest
from hypothesis import HealthCheck, assume, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mm_support import fresh_machine
from tyn.twins import machine
from tyn.twins import pmm_twin as pmm

PAGE = pmm.PAGE
LOW_FRAMES = pmm.LOW_MEMORY_END // PAGE
RAM = 8 << 20
RAM_FRAMES = RAM // PAGE


def frames_of(base, length, inward):
    """Frames of a byte range: inward for usable RAM (partial pages dropped), outward for reservations."""
    if inward:
        first, end = -(-base // PAGE), (base + length) // PAGE
    else:
        first, end = base // PAGE, -(-(base + length) // PAGE)
    return set(range(first, max(first, end)))


class Model:
    """What the allocator should contain after init(usable, reserved)."""

    def __init__(self, usable, reserved, ceiling):
        stats = pmm.stats()
        self.meta = set(range(stats["metadata_phys"] // PAGE,
                              stats["metadata_phys"] // PAGE + stats["metadata_frames"]))
        self.limit = stats["frame_limit"]
        self.ceiling = ceiling // PAGE
        usable_frames = set().union(*(frames_of(b, n, True) for b, n in usable))
        reserved_frames = set().union(set(), *(frames_of(b, n, False) for b, n in reserved))
        self.free = usable_frames - reserved_frames - self.meta - set(range(LOW_FRAMES))
        self.allocated = set()

    def search_end(self):
        return min(self.limit, self.ceiling) if self.ceiling else self.limit

    def predict_run(self, count, align):
        """Lowest start (multiple of align) of count free frames below the ceiling, or None."""
        end = self.search_end()
        start = 0
        while start + count <= end:
            if all(f in self.free for f in range(start, start + count)):
                return start
            start += align
        return None

    def take(self, first, count):
        run = set(range(first, first + count))
        assert run <= self.free
        self.free -= run
        self.allocated |= run

    def give_back(self, first, count):
        run = set(range(first, first + count))
        self.allocated -= run
        self.free |= run


# Usable RAM: a few unaligned (possibly overlapping) ranges inside RAM, plus the low 640 KiB
# that the allocator must never use.
def layouts():
    ranges = st.lists(st.tuples(st.integers(0x100000, RAM - 0x20000), st.integers(0x3000, 0x300000)),
                      min_size=1, max_size=5)
    return ranges.map(lambda rs: [(0, 0x9FC00)] + [(b + 0x123, min(n, RAM - b) - 0x123) for b, n in rs])


class PmmMachine(RuleBasedStateMachine):
    @initialize(usable=layouts(),
                reserved=st.lists(st.tuples(st.integers(0, RAM), st.integers(1, 0x40000)), max_size=4),
                ceiling=st.sampled_from([0, 0, 4 << 20, 6 << 20]))
    def setup(self, usable, reserved, ceiling):
        fresh_machine(RAM)
        rc = pmm.init(usable, reserved, ceiling)
        assume(rc != pmm.ERR_NO_MEMORY)     # reservations covered all RAM: see test_metadata_needs_room
        assert rc == pmm.OK
        self.model = Model(usable, reserved, ceiling)
        self.runs = []                  # (first frame, count) handed out
        meta = self.model.meta
        assert meta and max(meta) < (ceiling // PAGE or RAM_FRAMES)
        assert not meta & set(range(LOW_FRAMES))
        assert all(not (frames_of(b, n, False) & meta) for b, n in reserved)
        assert any(meta <= frames_of(b, n, True) for b, n in usable)

    @rule()
    def alloc_one(self):
        got = pmm.alloc_frame()
        want = self.model.predict_run(1, 1)
        if want is None:
            assert got == pmm.NO_FRAME
        else:
            assert got == want * PAGE
            self.model.take(want, 1)
            self.runs.append((want, 1))

    @rule(count=st.integers(1, 40), align=st.sampled_from([1, 1, 2, 4, 8, 16, 64, 512]))
    def alloc_run(self, count, align):
        got = pmm.alloc_frames(count, align)
        want = self.model.predict_run(count, align)
        if want is None:
            assert got == pmm.NO_FRAME
        else:
            assert got == want * PAGE
            assert (got // PAGE) % align == 0
            self.model.take(want, count)
            self.runs.append((want, count))

    @precondition(lambda self: self.runs)
    @rule(data=st.data())
    def free_run(self, data):
        first, count = self.runs.pop(data.draw(st.integers(0, len(self.runs) - 1)))
        if count > 1 and data.draw(st.booleans()):
            # Free a multi-frame run piecewise: frames are independent once allocated.
            for f in range(first, first + count):
                assert pmm.free_frame(f * PAGE) == pmm.OK
        else:
            assert pmm.free_frames(first * PAGE, count) == pmm.OK
        self.model.give_back(first, count)

    @rule(data=st.data())
    def double_free(self, data):
        assume(self.model.free)
        f = data.draw(st.sampled_from(sorted(self.model.free)))
        before = pmm.stats()["double_frees"]
        assert pmm.free_frame(f * PAGE) == pmm.ERR_DOUBLE_FREE
        assert pmm.stats()["double_frees"] == before + 1
        assert b"double free" in machine.console()

    @rule(data=st.data())
    def free_never_allocated(self, data):
        never = set(range(self.model.limit)) - self.model.free - self.model.allocated
        f = data.draw(st.sampled_from(sorted(never)))
        before = pmm.stats()["invalid_frees"]
        assert pmm.free_frame(f * PAGE) == pmm.ERR_NOT_ALLOCATED
        assert pmm.stats()["invalid_frees"] == before + 1
        assert b"never-allocated" in machine.console()

    @precondition(lambda self: self.runs)
    @rule(data=st.data())
    def free_run_overlapping_free_frame(self, data):
        # A run that extends past an allocation into a free frame: refused, nothing freed.
        first, count = data.draw(st.sampled_from(self.runs))
        assume(first + count in self.model.free)
        assert pmm.free_frames(first * PAGE, count + 1) == pmm.ERR_DOUBLE_FREE
        machine.console()

    @rule(offset=st.integers(1, PAGE - 1))
    def free_bad_addresses(self, offset):
        assert pmm.free_frame(self.model.limit * PAGE) == pmm.ERR_OUT_OF_RANGE
        assert pmm.free_frame(1 << 52) == pmm.ERR_OUT_OF_RANGE
        assert pmm.free_frame(0x200000 + offset) == pmm.ERR_UNALIGNED
        machine.console()

    @rule(base=st.integers(0, RAM), length=st.integers(0, 0x80000))
    def reserve(self, base, length):
        taken = pmm.reserve(base, length)
        gone = self.model.free & frames_of(base, length, False)
        assert taken == len(gone)
        self.model.free -= gone

    @rule(base=st.integers(0, RAM + 0x100000), length=st.integers(0, 0x80000))
    def add_region(self, base, length):
        added = pmm.add_region(base, length)
        new = {f for f in frames_of(base, length, True) if f < self.model.limit} \
            - self.model.free - self.model.allocated - self.model.meta
        assert added == len(new)
        self.model.free |= new

    @rule(ceiling=st.sampled_from([0, 2 << 20, 5 << 20, 32 << 20]))
    def set_ceiling(self, ceiling):
        pmm.set_ceiling(ceiling)
        self.model.ceiling = ceiling // PAGE

    @invariant()
    def counts_match(self):
        assert pmm.free_count() == len(self.model.free)
        assert pmm.total_count() == len(self.model.free) + len(self.model.allocated)

    @invariant()
    def states_match(self):
        for f in range(0, self.model.limit + 2, 7):
            want = (pmm.FRAME_FREE if f in self.model.free else
                    pmm.FRAME_ALLOCATED if f in self.model.allocated else pmm.FRAME_UNAVAILABLE)
            assert pmm.frame_state(f * PAGE) == want, f


TestPmmStateful = PmmMachine.TestCase
TestPmmStateful.settings = settings(max_examples=100, stateful_step_count=50, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture
def simple_pmm():
    fresh_machine(RAM)
    assert pmm.init([(0, RAM)], [(0x100000, 0x100000)]) == pmm.OK
    return pmm.free_count()


def test_exhaustion_returns_sentinel_and_recovers(simple_pmm):
    got = []
    while (f := pmm.alloc_frame()) != pmm.NO_FRAME:
        got.append(f)
    assert len(got) == simple_pmm and len(set(got)) == len(got)
    assert pmm.free_count() == 0
    assert pmm.alloc_frame() == pmm.NO_FRAME and pmm.alloc_frames(3, 1) == pmm.NO_FRAME
    for f in got:
        assert pmm.free_frame(f) == pmm.OK
    assert pmm.free_count() == simple_pmm


def test_fragmentation_blocks_contiguous_until_neighbours_return(simple_pmm):
    got = []
    while (f := pmm.alloc_frame()) != pmm.NO_FRAME:
        got.append(f)
    for f in got[::2]:                              # every other frame back: half free, none adjacent
        assert pmm.free_frame(f) == pmm.OK
    assert pmm.free_count() >= simple_pmm // 2
    assert pmm.alloc_frames(2, 1) == pmm.NO_FRAME
    assert pmm.free_frame(got[11]) == pmm.OK        # joins got[10] and got[12]
    assert pmm.alloc_frames(3, 1) == got[10]
    assert pmm.alloc_frames(2, 1) == pmm.NO_FRAME


def test_aligned_runs_are_aligned_and_disjoint(simple_pmm):
    runs = []
    for count, align in [(1, 1), (3, 4), (512, 512), (5, 8), (16, 16), (1, 2)]:
        f = pmm.alloc_frames(count, align)
        assert f != pmm.NO_FRAME and (f // PAGE) % align == 0
        runs.append(set(range(f // PAGE, f // PAGE + count)))
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            assert not a & b


def test_bad_free_changes_nothing(simple_pmm):
    f = pmm.alloc_frames(4, 1)
    assert pmm.free_frames(f, 5) == pmm.ERR_DOUBLE_FREE      # fifth frame is free
    assert pmm.free_count() == simple_pmm - 4
    assert [pmm.frame_state(f + i * PAGE) for i in range(4)] == [pmm.FRAME_ALLOCATED] * 4
    assert pmm.free_frames(f, 4) == pmm.OK
    assert pmm.free_frames(f, 4) == pmm.ERR_DOUBLE_FREE
    assert pmm.free_frames(f, 0) == pmm.ERR_BAD_ARGUMENT
    out = machine.console()
    assert out.count(b"pmm: double free") == 2
    assert pmm.stats()["double_frees"] == 2


def test_low_memory_and_reservations_never_allocated():
    fresh_machine(RAM)
    assert pmm.init([(0, RAM)], [(0x300000, 0x10), (0x500000, 0x200000)]) == pmm.OK
    got = set()
    while (f := pmm.alloc_frame()) != pmm.NO_FRAME:
        got.add(f)
    assert all(f >= pmm.LOW_MEMORY_END for f in got)
    assert 0x300000 not in got
    assert not any(0x500000 <= f < 0x700000 for f in got)


def test_metadata_needs_room_and_respects_ceiling():
    fresh_machine(RAM)
    assert pmm.init([(0, RAM)], [(0, RAM)]) == pmm.ERR_NO_MEMORY
    assert pmm.alloc_frame() == pmm.NO_FRAME
    assert pmm.free_frame(0x200000) == pmm.ERR_NOT_READY
    assert pmm.init([(0, 0x9F000)], []) == pmm.ERR_NO_MEMORY       # only low memory
    assert pmm.init([(0, RAM)], [(0x100000, 0x200000)], 0x300000) == pmm.ERR_NO_MEMORY
    assert pmm.init([(0, RAM)], [(0x100000, 0x200000)], 0x302000) == pmm.OK
    assert pmm.stats()["metadata_phys"] == 0x300000      # the one frame left below the ceiling
    # Everything handed out stays below the ceiling until it is lifted.
    assert pmm.alloc_frame() == 0x301000
    assert pmm.alloc_frame() == pmm.NO_FRAME
    pmm.set_ceiling(0)
    assert pmm.alloc_frame() == 0x302000
    assert b"no room" in machine.console()


def test_regions_sorted_and_merged():
    fresh_machine(RAM)
    usable = [(0x600000, 0x100000), (0x200000, 0x80000), (0x280000, 0x10000), (0x100000, 0x50000),
              (0x5F0800, 0x20000), (0x140000, 0x20000)]
    assert pmm.init(usable, []) == pmm.OK
    assert pmm.regions() == [(0x100000, 0x60000), (0x200000, 0x90000), (0x5F1000, 0x10F000)]
    assert pmm.total_count() == (0x60000 + 0x90000 + 0x10F000) // PAGE - pmm.stats()["metadata_frames"]


def test_regions_remembered_for_the_direct_map():
    fresh_machine(RAM)
    usable = [(0x100123, 0x5000), (0x200000, 0x100000)] + [(0x400000 + i * 0x2000, 0x1000) for i in range(80)]
    assert pmm.init(usable, []) == pmm.OK
    regions = pmm.regions()
    assert regions[:2] == [(0x101000, 0x4000), (0x200000, 0x100000)]
    assert len(regions) == pmm.MAX_REGIONS
    assert pmm.stats()["regions_dropped"] == len(usable) - pmm.MAX_REGIONS


def test_self_check(simple_pmm):
    assert pmm.self_check() == 0
    assert pmm.free_count() == simple_pmm
