"""TCP conformance, every case of tcp-conformance.md written once and run twice (tcp_target):
against the host build of the stack (simulated clock) and against a booted kernel under
QEMU (TCG, `-netdev dgram`, the tester answering ARP; the application is gen_tcp in the
BEAM, driven through tests/erlang/tcp_ctl.erl).  One VM serves the whole module; every
case uses its own ports.

The host-only suites (test_tcp_listen/synsent/established/close.py) also check the
stack's internal state and counters; here a case sees only the wire and the application.
Cases that wait out long timers (retransmission give-up, TIME-WAIT expiry, backed-off
probes) have a short default form and a complete @slow form.
"""
from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IP, TCP, in4_chksum

from guest_tcp_support import ctl_image, guest_vm, make_target  # noqa: F401  (fixtures)
from tcp_target import (LOCAL, MSS_DEFAULT, PEER, Conn, F, active_open, flags_of, opt, passive_open,
                        pattern, payload, summary)


def pytest_generate_tests(metafunc):
    """Every case against "host" and "guest" (gen_tcp on inet_drv); the cases marked
    both_backends also against "guest_socket" (gen_tcp with {inet_backend, socket})."""
    if "t" in metafunc.fixturenames:
        targets = ["host", "guest"]
        if getattr(metafunc.function, "both_backends", False):
            targets.append("guest_socket")
        metafunc.parametrize("t", targets, indirect=True)


@pytest.fixture
def t(request):
    kind, _, backend = request.param.partition("_")
    target = make_target(request, kind, backend or "inet")
    yield target
    target.finish()


def both_backends(case):
    case.both_backends = True
    return case


def gaps(times):
    return [round(b - a, 2) for a, b in zip(times, times[1:])]


def assert_backoff(times, first, n):
    """n intervals after the first transmission, doubling from `first` seconds.  RFC 6298
    forbids shorter ones; the upper bound only keeps the doubling recognisable on a busy
    host (TCG, shared CPUs)."""
    g = gaps(times)
    assert len(g) == n, g
    for i, gap in enumerate(g):
        want = first * 2 ** i
        assert want * 0.95 <= gap <= want * 1.5 + 1, f"intervals {g}, want doubling from {first}s"


def collect(t, c, total, window=65535, max_payload=None, rounds=60):
    """T acknowledges what S sends until `total` bytes arrived in order; returns them."""
    got = b""
    for _ in range(rounds):
        segs = t.segments()
        if not segs:
            segs = [s] if (s := t.next(3.0)) is not None else []
        for s in segs:
            if max_payload is not None:
                assert len(payload(s)) <= max_payload, summary(s)
            assert opt(s, "MSS") is None, "MSS on a non-SYN segment (MUST-65)"
        got += c.take(segs)
        c.send("A", window=window)
        if len(got) >= total:
            break
    return got


# ======================================================================= CLOSED

def test_syn_closed(t):                                                      # case 3
    t.send(TCP(sport=t.port(), dport=t.port(), flags="S", seq=5000))
    r = t.one()
    assert flags_of(r) == F("RA") and r.seq == 0 and r.ack == 5001


def test_ack_closed(t):                                                      # case 4
    t.send(TCP(sport=t.port(), dport=t.port(), flags="A", seq=10, ack=0xDEADBEEF))
    r = t.one()
    assert flags_of(r) == "R" and r.seq == 0xDEADBEEF


def test_rst_closed(t):                                                      # case 5
    sport, dport = t.port(), t.port()
    t.send(TCP(sport=sport, dport=dport, flags="R", seq=10))
    t.send(TCP(sport=sport, dport=dport, flags="RA", seq=10, ack=5))
    t.none()


# ======================================================================= LISTEN

def test_syn_listen(t):                                                      # case 1
    port = t.port()
    t.listen(port)
    sport = t.port()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=1000, options=[("MSS", 1460)]))
    r = t.one()
    assert flags_of(r) == F("SA") and r.ack == 1001 and opt(r, "MSS") == 1460
    assert (r.sport, r.dport) == (port, sport)


@both_backends
def test_handshake(t):                                                       # case 2
    port = t.port()
    l = t.listen(port)
    sport = t.port()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=1000, options=[("MSS", 1460)]))
    sa = t.one()
    t.send(TCP(sport=sport, dport=port, flags="A", seq=1001, ack=sa.seq + 1))
    t.none()
    c = t.accept(l)
    if t.name == "guest":
        assert c.peer_port == sport


def test_ack_in_listen(t):                                                   # case 6
    port = t.port()
    t.listen(port)
    t.send(TCP(sport=t.port(), dport=port, flags="A", seq=1, ack=777))
    r = t.one()
    assert flags_of(r) == "R" and r.seq == 777
    t.send(TCP(sport=t.port(), dport=port, flags="S", seq=1))
    assert flags_of(t.one()) == F("SA")


