"""drivers/virtqueue: the split-ring driver side against a device simulated in Python over
the same memory (virtio 1.0 §2.4).  The device reads the available ring and descriptor
chains and writes the used ring, as QEMU's does."""
import ctypes
import random
import struct

import pytest
from hypothesis import given, settings, strategies as st

from tyn.twins import virtqueue_twin as vt


def peek(addr, n):
    return ctypes.string_at(addr, n)


def poke(addr, data):
    ctypes.memmove(addr, data, len(data))


class Device:
    """The device side of one split virtqueue."""

    def __init__(self, q):
        self.q = q
        self.size = q.size
        self.last_avail = 0
        self.used_idx = 0

    def avail_idx(self):
        return struct.unpack_from("<H", peek(self.q.avail_addr + 2, 2))[0]

    def avail_flags(self):
        return struct.unpack_from("<H", peek(self.q.avail_addr, 2))[0]

    def descriptor(self, i):
        return struct.unpack("<QIHH", peek(self.q.desc_addr + 16 * i, 16))

    def take(self):
        """The next available chain: (head, [(addr, len, writable), ...]) or None."""
        if self.last_avail == self.avail_idx():
            return None
        slot = self.last_avail % self.size
        head = struct.unpack("<H", peek(self.q.avail_addr + 4 + 2 * slot, 2))[0]
        self.last_avail = (self.last_avail + 1) & 0xFFFF
        chain, d = [], head
        for _ in range(self.size + 1):
            addr, length, flags, nxt = self.descriptor(d)
            chain.append((addr, length, bool(flags & vt.DESC_F_WRITE)))
            if not flags & vt.DESC_F_NEXT:
                return head, chain
            d = nxt
        raise AssertionError("descriptor chain loops")

    def give_back(self, head, written):
        slot = self.used_idx % self.size
        poke(self.q.used_addr + 4 + 8 * slot, struct.pack("<II", head, written))
        self.used_idx = (self.used_idx + 1) & 0xFFFF
        poke(self.q.used_addr + 2, struct.pack("<H", self.used_idx))

    def set_no_notify(self, on):
        poke(self.q.used_addr, struct.pack("<H", vt.USED_F_NO_NOTIFY if on else 0))


def test_init_rejects_bad_sizes_and_alignment():
    for size in (0, 3, 100, 65535):
        assert not vt.Queue(size).ok
    assert not vt.Queue(8, misalign_used=True).ok
    for size in (1, 2, 256, 1024):
        q = vt.Queue(size)
        assert q.ok and q.num_free == size


def test_one_buffer_round_trip_carries_token_and_written_length():
    q = vt.Queue(8)
    dev = Device(q)
    buf = ctypes.create_string_buffer(64)
    head = q.add([], [(ctypes.addressof(buf), 64)], 0xBEEF)
    assert head >= 0 and q.num_free == 7
    assert q.kick_prepare()
    got_head, chain = dev.take()
    assert got_head == head and chain == [(ctypes.addressof(buf), 64, True)]
    poke(chain[0][0], b"hello")
    assert not q.has_used() and q.pop_used() is None
    dev.give_back(head, 5)
    assert q.has_used()
    assert q.pop_used() == (0xBEEF, 5)
    assert buf.raw[:5] == b"hello" and q.num_free == 8 and q.pop_used() is None


def test_chain_puts_readable_segments_before_writable_ones():
    q = vt.Queue(16)
    dev = Device(q)
    head = q.add([(0x1000, 12), (0x2000, 100)], [(0x3000, 200)], 7)
    assert q.num_free == 13
    _, chain = dev.take()
    assert chain == [(0x1000, 12, False), (0x2000, 100, False), (0x3000, 200, True)]
    dev.give_back(head, 200)
    assert q.pop_used() == (7, 200) and q.num_free == 16


def test_full_queue_refuses_and_recovers_after_harvest():
    q = vt.Queue(4)
    dev = Device(q)
    heads = [q.add([(0x1000 * i, 10)], [], i) for i in range(4)]
    assert all(h >= 0 for h in heads) and len(set(heads)) == 4
    assert q.add([(0x9000, 10)], [], 99) == vt.ERR_FULL
    assert q.add([(1, 1), (2, 2)], [], 99) == vt.ERR_FULL
    head, _ = dev.take()
    dev.give_back(head, 0)
    assert q.pop_used() == (0, 0)
    assert q.add([(0x9000, 10)], [], 99) >= 0


