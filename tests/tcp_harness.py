"""The TCP tester: scapy builds the peer's segments, the stack (host build, tcp_twin) takes
them through tcp_input, and what it sends is parsed back with scapy (checksums verified
under the IPv4 pseudo-header).  The clock is simulated: waits are instant.

T = the tester (the peer, PEER_ADDR), S = the stack under test (LOCAL_ADDR).
"""

from __future__ import annotations

import ipaddress

import pytest
from scapy.layers.inet import IP, TCP, in4_chksum
from scapy.packet import Raw

from mm_support import fresh_machine
from tyn.twins import heap_twin as heap
from tyn.twins import pmm_twin as pmm
from tyn.twins import tcp_twin as tw

LOCAL = "10.0.2.15"
PEER = "10.0.2.2"
OTHER_PEER = "10.0.2.3"
MS = 1_000_000
SEC = 1_000_000_000
RAM = 64 << 20


def ip(a: str) -> int:
    return int(ipaddress.IPv4Address(a))


def ip_str(a: int) -> str:
    return str(ipaddress.IPv4Address(a))


def flags_of(seg: TCP) -> str:
    """Flags as a canonical string in scapy's letters, sorted: 'A', 'AS', 'AR', 'R', 'AF'..."""
    return "".join(sorted(str(seg.flags)))


def F(s: str) -> str:
    return "".join(sorted(s))


class Stack:
    """One stack under test with its simulated clock."""

    def __init__(self, mtu=1500):
        fresh_machine(RAM)
        assert pmm.init([(0, RAM)], [(0x100000, 0x100000)]) == pmm.OK
        heap.init()
        tw.reset(local_addr=ip(LOCAL), mtu=mtu)

    # --------------------------------------------------------------- segments
    def send(self, seg: TCP, src: str = PEER, dst: str = LOCAL, corrupt_checksum=False) -> None:
        """Deliver a scapy TCP segment from src to S (scapy computes the checksum)."""
        raw_ip = bytes(IP(src=src, dst=dst) / seg)
        tcp_bytes = raw_ip[(raw_ip[0] & 0xF) * 4:]
        if corrupt_checksum:
            b = bytearray(tcp_bytes)
            b[16] ^= 0x5A
            tcp_bytes = bytes(b)
        tw.input(ip(src), ip(dst), tcp_bytes)

    def send_raw(self, tcp_bytes: bytes, src: str = PEER, dst: str = LOCAL) -> None:
        tw.input(ip(src), ip(dst), tcp_bytes)

    def output(self) -> list[TCP]:
        """Segments S sent since the last call, parsed by scapy, checksums verified."""
        segs = []
        for src, dst, proto, data in tw.take_output():
            assert proto == 6
            pkt = IP(bytes(IP(src=ip_str(src), dst=ip_str(dst), proto=6) / Raw(data)))
            seg = pkt[TCP]
            zeroed = bytearray(data)
            zeroed[16:18] = b"\0\0"
            assert in4_chksum(6, pkt[IP], bytes(zeroed)) == seg.chksum, "bad checksum from S"
            assert (data[12] & 0x0F) == 0, "reserved bits set by S"
            seg.ip_src, seg.ip_dst = ip_str(src), ip_str(dst)
            segs.append(seg)
        return segs

    def one(self) -> TCP:
        segs = self.output()
        assert len(segs) == 1, f"expected one segment, got {[summary(s) for s in segs]}"
        return segs[0]

    def none(self) -> None:
        segs = self.output()
        assert segs == [], f"expected silence, got {[summary(s) for s in segs]}"

    # ------------------------------------------------------------------ time
    def advance(self, ns: int) -> None:
        tw.advance(ns)

    def advance_to_next_deadline(self) -> int:
        d = tw.next_deadline()
        assert d, "no timer armed"
        tw.advance(d - tw.now())
        return d

    # ------------------------------------------------------------ sockets
    def listener(self, port=80, backlog=8, **opts) -> int:
        p = tw.new()
        assert p
        for k, v in opts.items():
            getattr(tw, "set_" + k)(p, v)
        assert tw.bind(p, 0, port) == 0
        assert tw.listen(p, backlog) == 0
        return p

    def passive_open(self, port=80, sport=40000, isn=1000, mss=1460, wscale=None, window=65535,
                     listener=None, src=PEER, accept=True):
        """T opens a connection to S's listener; returns Conn (accepted if accept)."""
        l = listener if listener is not None else self.listener(port)
        opts = [("MSS", mss)] if mss is not None else []
        if wscale is not None:
            opts.append(("WScale", wscale))
        self.send(TCP(sport=sport, dport=port, flags="S", seq=isn, window=window, options=opts), src=src)
        synack = self.one()
        assert flags_of(synack) == F("SA")
        self.send(TCP(sport=sport, dport=port, flags="A", seq=isn + 1, ack=synack.seq + 1, window=window), src=src)
        self.none()
        conn = Conn(self, None, sport=sport, dport=port, snd=isn + 1, rcv=synack.seq + 1, src=src, synack=synack)
        conn.listener = l
        if accept:
            c, err = tw.accept(l)
            assert err == 0 and c
            conn.pcb = c
        return conn

    def active_open(self, port=5555, isn=7000, mss=1460, wscale=None, window=65535):
        """S connects out to T; T answers; returns Conn."""
        p = tw.new()
        assert tw.connect(p, ip(PEER), port) == -115          # EINPROGRESS
        syn = self.one()
        assert flags_of(syn) == "S"
        opts = [("MSS", mss)] if mss is not None else []
        if wscale is not None:
            opts.append(("WScale", wscale))
        self.send(TCP(sport=port, dport=syn.sport, flags="SA", seq=isn, ack=syn.seq + 1, window=window,
                      options=opts))
        ack = self.one()
        assert flags_of(ack) == "A" and ack.ack == isn + 1
        conn = Conn(self, p, sport=port, dport=syn.sport, snd=isn + 1, rcv=syn.seq + 1, syn=syn)
        # From T's side: T's port is sport of its segments.
        return conn