def test_rst_in_listen(t):                                                   # case 7
    port = t.port()
    t.listen(port)
    sport = t.port()
    t.send(TCP(sport=sport, dport=port, flags="R", seq=1))
    t.none()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=1))
    assert flags_of(t.one()) == F("SA")


def test_unknown_option(t):                                                  # case 18
    port = t.port()
    t.listen(port)
    t.send(TCP(sport=t.port(), dport=port, flags="S", seq=1,
               options=[(253, b"\x01\x02\x03"), ("MSS", 1000), ("NOP", None), (99, b"")]))
    r = t.one()
    assert flags_of(r) == F("SA") and r.ack == 2 and opt(r, "MSS") == 1460


def raw_syn(options: bytes, sport: int, dport: int, seq=1) -> bytes:
    """A SYN with exactly these option bytes (padded with EOL), checksum right."""
    options += b"\0" * (-len(options) % 4)
    hlen = 20 + len(options)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (hlen // 4) << 4, 0x02, 65535, 0, 0) + options
    csum = in4_chksum(6, IP(src=PEER, dst=LOCAL), hdr)
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:]


@pytest.mark.parametrize("options", [
    b"\x02\x00\x05\xb4",            # MSS with length 0
    b"\x01\x01\x01\x03",            # NOPs, then a kind with no room for its length
    b"\x02\x08\x05\xb4",            # MSS whose length runs past the header
    b"\xfd\x01\x00\x00",            # unknown kind, length 1
], ids=["len0", "no_len", "past_header", "len1"])
def test_bad_option_len(t, options):                                         # case 19
    port = t.port()
    t.listen(port)
    t.send_raw(raw_syn(options, t.port(), port))
    t.none()
    t.send_raw(raw_syn(b"\x02\x04\x05\xb4", t.port(), port))
    assert flags_of(t.one()) == F("SA")


def test_reserved_bits(t):                                                   # case 20
    port = t.port()
    t.listen(port)
    t.send(TCP(sport=t.port(), dport=port, flags="S", seq=1, reserved=7))
    assert flags_of(t.one()) == F("SA")          # S's own reserved bits: checked on every segment


# ======================================================================= SYN-RECEIVED

def test_synack_retx(t):                                                     # case 8 (first two)
    port = t.port()
    t.listen(port)
    t.send(TCP(sport=t.port(), dport=port, flags="S", seq=1000))
    first = t.next()
    again = [t.next(4.0), t.next(6.0)]
    assert all(s is not None and flags_of(s) == F("SA") and s.seq == first.seq for s in again)
    assert_backoff([first.t] + [s.t for s in again], 1, 2)


@pytest.mark.slow
def test_synack_retx_gives_up(t):                                            # case 8 (complete)
    port = t.port()
    t.listen(port)
    sport = t.port()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=1000))
    first = t.next()
    times = [first.t]
    for i in range(5):
        s = t.next(2 ** i * 1.5 + 2)
        assert s is not None and flags_of(s) == F("SA") and s.seq == first.seq
        times.append(s.t)
    assert_backoff(times, 1, 5)
    t.none(quiet=40)                             # the 6th would come 32 s after the 5th: given up
    t.send(TCP(sport=sport, dport=port, flags="A", seq=1001, ack=first.seq + 1))
    r = t.one()                                  # the half-open connection is gone
    assert flags_of(r) == "R" and r.seq == first.seq + 1


def test_dup_syn_synrcvd(t):                                                 # case 9
    port = t.port()
    t.listen(port)
    sport = t.port()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=1000))
    a = t.one()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=1000))
    b = t.one()
    assert flags_of(b) == F("SA") and b.seq == a.seq and b.ack == 1001


def test_rst_synrcvd(t):                                                     # case 10
    port = t.port()
    l = t.listen(port)
    sport = t.port()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=1000))
    t.one()
    t.send(TCP(sport=sport, dport=port, flags="R", seq=1001))
    t.none()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=5000))
    sa = t.one()
    assert flags_of(sa) == F("SA") and sa.ack == 5001
    t.send(TCP(sport=sport, dport=port, flags="A", seq=5001, ack=sa.seq + 1))
    t.accept(l)


# ======================================================================= SYN-SENT

@both_backends
def test_active_open(t):                                                     # case 11
    port = t.port()
    h = t.connect(port)
    syn = t.one()
    assert flags_of(syn) == "S" and opt(syn, "MSS") == 1460
    assert syn.dport == port and 32768 <= syn.sport <= 60999
    assert t.connect_result(h, within=0) == "pending"
    t.send(TCP(sport=port, dport=syn.sport, flags="SA", seq=9000, ack=syn.seq + 1, options=[("MSS", 1400)]))
    ack = t.one()
    assert flags_of(ack) == "A" and ack.ack == 9001 and ack.seq == syn.seq + 1
    assert t.connect_result(h) == "ok"