def test_invalid_requests():
    q = vt.Queue(4)
    assert q.add([], [], 1) == vt.ERR_INVALID
    assert q.add([(0, 1)] * 5, [], 1) == vt.ERR_INVALID
    assert q.num_free == 4


def test_kick_only_when_something_was_added_and_the_device_wants_it():
    q = vt.Queue(8)
    dev = Device(q)
    assert not q.kick_prepare()                  # nothing added
    q.add([(0x1000, 1)], [], 1)
    dev.set_no_notify(True)
    assert not q.kick_prepare()                  # device polls: no notification
    dev.set_no_notify(False)
    q.add([(0x1000, 1)], [], 2)
    q.add([(0x1000, 1)], [], 3)
    assert q.kick_prepare()
    assert not q.kick_prepare()                  # already told


def test_interrupt_suppression_flag():
    q = vt.Queue(8)
    dev = Device(q)
    assert dev.avail_flags() == 0
    q.disable_interrupts()
    assert dev.avail_flags() == vt.AVAIL_F_NO_INTERRUPT
    q.enable_interrupts()
    assert dev.avail_flags() == 0


def test_used_entries_naming_no_chain_in_flight_are_dropped_and_counted():
    q = vt.Queue(8)
    dev = Device(q)
    head = q.add([(0x1000, 10)], [], 5)
    dev.take()
    dev.give_back(200, 0)                        # out of range
    dev.give_back((head + 1) % 8, 0)             # not a head in flight
    dev.give_back(head, 3)
    dev.give_back(head, 3)                       # returned twice
    assert q.pop_used() == (5, 3)
    assert q.pop_used() is None
    assert q.bad_used == 3 and q.num_free == 8


def test_indices_wrap_past_65535():
    q = vt.Queue(4)
    dev = Device(q)
    for i in range(70000):
        head = q.add([(i, 1)], [], i)
        assert head >= 0
        got, chain = dev.take()
        assert got == head and chain[0][0] == i
        dev.give_back(head, i & 0xFF)
        assert q.pop_used() == (i, i & 0xFF)
    assert q.num_free == 4


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 8, 32]))
def test_random_traffic_keeps_every_buffer_accounted(seed, size):
    """Random adds of random chains and out-of-order completions: every token comes back
    exactly once with the length the device wrote, and no descriptor leaks."""
    rnd = random.Random(seed)
    q = vt.Queue(size)
    dev = Device(q)
    in_flight = {}              # token -> segments
    taken = []                  # (head, token) the device holds
    done = {}
    next_token = 0
    for _ in range(300):
        action = rnd.random()
        if action < 0.45:
            n_read, n_write = rnd.randint(0, 3), rnd.randint(0, 3)
            if n_read + n_write == 0:
                n_write = 1
            segs = [(rnd.getrandbits(48), rnd.randint(1, 4096)) for _ in range(n_read + n_write)]
            free_before = q.num_free
            head = q.add(segs[:n_read], segs[n_read:], next_token)
            if n_read + n_write > size:
                assert head == vt.ERR_INVALID
            elif n_read + n_write > free_before:
                assert head == vt.ERR_FULL and q.num_free == free_before
            else:
                assert head >= 0 and q.num_free == free_before - n_read - n_write
                in_flight[next_token] = (head, segs, n_read)
                next_token += 1
        elif action < 0.75:
            got = dev.take()
            if got:
                head, chain = got
                token = next(t for t, (h, _, _) in in_flight.items() if h == head)
                _, segs, n_read = in_flight[token]
                assert chain == [(a, n, i >= n_read) for i, (a, n) in enumerate(segs)]
                taken.append((head, token))
        elif taken:
            head, token = taken.pop(rnd.randrange(len(taken)))
            written = rnd.randint(0, 4096)
            dev.give_back(head, written)
            done[token] = written
        while (r := q.pop_used()) is not None:
            token, written = r
            assert done.pop(token) == written
            del in_flight[token]
    while (got := dev.take()) is not None:
        taken.append((got[0], next(t for t, (h, _, _) in in_flight.items() if h == got[0])))
    for head, token in taken:
        dev.give_back(head, 1)
    while (r := q.pop_used()) is not None:
        del in_flight[r[0]]
    assert not in_flight and q.num_free == size and q.bad_used == 0
