"""Malformed and mutated frames for a booted kernel (tests/test_net_guest_fuzz.py,
bench/guest_fuzz.py): random bytes, random Ethernet payloads, mutated valid ARP, ICMP,
UDP, IPv4-fragment and TCP frames (bytes changed, headers rewritten, truncated, extended),
and TCP segments with a right checksum but random flags (reserved bits included),
sequence numbers, windows, data offsets and option bytes, aimed at a listener, a closed
port and any port.  Deterministic for a seed.

Pacing: every `sync_every` frames the tester pings the guest and waits for the reply; the
ring and QEMU's socket are FIFO, so when the reply comes every frame before it has been
taken by the guest (none is lost on the host), and the guest is alive."""

from __future__ import annotations

import random
import struct

from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment, in4_chksum
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from tcp_target import GUEST_MAC, LOCAL, PEER, TESTER_MAC, Link, ping

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
CLOSED_PORT = 9


def _eth(p, dst=GUEST_MAC) -> bytes:
    return bytes(Ether(src=TESTER_MAC, dst=dst) / p)


def templates(listen_port: int) -> list[bytes]:
    ip = IP(src=PEER, dst=LOCAL)
    opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("WScale", 7), ("NOP", None)]
    out = [
        _eth(ARP(op=1, hwsrc=TESTER_MAC, psrc=PEER, pdst=LOCAL), BROADCAST_MAC),
        _eth(ARP(op=2, hwsrc=TESTER_MAC, psrc=PEER, hwdst=GUEST_MAC, pdst=LOCAL)),
        _eth(ip / ICMP(type=8, id=1, seq=2) / Raw(b"p" * 40)),
        _eth(ip / ICMP(type=3, code=3) / Raw(bytes(ip / UDP(sport=1, dport=2)))),
        _eth(ip / UDP(sport=1000, dport=CLOSED_PORT) / Raw(b"closed")),
        _eth(IP(src=PEER, dst=LOCAL, proto=200) / Raw(b"x" * 10)),
        _eth(IP(src=PEER, dst=LOCAL, options=b"\x94\x04\x00\x00") / TCP(dport=listen_port, flags="S")),
        _eth(ip / TCP(sport=40000, dport=listen_port, flags="S", seq=1, options=opts)),
        _eth(ip / TCP(sport=40001, dport=listen_port, flags="A", seq=2, ack=3) / Raw(b"d" * 100)),
        _eth(ip / TCP(sport=40002, dport=listen_port, flags="FPA", seq=2, ack=3) / Raw(b"fin")),
        _eth(ip / TCP(sport=40003, dport=CLOSED_PORT, flags="R", seq=2)),
        _eth(ip / TCP(sport=40004, dport=CLOSED_PORT, flags="SA", seq=2, ack=9)),
    ]
    out += [_eth(f) for f in fragment(IP(src=PEER, dst=LOCAL, id=9) / TCP(dport=listen_port, flags="S")
                                      / Raw(b"f" * 2000), fragsize=800)]
    return out


def mutate(rng: random.Random, frame: bytes) -> bytes:
    b = bytearray(frame)
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.4 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif kind < 0.7 and len(b) > 14:
            i = rng.randrange(14, min(len(b), 14 + 60))   # IP/TCP headers: lengths, offsets, flags, options
            b[i] = rng.randrange(256)
        elif kind < 0.85:
            del b[rng.randrange(len(b) + 1):]
        else:
            b += rng.randbytes(rng.randint(1, 64))
    return bytes(b)


def valid_options(rng: random.Random) -> bytes:
    """Well-formed option bytes with random values (MSS, window scale, SACK-permitted,
    timestamps, NOP, unknown kinds), padded to 4 bytes, at most 40."""
    out = b""
    for _ in range(rng.randint(0, 5)):
        kind = rng.choice(["mss", "ws", "sackok", "ts", "nop", "unknown"])
        o = {"mss": lambda: b"\x02\x04" + rng.randbytes(2), "ws": lambda: b"\x03\x03" + rng.randbytes(1),
             "sackok": lambda: b"\x04\x02", "ts": lambda: b"\x08\x0a" + rng.randbytes(8),
             "nop": lambda: b"\x01",
             "unknown": lambda: bytes([rng.randrange(9, 256), n := rng.randint(2, 6)]) + rng.randbytes(n - 2)}[kind]()
        if len(out) + len(o) > 40:
            break
        out += o
    return out + b"\0" * (-len(out) % 4)