def test_synsent_bad_ack(t):                                                 # case 12
    port = t.port()
    h = t.connect(port)
    syn = t.next()
    t.send(TCP(sport=port, dport=syn.sport, flags="A", seq=1, ack=syn.seq + 77))
    r = t.next()
    assert flags_of(r) == "R" and r.seq == syn.seq + 77
    again = t.next(3.0)                          # the SYN's retransmission (RTO 1 s)
    assert flags_of(again) == "S" and again.seq == syn.seq
    assert t.connect_result(h, within=0) == "pending"


def test_synsent_rst_badack(t):                                              # case 13
    port = t.port()
    h = t.connect(port)
    syn = t.next()
    t.send(TCP(sport=port, dport=syn.sport, flags="RA", seq=0, ack=syn.seq + 5))
    t.send(TCP(sport=port, dport=syn.sport, flags="R", seq=0))
    assert t.next(0.5) is None                   # ignored (before the SYN's retransmission)
    assert t.connect_result(h, within=0) == "pending"
    t.send(TCP(sport=port, dport=syn.sport, flags="SA", seq=9000, ack=syn.seq + 1))
    assert t.connect_result(h) == "ok"           # still in SYN-SENT: completes


@both_backends
def test_synsent_rst_ack_refuses(t):
    port = t.port()
    h = t.connect(port)
    syn = t.next()
    t.send(TCP(sport=port, dport=syn.sport, flags="RA", seq=0, ack=syn.seq + 1))
    t.none()
    assert t.connect_result(h) == "error econnrefused"


@both_backends
def test_simultaneous_open(t):                                               # case 14
    port = t.port()
    h = t.connect(port)
    syn = t.next()
    t.send(TCP(sport=port, dport=syn.sport, flags="S", seq=3000, options=[("MSS", 1000)]))
    sa = t.one()
    assert flags_of(sa) == F("SA") and sa.seq == syn.seq and sa.ack == 3001 and opt(sa, "MSS") == 1460
    t.send(TCP(sport=port, dport=syn.sport, flags="SA", seq=3000, ack=syn.seq + 1))
    t.send(TCP(sport=port, dport=syn.sport, flags="A", seq=3001, ack=syn.seq + 1))
    assert t.connect_result(h) == "ok"
    c = Conn(t, h, sport=port, dport=syn.sport, snd=3001, rcv=syn.seq + 1)
    c.send("PA", b"simultaneous")
    assert t.recv(h, 0, 2) == b"simultaneous"


# ======================================================================= MSS

@both_backends
def test_mss_respected(t):                                                   # case 15
    c = passive_open(t, mss=536)
    t.nodelay(c.app)
    t.app_send(c.app, 5000)
    got = collect(t, c, 5000, max_payload=536)
    assert got == pattern(5000)


def test_mss_default(t):                                                     # case 16
    c = passive_open(t, mss=None)
    t.nodelay(c.app)
    t.app_send(c.app, 3000)
    assert collect(t, c, 3000, max_payload=MSS_DEFAULT) == pattern(3000)


def test_mss_only_syn(t):                                                    # case 17
    c = passive_open(t)
    assert opt(c.synack, "MSS") == 1460
    t.app_send(c.app, 3000)
    collect(t, c, 3000)                          # checks every segment
    c.send("PA", b"x" * 10)
    assert t.recv(c.app, 10, 2) == b"x" * 10
    t.close(c.app)
    for s in t.segments():
        assert opt(s, "MSS") is None and opt(s, "WScale") is None, summary(s)


def test_wscale_both_ways_passive(t):                                        # RFC 7323
    c = passive_open(t, wscale=2, window=1000)
    assert opt(c.synack, "WScale") is not None and c.synack.window <= 65535
    t.nodelay(c.app)
    t.app_send(c.app, 20000)
    first = t.segments()
    # T's window is 1000 << 2: S may have up to 4000 bytes in flight, more than 1000.
    inflight = sum(len(payload(s)) for s in first)
    assert 1000 < inflight <= 4000, [summary(s) for s in first]
    got = c.take(first)
    got += collect(t, c, 20000 - len(got), window=1000)
    assert got == pattern(20000)


def test_wscale_both_ways_active(t):
    c = active_open(t, wscale=3, window=500)
    shift = opt(c.syn, "WScale")
    assert shift is not None
    c.send("PA", b"a" * 100, window=500)
    ack = t.one()
    assert ack.ack == c.snd
    # S's advertised window is scaled by its shift: unscaled it is its receive space.
    assert ack.window << shift >= 65535
    t.nodelay(c.app)
    t.app_send(c.app, 6000)
    first = t.segments()
    assert 500 < sum(len(payload(s)) for s in first) <= 4000     # 500 << 3


