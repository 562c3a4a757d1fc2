"""proc/futex: wait queues against an exact model (FIFO per key, bitsets, wake counts)."""

from __future__ import annotations

import random

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tyn.twins import futex_twin as fx

ANY = fx.MATCH_ANY
M64 = (1 << 64) - 1
HASH_MUL = 0x9E3779B97F4A7C15


def bucket(as_id, uaddr):
    """The table's hash, to pick keys that share a bucket."""
    h = (((uaddr >> 2) ^ ((as_id * HASH_MUL) & M64)) * HASH_MUL) & M64
    return h >> (64 - 8)


def colliding_keys(n=4):
    seen = {}
    for a in range(1, 3):
        for addr in range(0x1000, 0x100000, 4):
            seen.setdefault(bucket(a, addr), []).append((a, addr))
            if len(seen[bucket(a, addr)]) == n:
                return seen[bucket(a, addr)]
    raise AssertionError


@pytest.fixture(autouse=True)
def fresh():
    fx.reset(256)


def test_wait_wake_fifo():
    for i in range(5):
        fx.waiter_init(i, 1, 0x1000)
        assert fx.enqueue(i) == 0
    assert fx.count(1, 0x1000) == 5 and fx.total() == 5
    assert fx.wake(1, 0x1000, ANY, 2) == (2, [0, 1])
    assert fx.waiter(0)["woken"] and not fx.waiter(0)["queued"] and not fx.waiter(2)["woken"]
    assert fx.wake(1, 0x1000, ANY, 10) == (3, [2, 3, 4])
    assert fx.wake(1, 0x1000, ANY, 10) == (0, []) and fx.total() == 0


def test_keys_are_address_space_and_address():
    fx.waiter_init(0, 1, 0x1000)
    fx.waiter_init(1, 2, 0x1000)
    fx.waiter_init(2, 1, 0x1004)
    for i in range(3):
        fx.enqueue(i)
    assert fx.wake(2, 0x1000, ANY, 5) == (1, [1])
    assert fx.wake(1, 0x1004, ANY, 5) == (1, [2])
    assert fx.wake(1, 0x1000, ANY, 5) == (1, [0])


def test_colliding_keys_do_not_mix():
    keys = colliding_keys()
    assert len({bucket(*k) for k in keys}) == 1
    for i, (a, addr) in enumerate(keys * 2):
        fx.waiter_init(i, a, addr)
        fx.enqueue(i)
    for j, (a, addr) in enumerate(keys):
        assert fx.count(a, addr) == 2
        assert fx.wake(a, addr, ANY, 5) == (2, [j, j + len(keys)])


def test_bitsets():
    for i, bits in enumerate([0b001, 0b010, 0b011, ANY]):
        fx.waiter_init(i, 1, 0x2000, bits)
        fx.enqueue(i)
    assert fx.wake(1, 0x2000, 0b010, 10) == (3, [1, 2, 3])
    assert fx.wake(1, 0x2000, 0b100, 10) == (0, [])
    assert fx.wake(1, 0x2000, 0b001, 10) == (1, [0])


def test_nr_zero_or_negative_wakes_one_like_linux():
    for i in range(4):
        fx.waiter_init(i, 1, 0x3000)
        fx.enqueue(i)
    assert fx.wake(1, 0x3000, ANY, 0) == (1, [0])
    assert fx.wake(1, 0x3000, ANY, -5) == (1, [1])
    assert fx.wake(1, 0x3000, ANY, 2 ** 31 - 1) == (2, [2, 3])


def test_einval():
    fx.waiter_init(0, 1, 0x1002)
    assert fx.enqueue(0) == fx.EINVAL                 # misaligned
    fx.waiter_init(0, 1, 0x1000, 0)
    assert fx.enqueue(0) == fx.EINVAL                 # empty bitset
    fx.waiter_init(0, 1, 0x1000)
    assert fx.enqueue(0) == 0
    assert fx.enqueue(0) == fx.EINVAL                 # already queued
    assert fx.wake(1, 0x1000, 0, 1)[0] == fx.EINVAL
    assert fx.wake(1, 0x1001, ANY, 1)[0] == fx.EINVAL
    assert fx.total() == 1


def test_dequeue_reports_who_won():
    fx.waiter_init(0, 1, 0x1000)
    fx.waiter_init(1, 1, 0x1000)
    fx.enqueue(0)
    fx.enqueue(1)
    assert fx.dequeue(0) == 1                          # timeout/signal: still queued, caller wins
    assert fx.dequeue(0) == 0
    assert fx.wake(1, 0x1000, ANY, 1) == (1, [1])
    assert fx.dequeue(1) == 0                          # woken first: the wake wins
    fx.waiter_init(2, 1, 0x1000)
    assert fx.dequeue(2) == 0                          # never queued


def test_requeue_after_wake_and_no_callback():
    fx.waiter_init(0, 1, 0x1000)
    fx.enqueue(0)
    assert fx.wake(1, 0x1000, ANY, 1, callback=False) == (1, [])
    assert fx.waiter(0)["woken"]
    assert fx.enqueue(0) == 0 and not fx.waiter(0)["woken"]
    assert fx.wake(1, 0x1000, ANY, 1) == (1, [0])


def test_op_decode_requeue_and_wake_op():
    assert fx.op_decode(3) == (3, 0) and fx.op_decode(128 | 4) == (4, fx.OPF_PRIVATE)
    assert fx.op_decode(5) == (5, 0)