def random_tcp(rng: random.Random, listen_port: int, src: str = PEER, conn=None) -> bytes:
    """A TCP segment with a right checksum and anything else random; with conn (T's port,
    S's port, T's next sequence number, S's) on that connection, sequence and
    acknowledgment numbers near the edges of its windows."""
    options = rng.randbytes(rng.choice([0, 4, 8, 12, 20, 40])) if rng.random() < 0.3 else valid_options(rng)
    offset = (20 + len(options)) // 4 if rng.random() < 0.8 else rng.randrange(16)
    data = rng.randbytes(rng.choice([0, 0, 1, 10, 600]))
    sport, dport = rng.randrange(1, 65536), rng.choice([listen_port, listen_port, CLOSED_PORT, rng.randrange(65536)])
    seq, ack = rng.getrandbits(32), rng.getrandbits(32)
    if conn is not None:
        sport, dport = conn[0], conn[1]
        seq = (conn[2] + rng.choice([0, 1, -1, rng.randint(-70000, 140000)])) % (1 << 32)
        ack = (conn[3] + rng.choice([0, 1, -1, rng.randint(-70000, 70000)])) % (1 << 32)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack,
                      (offset << 4) | rng.randrange(16), rng.randrange(256), rng.randrange(65536), 0,
                      rng.randrange(65536))
    seg = hdr + options + data
    csum = in4_chksum(6, IP(src=src, dst=LOCAL), seg)
    seg = seg[:16] + struct.pack("!H", csum) + seg[18:]
    return _eth(IP(src=src, dst=LOCAL, proto=6) / Raw(seg))


def frames(seed: int, count: int, listen_port: int, conn=None):
    """`count` frames, deterministic for `seed`; never empty: QEMU's dgram backend takes an
    empty datagram for the end of the connection and stops reading its socket.  With conn
    (see random_tcp) a tenth of them hit that established connection."""
    for f in _frames(random.Random(seed), count, listen_port, conn):
        yield f or b"\0"


def _frames(rng: random.Random, count: int, listen_port: int, conn):
    temps = templates(listen_port)
    for _ in range(count):
        r = rng.random()
        if conn is not None and rng.random() < 0.1:
            yield random_tcp(rng, listen_port, conn=conn)
        elif r < 0.10:
            yield rng.randbytes(rng.randint(1, 1600))
        elif r < 0.20:
            yield (bytes.fromhex(GUEST_MAC.replace(":", "")) + bytes.fromhex(TESTER_MAC.replace(":", ""))
                   + rng.randbytes(rng.randint(2, 200)))
        elif r < 0.55:
            yield mutate(rng, rng.choice(temps))
        elif r < 0.95:
            yield random_tcp(rng, listen_port)
        else:                                            # a stranger on the subnet, or a bad source
            src = rng.choice(["10.0.2.%d" % rng.randrange(3, 255), "255.255.255.255", "224.0.0.1",
                              "127.0.0.1", LOCAL])
            yield random_tcp(rng, listen_port, src)


def run(link: Link, seed: int, count: int, listen_port: int, sync_every: int = 100, conn=None) -> dict:
    """Send the frames, pinging every `sync_every`; returns counts.  Raises AssertionError
    when a ping goes unanswered (the guest stopped taking frames)."""
    sent = pings = 0
    tcp_before, arp_before = link.tcp_in, link.arp_requests
    for i, f in enumerate(frames(seed, count, listen_port, conn)):
        link.send_frame(f)
        sent += 1
        if (i + 1) % sync_every == 0:
            pings += 1
            assert ping(link, 60000 + pings % 5000), f"no echo reply after {sent} frames (seed {seed})"
            link.forget_tcp()
    pings += 1
    assert ping(link, 1), f"no echo reply after all {sent} frames (seed {seed})"
    return {"frames": sent, "pings": pings, "tcp_replies": link.tcp_in - tcp_before,
            "arp_requests": link.arp_requests - arp_before}