# ======================================================================= ESTABLISHED: receiving

@both_backends
def test_data_inseq(t):                                                      # case 21
    c = passive_open(t)
    c.send("PA", b"a" * 100)
    ack = t.one(within=0.5 + 0.5)                # MUST-40: within 500 ms (plus the host's latency)
    assert flags_of(ack) == "A" and ack.ack == c.snd
    assert t.recv(c.app, 0, 2) == b"a" * 100
    assert t.recv(c.app, 0, 0.3) == "timeout"    # delivered once


def test_two_full_segments(t):                                               # case 22
    c = passive_open(t, mss=1460)
    c.send("A", b"x" * 1460)
    c.send("A", b"y" * 1460)
    ack = t.one()
    assert ack.ack == c.snd
    assert t.recv(c.app, 2920, 2) == b"x" * 1460 + b"y" * 1460


@both_backends
def test_ooo_hole(t):                                                        # case 23
    c = passive_open(t)
    base = c.snd
    c.send("A", b"2" * 100, seq=base + 100)
    dup = t.one()
    assert dup.ack == base
    assert t.recv(c.app, 0, 0.2) == "timeout"
    c.send("A", b"1" * 100, seq=base)
    ack = t.one()
    assert ack.ack == base + 200
    assert t.recv(c.app, 200, 2) == b"1" * 100 + b"2" * 100


def test_dup_segment(t):                                                     # case 24
    c = passive_open(t)
    c.send("PA", b"q" * 100)
    t.one()
    c.send("PA", b"q" * 100, seq=c.snd - 100)
    ack = t.one()
    assert ack.ack == c.snd
    assert t.recv(c.app, 0, 2) == b"q" * 100
    assert t.recv(c.app, 0, 0.3) == "timeout"


def test_overlap_trim(t):                                                    # case 25
    c = passive_open(t)
    base = c.snd
    c.send("A", bytes(range(100)), seq=base)
    c.send("A", bytes(range(50, 150)), seq=base + 50)
    t.segments()
    assert t.recv(c.app, 150, 2) == bytes(range(150))
    assert t.recv(c.app, 0, 0.3) == "timeout"


def test_beyond_window(t):                                                   # case 26
    c = passive_open(t)
    c.send("A", b"z" * 10, seq=c.snd + 200000)
    ack = t.one()
    assert ack.ack == c.snd
    c.send("PA", b"next")                        # the beyond-window bytes were not kept
    t.segments()
    assert t.recv(c.app, 0, 2) == b"next"


def test_bad_tcp_checksum(t):                                                # case 27
    c = passive_open(t)
    c.send("PA", b"bad", corrupt_checksum=True, advance=False)
    t.none(quiet=0.6)
    assert t.recv(c.app, 0, 0.2) == "timeout"


def test_ack_beyond_sndnxt(t):                                               # case 28
    c = passive_open(t)
    c.send("PA", b"data", ack=c.rcv + 1000, advance=False)
    ack = t.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    assert t.recv(c.app, 0, 0.2) == "timeout"


# ======================================================================= ESTABLISHED: sending

def test_rto_retx(t):                                                        # case 29 (first two)
    c = passive_open(t)
    t.nodelay(c.app)
    t.app_send(c.app, 100)
    first = t.next()
    again = [t.next(4.0), t.next(6.0)]
    assert all(s is not None and s.seq == first.seq and payload(s) == payload(first) for s in again)
    assert_backoff([first.t] + [s.t for s in again], 1, 2)
    c.take([first])
    c.send("A")
    t.none()


@pytest.mark.slow
def test_rto_retx_doubling(t):                                               # case 29 (four)
    c = passive_open(t)
    t.nodelay(c.app)
    t.app_send(c.app, 100)
    first = t.next()
    times = [first.t]
    for i in range(4):
        s = t.next(2 ** i * 1.5 + 2)
        assert s is not None and s.seq == first.seq and payload(s) == payload(first)
        times.append(s.t)
    assert_backoff(times, 1, 4)
    c.take([first])
    c.send("A")
    t.none()


def test_fast_retx(t):                                                       # case 30
    c = passive_open(t)
    t.nodelay(c.app)
    t.app_send(c.app, 6 * 1460)
    segs = t.segments()
    assert len(segs) == 6, [summary(s) for s in segs]
    first = segs[0]
    sent_at = t.now()
    for _ in range(3):
        c.send("A", ack=first.seq)               # T lost the first one
    r = t.next(0.9)                              # before the RTO (1 s) could fire
    assert r is not None and r.seq == first.seq and payload(r) == payload(first)
    assert t.now() - sent_at < 1.0
    c.take([r] + segs[1:])
    c.send("A")