def test_requeue_wakes_then_moves_in_fifo_order():
    for i in range(5):
        fx.waiter_init(i, 1, 0x1000)
        fx.enqueue(i)
    fx.waiter_init(5, 1, 0x2000)
    fx.enqueue(5)
    # wake 1, move 2 of the remaining 4: returns woken + moved
    assert fx.requeue(1, 0x1000, 1, 0x2000, 1, 2) == (3, [0])
    assert fx.count(1, 0x1000) == 2 and fx.count(1, 0x2000) == 3
    assert fx.waiter(1)["uaddr"] == 0x2000 and fx.waiter(1)["queued"] and not fx.waiter(1)["woken"]
    # the moved ones queue behind the target's own waiter
    assert fx.wake(1, 0x2000, ANY, 10) == (3, [5, 1, 2])
    assert fx.wake(1, 0x1000, ANY, 10) == (2, [3, 4])


def test_requeue_zero_wake_and_other_address_space():
    fx.waiter_init(0, 1, 0x1000)
    fx.waiter_init(1, 2, 0x1000)
    fx.enqueue(0)
    fx.enqueue(1)
    assert fx.requeue(1, 0x1000, 7, 0x3000, 0, 10) == (1, [])     # only as_id 1 moves
    assert fx.count(7, 0x3000) == 1 and fx.count(2, 0x1000) == 1
    assert fx.requeue(1, 0x1001, 1, 0x3000, 0, 1)[0] == fx.EINVAL


@pytest.mark.parametrize("op, expected", [
    (0, (0, 0)), (1, (1, 0)), (9, (9, 0)), (10, (10, 0)),
    (128, (0, fx.OPF_PRIVATE)), (129, (1, fx.OPF_PRIVATE)), (128 | 9, (9, fx.OPF_PRIVATE)),
    (256 | 128 | 9, (9, fx.OPF_PRIVATE | fx.OPF_CLOCK_REALTIME)),
])
def test_op_decode(op, expected):
    assert fx.op_decode(op) == expected


@pytest.mark.parametrize("op", [2, 6, 7, 8, 11, 12, 13, 99, 256 | 0, 256 | 1, 256 | 128 | 0, 256 | 10,
                                256 | 3, 256 | 4, 256 | 5])
def test_op_decode_enosys(op):
    assert fx.op_decode(op)[0] == fx.ENOSYS


def test_random_sequences_against_model():
    rng = random.Random(1234)
    keys = colliding_keys(3) + [(1, 0x1000), (2, 0x1000), (1, 0x1004)]
    bitsets = [1, 2, 4, 3, 6, ANY]
    for round_ in range(40):
        fx.reset(64)
        queue = []               # model: (waiter, key, bitset) in enqueue order
        free = list(range(64))
        for _ in range(300):
            r = rng.random()
            if r < 0.5 and free:
                w = free.pop(rng.randrange(len(free)))
                k, b = rng.choice(keys), rng.choice(bitsets)
                fx.waiter_init(w, *k, b)
                assert fx.enqueue(w) == 0
                queue.append((w, k, b))
            elif r < 0.85:
                k, b, nr = rng.choice(keys), rng.choice(bitsets), rng.randint(-1, 5)
                want = [w for w, kk, bb in queue if kk == k and bb & b][:max(nr, 1)]
                assert fx.wake(*k, b, nr) == (len(want), want)
                queue = [q for q in queue if q[0] not in want]
                free += want
                for w in want:
                    assert fx.waiter(w)["woken"] and not fx.waiter(w)["queued"]
            elif queue:
                w, _, _ = queue.pop(rng.randrange(len(queue)))
                assert fx.dequeue(w) == 1 and fx.dequeue(w) == 0
                free.append(w)
            assert fx.total() == len(queue)
        for k in keys:
            assert fx.count(*k) == sum(1 for _, kk, _ in queue if kk == k)


class FutexMachine(RuleBasedStateMachine):
    """Hypothesis state machine: any interleaving of wait/wake/dequeue matches the model."""

    KEYS = colliding_keys(3) + [(7, 0x7ffc), (7, 0x8000)]

    @initialize()
    def setup(self):
        fx.reset(32)
        self.queue = []
        self.free = list(range(32))

    @rule(k=st.sampled_from(KEYS), b=st.sampled_from([1, 2, 3, 0x80000000, ANY]), data=st.data())
    def wait(self, k, b, data):
        if not self.free:
            return
        w = self.free.pop(data.draw(st.integers(0, len(self.free) - 1)))
        fx.waiter_init(w, *k, b)
        assert fx.enqueue(w) == 0
        self.queue.append((w, k, b))

    @rule(k=st.sampled_from(KEYS), b=st.sampled_from([1, 2, 4, 0x80000000, ANY]), nr=st.integers(-2, 4))
    def wake(self, k, b, nr):
        want = [w for w, kk, bb in self.queue if kk == k and bb & b][:max(nr, 1)]
        assert fx.wake(*k, b, nr) == (len(want), want)
        self.queue = [q for q in self.queue if q[0] not in want]
        self.free += want

    @rule(data=st.data())
    def cancel(self, data):
        if not self.queue:
            return
        w, _, _ = self.queue.pop(data.draw(st.integers(0, len(self.queue) - 1)))
        assert fx.dequeue(w) == 1
        self.free.append(w)

    @invariant()
    def counts(self):
        assert fx.total() == len(self.queue)
        for k in self.KEYS:
            assert fx.count(*k) == sum(1 for _, kk, _ in self.queue if kk == k)


TestFutexMachine = FutexMachine.TestCase
TestFutexMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