class Conn:
    """T's side of one connection: its next sequence number (snd) and what it has
    received from S (rcv)."""

    def __init__(self, stack, pcb, sport, dport, snd, rcv, src=PEER, synack=None, syn=None):
        self.stack, self.pcb = stack, pcb
        self.sport, self.dport, self.snd, self.rcv, self.src = sport, dport, snd, rcv, src
        self.synack, self.syn = synack, syn
        self.listener = None

    def seg(self, flags="A", payload=b"", seq=None, ack=None, window=65535, options=None, **kw) -> TCP:
        s = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=self.snd if seq is None else seq,
                ack=self.rcv if ack is None else ack, window=window, options=options or [], **kw)
        return s / Raw(payload) if payload else s

    def send(self, flags="A", payload=b"", advance=True, **kw):
        self.stack.send(self.seg(flags, payload, **kw), src=self.src)
        if advance and kw.get("seq") is None:
            self.snd += len(payload) + (1 if "F" in flags else 0) + (1 if "S" in flags else 0)

    def ack_all(self, segs, window=65535):
        """T acknowledges everything in segs."""
        for s in segs:
            end = s.seq + len(bytes(s.payload)) + (1 if "F" in str(s.flags) else 0)
            if (end - self.rcv) % (1 << 32) < (1 << 31):
                self.rcv = end
        self.send("A", window=window)


def summary(seg: TCP) -> str:
    return f"{flags_of(seg)} seq={seg.seq} ack={seg.ack} win={seg.window} len={len(bytes(seg.payload))}"


def payload(seg: TCP) -> bytes:
    return bytes(seg.payload)


def opt(seg: TCP, name: str):
    for k, v in seg.options:
        if k == name:
            return v
    return None


def open_offering(stack: Stack, options: list, port=80, sport=40000, isn=1000) -> Conn:
    """A passive open whose SYN carries `options` (scapy's list).  When that offered
    timestamps and the SYN-ACK answered with its own, the handshake's ACK carries the SYN's
    TSval + 1 and echoes the SYN-ACK's."""
    l = stack.listener(port)
    stack.send(TCP(sport=sport, dport=port, flags="S", seq=isn, window=65535, options=options))
    synack = stack.one()
    assert flags_of(synack) == F("SA")
    syn_ts = dict(options).get("Timestamp")
    ack_opts = []
    if syn_ts and opt(synack, "Timestamp"):
        ack_opts = [("Timestamp", (syn_ts[0] + 1, opt(synack, "Timestamp")[0]))]
    stack.send(TCP(sport=sport, dport=port, flags="A", seq=isn + 1, ack=synack.seq + 1, window=65535,
                   options=ack_opts))
    stack.none()
    conn = Conn(stack, None, sport=sport, dport=port, snd=isn + 1, rcv=synack.seq + 1, synack=synack)
    c, err = tw.accept(l)
    assert err == 0 and c
    conn.pcb = c
    return conn


@pytest.fixture
def stack():
    return Stack()