def test_peer_window(t):                                                     # case 31
    c = passive_open(t, window=1000)
    t.nodelay(c.app)
    t.app_send(c.app, 5000)
    got = b""
    for _ in range(30):
        segs = t.segments() or ([s] if (s := t.next(3.0)) is not None else [])
        flight = sum(len(payload(s)) for s in segs if s.seq - c.rcv < (1 << 31))
        assert flight <= 1000, [summary(s) for s in segs]
        got += c.take(segs)
        c.send("A", window=1000)
        if len(got) == 5000:
            break
    assert got == pattern(5000)


@both_backends
def test_zero_window_probe(t):                                               # case 32 (first two)
    c = passive_open(t)
    c.send("A", window=0)
    t.nodelay(c.app)
    t.app_send(c.app, 3000)
    probes = []
    for _ in range(2):
        p = t.next(4.0)
        assert p is not None and len(payload(p)) <= 1, summary(p)
        probes.append(p)
        c.send("A", window=0)
    assert all(p.seq in (c.rcv - 1, c.rcv) for p in probes)
    assert probes[1].t - probes[0].t >= 0.95 * 2, gaps([p.t for p in probes])   # backing off


@pytest.mark.slow
def test_zero_window_probe_backoff_never_aborts(t):                          # case 32 (complete)
    c = passive_open(t)
    c.send("A", window=0)
    t.nodelay(c.app)
    t.app_send(c.app, 3000)
    times = [t.now()]
    for i in range(8):
        p = t.next(min(2 ** i, 60) * 1.5 + 2)
        assert p is not None and len(payload(p)) <= 1, summary(p)
        times.append(p.t)
        c.send("A", window=0)
    g = gaps(times)
    assert g[-1] >= 0.95 * 60 and g[1] >= 1.9, g            # backed off to the 60 s cap
    c.send("A", window=65535)                    # never aborted: the data still comes
    assert collect(t, c, 3000) == pattern(3000)


def test_window_reopen(t):                                                   # case 33
    c = passive_open(t)
    c.send("A", window=0)
    t.nodelay(c.app)
    t.app_send(c.app, 3000)
    probe = t.next(3.0)
    assert probe is not None
    c.take([probe])
    c.send("A", window=65535)
    assert collect(t, c, 3000) == pattern(3000)


# ======================================================================= ESTABLISHED: RST, SYN

@both_backends
def test_rst_exact(t):                                                       # case 34
    c = passive_open(t)
    c.send("R", advance=False)
    t.none()
    assert t.recv(c.app, 0, 1) in ("econnreset", "closed")
    c.send("PA", b"later")
    assert flags_of(t.one()) == "R"


def test_rst_inwindow(t):                                                    # case 35
    c = passive_open(t)
    c.send("R", seq=c.snd + 1, advance=False)
    ack = t.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    c.send("PA", b"alive")
    t.segments()
    assert t.recv(c.app, 0, 2) == b"alive"


def test_rst_outwindow(t):                                                   # case 36
    c = passive_open(t)
    c.send("R", seq=c.snd + 10_000_000, advance=False)
    c.send("R", seq=c.snd - 10, advance=False)
    t.none()
    c.send("PA", b"alive")
    t.segments()
    assert t.recv(c.app, 0, 2) == b"alive"


def test_syn_in_established(t):                                              # case 37
    c = passive_open(t)
    c.send("S", seq=c.snd + 5000, advance=False)
    ack = t.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    c.send("PA", b"alive")
    t.segments()
    assert t.recv(c.app, 0, 2) == b"alive"


# ======================================================================= closing

@both_backends
def test_passive_close(t):                                                   # case 38
    c = passive_open(t)
    c.send("FA")
    ack = t.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    assert t.recv(c.app, 0, 2) == "closed"
    t.close(c.app)
    fin = t.one()
    assert flags_of(fin) == F("FA")
    c.send("A", ack=fin.seq + 1)
    t.none()
    c.rcv = fin.seq + 1
    r = c.probe()
    assert r is not None and flags_of(r) == "R", "the connection should be gone"


@both_backends
def test_active_close_timewait(t):                                           # case 39
    c = passive_open(t)
    t.close(c.app)
    fin = t.one()
    assert flags_of(fin) == F("FA")
    c.our_fin = fin.seq
    c.send("A", ack=fin.seq + 1)
    t.none()
    c.send("FA", ack=fin.seq + 1)
    ack = t.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    c.send("FA", seq=c.snd - 1, ack=fin.seq + 1, advance=False)     # retransmitted FIN
    again = t.one()
    assert flags_of(again) == "A" and again.ack == c.snd
    c.send("R", seq=c.snd, advance=False)                           # RFC 1337: ignored
    t.none()
    c.send("FA", seq=c.snd - 1, ack=fin.seq + 1, advance=False)     # still in TIME-WAIT
    assert flags_of(t.one()) == "A"


