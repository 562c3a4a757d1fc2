"""Malformed and mutated frames into a booted kernel (tests/guest_fuzz.py) over a dgram
link: the guest takes them all (paced by pings), answers ping throughout, and afterwards
still serves TCP (a new connection through gen_tcp, data both ways) with a console free
of kernel complaints.  The default run sends a 2,000-frame sample; the slow one 10,000
(bench/guest_fuzz.py runs any count and seed)."""
from __future__ import annotations

import re

import pytest

import guest_fuzz
from guest_tcp_support import ctl_image, guest_vm, make_target  # noqa: F401  (fixtures)
from tcp_target import passive_open, pattern, ping

COMPLAINTS = re.compile(r"panic|BUG|fault|assert|exception|general protection", re.I)


@pytest.fixture
def guest(request):
    return make_target(request, "guest")


def fuzz_and_check(t, seed: int, count: int):
    listen_port = t.port()
    t.listen(listen_port, 4)                     # a listener for the fuzz to hit (never accepts)
    victim = passive_open(t)                     # and an established connection
    t.nodelay(victim.app)
    t.app_send(victim.app, 2000)                 # with data in flight
    log_before = len(t.vm.log)
    stats = guest_fuzz.run(t.link, seed, count, listen_port,
                           conn=(victim.sport, victim.dport, victim.snd, victim.rcv))
    assert stats["frames"] == count
    # The victim may have been reset or may live on (with bytes the fuzz put in); its
    # application gets an answer either way.
    r = t.recv(victim.app, 0, 0.5)
    assert isinstance(r, bytes) or r in ("timeout", "closed", "econnreset"), r
    # Still serving: ping, and a new connection with data both ways.
    assert ping(t.link, 4242)
    c = passive_open(t)
    c.send("PA", b"after the storm")
    t.segments()
    assert t.recv(c.app, 0, 5) == b"after the storm"
    t.nodelay(c.app)
    t.app_send(c.app, 3000)
    got = b""
    for _ in range(20):
        segs = t.segments() or ([s] if (s := t.next(3.0)) is not None else [])
        got += c.take(segs)
        c.send("A")
        if len(got) >= 3000:
            break
    assert got == pattern(3000)
    new_console = t.vm.log[log_before:]
    assert not COMPLAINTS.search(new_console), new_console[-3000:]


def test_fuzz_sample_then_still_serving(guest):
    fuzz_and_check(guest, seed=20260901, count=2000)


@pytest.mark.slow
def test_fuzz_ten_thousand_frames_then_still_serving(guest):
    fuzz_and_check(guest, seed=20260902, count=10_000)
