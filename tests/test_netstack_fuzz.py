"""Random and mutated frames into the host build of the stack: nothing crashes, every frame is
either handled or dropped and counted, the stack still answers ping, and once its timers have
run out every buffer is back (bytes in use 0)."""

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw, fuzz

from net_support import *  # noqa: F403
from net_support import ns, start_stack

OPEN_PORT = 5353


def templates() -> list[bytes]:
    e = lambda p, dst=MY_MAC: bytes(Ether(src=PEER_MAC, dst=dst) / p)  # noqa: E731
    out = [
        e(ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst=ME), BROADCAST_MAC),
        e(ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=MY_MAC, pdst=ME)),
        e(IP(src=PEER, dst=ME) / ICMP(type=8, id=1, seq=2) / Raw(b"p" * 40)),
        e(IP(src=PEER, dst=ME) / UDP(sport=1000, dport=OPEN_PORT) / Raw(b"u" * 30)),
        e(IP(src=PEER, dst=ME) / UDP(sport=1000, dport=9) / Raw(b"closed")),
        e(IP(src=PEER, dst=ME, proto=200) / Raw(b"x" * 10)),
        e(IP(src=GW, dst="255.255.255.255") / UDP(sport=67, dport=68)
          / BOOTP(op=2, xid=1, yiaddr=ME, chaddr=mac_bytes(MY_MAC)) / DHCP(options=[("message-type", "offer"), "end"]),
          BROADCAST_MAC),
    ]
    out += [e(f) for f in fragment(IP(src=PEER, dst=ME, id=9, proto=17) / UDP(sport=1, dport=OPEN_PORT)
                                   / Raw(b"f" * 2000), fragsize=800)]
    return out


TEMPLATES = templates()


def mutate(rng: random.Random, frame: bytes) -> bytes:
    b = bytearray(frame)
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.5 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif kind < 0.7 and len(b) > 14:
            i = rng.randrange(14, min(len(b), 14 + 48))   # headers: lengths, IHL, offsets, options
            b[i] = rng.randrange(256)
        elif kind < 0.85:
            del b[rng.randrange(len(b) + 1):]
        else:
            b += rng.randbytes(rng.randint(1, 64))
    return bytes(b)


def setup_fuzz_stack():
    start_stack()
    teach_arp()
    ns.set_buffer_limit(1 << 20)
    return ns.udp_open(OPEN_PORT)


def still_answers_ping(seq):
    teach_arp()
    feed(ping(seq=seq))
    replies = [f for f in sent() if ICMP in f and f[ICMP].type == 0 and f[ICMP].seq == seq]
    assert len(replies) == 1


def drain(sock):
    while ns.udp_receive(sock) != -11:
        pass


def settle(sock):
    """Run every timer out (ARP retries and expiry, reassembly timeouts) and empty the socket."""
    drain(sock)
    t = ns.now()
    for _ in range(100):
        d = ns.next_deadline()
        if d == 0:
            break
        t = max(t, d)
        ns.timers_run(t)
        ns.frames()
    ns.udp_close(sock)
    assert ns.buffers()["bytes_in_use"] == 0
    assert ns.reassembly() == (0, 0)


frames = st.one_of(
    st.binary(max_size=1600),
    st.tuples(st.sampled_from(range(len(TEMPLATES))), st.randoms(use_true_random=False)).map(
        lambda t: mutate(t[1], TEMPLATES[t[0]])),
)


@settings(derandomize=True, max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(frames, min_size=1, max_size=20))
def test_fuzzed_frames_never_break_the_stack(batch):
    sock = setup_fuzz_stack()
    for frame in batch:
        ns.input(frame)
        ns.frames()
    drain(sock)
    still_answers_ping(99)
    settle(sock)


def test_every_drop_reason_has_a_name():
    start_stack()
    names = ns.drop_names()
    assert len(names) == len(set(names)) and all(n.startswith("drop_") for n in names)


@pytest.mark.slow
def test_hundred_thousand_frames():
    rng = random.Random(20261203)
    sock = setup_fuzz_stack()
    scapy_fuzzed = [bytes(Ether(src=PEER_MAC, dst=MY_MAC) / fuzz(IP(dst=ME) / layer))
                    for layer in (ICMP(), UDP(dport=OPEN_PORT), UDP()) for _ in range(700)]
    scapy_fuzzed += [bytes(Ether(src=PEER_MAC, dst=BROADCAST_MAC) / fuzz(ARP(pdst=ME))) for _ in range(900)]
    total = 0
    now = 0
    for i in range(100_000):
        r = rng.random()
        if r < 0.1:
            frame = rng.randbytes(rng.randint(0, 1600))
        elif r < 0.2:
            frame = scapy_fuzzed[rng.randrange(len(scapy_fuzzed))]
        else:
            frame = mutate(rng, TEMPLATES[rng.randrange(len(TEMPLATES))])
        ns.input(frame)
        total += 1
        if i % 64 == 0:
            ns.frames()
            drain(sock)
            now += SECOND // 10
            ns.timers_run(now)
        if i % 10_000 == 0:
            still_answers_ping(i % 65536)
    assert total == 100_000
    c = ns.counters()
    assert ns.total_drops() > 10_000 and c["eth_rx"] > 90_000      # the frames really went in
    assert c["icmp_echo_replies"] >= 10 and c["udp_rx"] > 100      # and some were good
    assert ns.buffers()["bytes_in_use"] <= 1 << 20
    still_answers_ping(1)
    settle(sock)