@pytest.mark.slow
def test_time_wait_expires_after_2msl(t):                                    # case 39 (expiry)
    c = passive_open(t)
    t.close(c.app)
    fin = t.one()
    c.our_fin = fin.seq
    c.send("A", ack=fin.seq + 1)
    c.send("FA", ack=fin.seq + 1)
    t.one()
    t.wait(30)
    c.send("FA", seq=c.snd - 1, ack=fin.seq + 1, advance=False)     # restarts 2 MSL (60 s)
    assert flags_of(t.one()) == "A"
    t.wait(50)
    r = c.probe()
    assert r is not None and flags_of(r) == "A"                     # still TIME-WAIT at +50 s
    t.wait(15)
    r = c.probe()
    assert r is not None and flags_of(r) == "R"                     # gone after 60 s


def test_simultaneous_close(t):                                              # case 40
    c = passive_open(t)
    t.close(c.app)
    fin = t.one()
    c.our_fin = fin.seq
    c.send("FA", ack=fin.seq)                    # crossing FIN: ours not yet acknowledged
    ack = t.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    c.send("A", ack=fin.seq + 1)
    t.none()
    # TIME-WAIT, not CLOSING: an exact RST is ignored (RFC 1337) and a FIN still ACKed.
    c.send("R", seq=c.snd, advance=False)
    t.none()
    c.send("FA", seq=c.snd - 1, ack=fin.seq + 1, advance=False)
    assert flags_of(t.one()) == "A"


# ======================================================================= SACK (RFC 2018, RFC 6675)

def test_sack_permitted_answered(t):
    """SACK-permitted in T's SYN is answered in the SYN-ACK (Linux's net.ipv4.tcp_sack
    default); a SYN without it gets none."""
    port = t.port()
    t.listen(port)
    sport = t.port()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=1000, options=[("MSS", 1460), ("SAckOK", b"")]))
    synack = t.one()
    assert flags_of(synack) == F("SA") and ("SAckOK", b"") in synack.options
    plain = t.port()
    t.send(TCP(sport=plain, dport=port, flags="S", seq=1000, options=[("MSS", 1460)]))
    synack = t.one()
    assert flags_of(synack) == F("SA") and ("SAckOK", b"") not in synack.options


def test_sack_blocks_report_the_hole(t):
    """With SACK agreed, the duplicate ACK for data beyond a hole carries its block, the
    newest first; filling the hole ends the blocks."""
    c = passive_open(t, sack=True)
    base = c.snd
    c.send("A", b"2" * 100, seq=base + 100)
    dup = t.one()
    assert dup.ack == base and opt(dup, "SAck") == (base + 100, base + 200)
    c.send("A", b"4" * 100, seq=base + 300)
    dup = t.one()
    assert dup.ack == base and opt(dup, "SAck") == (base + 300, base + 400, base + 100, base + 200)
    c.send("A", b"1" * 100, seq=base)
    c.send("A", b"3" * 100, seq=base + 200)
    acks = t.segments()
    assert acks and acks[-1].ack == base + 400 and opt(acks[-1], "SAck") is None
    assert t.recv(c.app, 400, 2) == b"1" * 100 + b"2" * 100 + b"3" * 100 + b"4" * 100


def test_sack_recovery_resends_only_the_hole(t):
    """T lost segment 1 of 6 and SACKs 2..5: S resends segment 1 alone, before the RTO."""
    c = passive_open(t, sack=True)
    assert ("SAckOK", b"") in c.synack.options
    t.nodelay(c.app)
    t.app_send(c.app, 6 * 1460)
    segs = t.segments()
    assert len(segs) == 6, [summary(s) for s in segs]
    s = [x.seq for x in segs] + [segs[-1].seq + len(payload(segs[-1]))]
    sent_at = t.now()
    c.take(segs[:1])
    for k in (3, 4, 5):                          # three duplicate ACKs, each SACKing more
        c.send("A", ack=s[1], options=[("SAck", (s[2], s[k]))])
    r = t.next(0.9)                              # before the RTO (1 s) could fire
    assert r is not None and r.seq == s[1] and payload(r) == payload(segs[1]), r and summary(r)
    assert t.now() - sent_at < 1.0
    c.send("A", ack=s[1], options=[("SAck", (s[2], s[6]))])
    more = t.segments()
    assert all(not (s[2] <= x.seq < s[6]) for x in more), [summary(x) for x in more]
    c.take([r] + segs[2:])
    c.send("A")
    t.none()


class SackPeer:
    """T as a SACK receiver: in-order bytes, out-of-order ranges held, and the blocks of
    its next ACK (the newest segment's block first, then the most recently reported)."""

    def __init__(self, base: int):
        self.base, self.rcv_nxt, self.data = base, base, {}
        self.held: list[list[int]] = []
        self.recent: list[int] = []

    def take(self, seq: int, data: bytes) -> None:
        for i, b in enumerate(data):
            self.data.setdefault(seq + i, b)
        merged: list[list[int]] = []
        for lo, hi in sorted(self.held + [[seq, seq + len(data)]]):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        while merged and merged[0][0] <= self.rcv_nxt:
            self.rcv_nxt = max(self.rcv_nxt, merged.pop(0)[1])
        self.held = merged
        if seq > self.rcv_nxt:
            self.recent.insert(0, seq)

    def blocks(self) -> tuple:
        out = []
        for b in self.recent:
            for lo, hi in self.held:
                if lo <= b < hi and (lo, hi) not in out:
                    out.append((lo, hi))
        self.recent = [lo for lo, _ in out][:4]
        return tuple(x for blk in out[:4] for x in blk)

    def bytes_in_order(self) -> bytes:
        return bytes(self.data[i] for i in range(self.base, self.rcv_nxt))


def test_sack_lossy_transfer_resends_only_lost_data(t):
    """T drops the first transmission of every 7th segment of a 30-segment transfer and
    SACKs what arrives: S repairs every hole, and nothing it resends had arrived."""
    c = passive_open(t, sack=True)
    t.nodelay(c.app)
    total, mss = 30 * 1460, 1460
    t.app_send(c.app, total)
    peer = SackPeer(c.rcv)
    sent_end, dropped, resent = c.rcv, [], []
    for _ in range(80):
        segs = t.segments() or [s for s in [t.next(3.0)] if s is not None]
        for s in segs:
            data = payload(s)
            if not data:
                continue
            if s.seq >= sent_end:                         # a first transmission
                sent_end = s.seq + len(data)
                if (s.seq - c.rcv) // mss % 7 == 3:
                    dropped.append((s.seq, s.seq + len(data)))
                    continue
            else:
                resent.append((s.seq, s.seq + len(data)))
            peer.take(s.seq, data)
            blocks = peer.blocks()
            c.send("A", ack=peer.rcv_nxt, options=[("SAck", blocks)] if blocks else [])
        if peer.rcv_nxt - c.rcv >= total:
            break
    assert peer.bytes_in_order() == pattern(total)
    assert len(dropped) >= 4
    for lo, hi in resent:
        assert any(d_lo <= lo and hi <= d_hi for d_lo, d_hi in dropped), (lo, hi, dropped)


# ======================================================================= the state × segment matrix

def to_syn_received(t):
    port = t.port()
    t.listen(port)
    sport = t.port()
    t.send(TCP(sport=sport, dport=port, flags="S", seq=1000))
    sa = t.one()
    return Conn(t, None, sport=sport, dport=port, snd=1001, rcv=sa.seq + 1)


def to_fin_wait_1(t):
    c = passive_open(t)
    t.close(c.app)
    c.our_fin = t.one().seq
    return c


def to_fin_wait_2(t):
    c = to_fin_wait_1(t)
    c.send("A", ack=c.our_fin + 1)
    c.rcv = c.our_fin + 1
    return c


def to_close_wait(t):
    c = passive_open(t)
    c.send("FA")
    t.one()
    return c


def to_closing(t):
    c = to_fin_wait_1(t)
    c.send("FA", ack=c.our_fin)
    t.one()
    return c


def to_last_ack(t):
    c = to_close_wait(t)
    t.close(c.app)
    c.our_fin = t.one().seq
    return c


def to_time_wait(t):
    c = to_fin_wait_2(t)
    c.send("FA")
    t.one()
    return c


SETUPS = {
    "SYN_RECEIVED": to_syn_received, "FIN_WAIT_1": to_fin_wait_1, "FIN_WAIT_2": to_fin_wait_2,
    "CLOSE_WAIT": to_close_wait, "CLOSING": to_closing, "LAST_ACK": to_last_ack,
    "TIME_WAIT": to_time_wait,
}

# (state, event) -> (S's reply flags or None, is there a connection afterwards).  The
# states are those of RFC 9293 §3.10.7.4; the test of test_tcp_close.py checks the exact
# state on the host.  "Connection afterwards" is seen by a probe left of the window: ACKed
# by a synchronized connection (TIME-WAIT too), reset when there is none.
MATRIX = {
    ("SYN_RECEIVED", "fin"): ("A", True),         # -> CLOSE-WAIT
    ("SYN_RECEIVED", "rst_exact"): (None, False),
    ("SYN_RECEIVED", "rst_inwin"): ("A", True),
    ("SYN_RECEIVED", "syn"): (None, False),       # passive: back to LISTEN
    ("SYN_RECEIVED", "ack"): (None, True),        # -> ESTABLISHED
    ("FIN_WAIT_1", "fin"): ("A", True),           # -> CLOSING
    ("FIN_WAIT_1", "rst_exact"): (None, False),
    ("FIN_WAIT_1", "rst_inwin"): ("A", True),
    ("FIN_WAIT_1", "syn"): ("A", True),
    ("FIN_WAIT_1", "ack"): (None, True),          # -> FIN-WAIT-2
    ("FIN_WAIT_2", "fin"): ("A", True),           # -> TIME-WAIT
    ("FIN_WAIT_2", "rst_exact"): (None, False),
    ("FIN_WAIT_2", "rst_inwin"): ("A", True),
    ("FIN_WAIT_2", "syn"): ("A", True),
    ("FIN_WAIT_2", "ack"): (None, True),
    ("CLOSE_WAIT", "fin"): ("A", True),           # a retransmitted FIN
    ("CLOSE_WAIT", "rst_exact"): (None, False),
    ("CLOSE_WAIT", "rst_inwin"): ("A", True),
    ("CLOSE_WAIT", "syn"): ("A", True),
    ("CLOSE_WAIT", "ack"): (None, True),
    ("CLOSING", "fin"): ("A", True),
    ("CLOSING", "rst_exact"): (None, False),
    ("CLOSING", "rst_inwin"): ("A", True),
    ("CLOSING", "syn"): ("A", True),
    ("CLOSING", "ack"): (None, True),             # -> TIME-WAIT
    ("LAST_ACK", "fin"): ("A", True),
    ("LAST_ACK", "rst_exact"): (None, False),
    ("LAST_ACK", "rst_inwin"): ("A", True),
    ("LAST_ACK", "syn"): ("A", True),
    ("LAST_ACK", "ack"): (None, False),           # -> CLOSED
    ("TIME_WAIT", "fin"): ("A", True),
    ("TIME_WAIT", "rst_exact"): (None, True),     # RFC 1337
    ("TIME_WAIT", "rst_inwin"): (None, True),
    ("TIME_WAIT", "syn"): ("A", True),            # old sequence number: challenge ACK
    ("TIME_WAIT", "ack"): (None, True),
}

RESENT_FIN = ("CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")   # T's FIN went already


def deliver(c, state, event):
    if event == "fin":
        ack = c.our_fin if state == "FIN_WAIT_1" else c.rcv
        if state in RESENT_FIN:
            c.send("FA", seq=c.snd - 1, ack=ack, advance=False)
        else:
            c.send("FA", ack=ack)
    elif event == "rst_exact":
        c.send("R", advance=False)
    elif event == "rst_inwin":
        c.send("R", seq=c.snd + 1, advance=False)
    elif event == "syn":
        c.send("S", seq=c.snd - 2 if state == "TIME_WAIT" else c.snd + 1000, advance=False)
    elif event == "ack":
        c.send("A", ack=c.our_fin + 1 if c.our_fin is not None else c.rcv, advance=False)
        if c.our_fin is not None:
            c.rcv = c.our_fin + 1


@pytest.mark.parametrize("state,event", sorted(MATRIX))
def test_fin_rst_state_matrix(t, state, event):                              # case 41
    c = SETUPS[state](t)
    deliver(c, state, event)
    reply, alive = MATRIX[(state, event)]
    segs = t.segments()
    if reply is None:
        assert segs == [], [summary(s) for s in segs]
    else:
        assert len(segs) == 1 and flags_of(segs[0]) == F(reply), [summary(s) for s in segs]
    r = c.probe()
    assert r is not None, "no answer to the probe"
    if alive:
        assert flags_of(r) == "A", f"expected a connection, probe got {summary(r)}"
        assert r.ack == c.snd, summary(r)        # RCV.NXT: T's FIN counted where it was taken
    else:
        assert "R" in flags_of(r), f"expected no connection, probe got {summary(r)}"


# ======================================================================= backlog

@both_backends
@pytest.mark.parametrize("backlog,extra", [(1, 1), (3, 2)])
def test_backlog_overflow(t, backlog, extra):                                # case 42
    port = t.port()
    l = t.listen(port, backlog)
    sports = [t.port() for _ in range(backlog + extra)]
    for i, sp in enumerate(sports):
        t.send(TCP(sport=sp, dport=port, flags="S", seq=100 * i))
    synacks = {}
    for s in t.segments():
        assert flags_of(s) == F("SA"), "a SYN over the backlog must not be reset: " + summary(s)
        synacks.setdefault(s.dport, s)
    assert sorted(synacks) == sports[:backlog]
    for i, sp in enumerate(sports[:backlog]):
        t.send(TCP(sport=sp, dport=port, flags="A", seq=100 * i + 1, ack=synacks[sp].seq + 1))
    t.none()
    late = sports[backlog]
    t.send(TCP(sport=late, dport=port, flags="S", seq=100 * backlog))       # still full
    t.none()
    t.accept(l)
    t.send(TCP(sport=late, dport=port, flags="S", seq=100 * backlog))       # room now
    r = t.one()
    assert flags_of(r) == F("SA") and r.dport == late
