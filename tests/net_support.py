"""Helpers for the IPv4 stack tests (test_netstack_*): a simulated machine with a heap, the stack
reset with a fake NIC (tyn.twins.netstack_twin), and scapy to build frames and to check the frames
that come out (checksums recomputed by scapy)."""

from __future__ import annotations

import ipaddress

import pytest
from scapy.layers.inet import ICMP, IP, UDP, IPerror, UDPerror
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from mm_support import fresh_machine
from tyn.twins import heap_twin as heap
from tyn.twins import netstack_twin as ns
from tyn.twins import pmm_twin as pmm

MY_MAC = "52:54:00:12:34:56"
PEER_MAC = "52:54:00:aa:bb:cc"
GW_MAC = "52:55:0a:00:02:02"
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
ME = "10.0.2.15"
PEER = "10.0.2.20"
GW = "10.0.2.2"
FAR = "192.0.2.7"           # off-link: reached through the gateway
SECOND = 1_000_000_000


def ip(a: str) -> int:
    return int(ipaddress.IPv4Address(a))


def dotted(v: int) -> str:
    return str(ipaddress.IPv4Address(v))


def mac_bytes(m: str) -> bytes:
    return bytes.fromhex(m.replace(":", ""))


def start_stack(configure=True, ram=64 << 20):
    fresh_machine(ram)
    assert pmm.init([(0, ram)], [(0x100000, 0x100000)]) == pmm.OK
    heap.init()
    ns.reset(mac=mac_bytes(MY_MAC))
    if configure:
        ns.set_addr(ip(ME), ip("255.255.255.0"), ip(GW))


@pytest.fixture
def stack():
    start_stack()
    yield ns
    # Let go of what the test left (interfaces, queued packets, ARP queues, pcbs) while the
    # heap that holds it still exists: the next test's fresh machine replaces that memory,
    # and a reset then would walk pointers into the old one.
    ns.reset(with_nic=False)


def feed(pkt) -> None:
    ns.input(bytes(pkt))


def sent() -> list:
    """Frames the stack transmitted since the last call, parsed by scapy, checksums verified."""
    out = []
    for raw in ns.frames():
        p = Ether(raw)
        assert_checksums(p)
        out.append(p)
    return out


def assert_checksums(p) -> None:
    if IP in p and (p[IP].flags.MF or p[IP].frag):
        layers = (IP,)                  # a fragment's transport checksum covers the whole datagram
    else:
        layers = (IP, ICMP, UDP)
    for layer in layers:
        if layer in p and not isinstance(p[layer].underlayer, (IPerror, UDPerror)):
            got = p[layer].chksum
            q = p[layer].copy()
            q.chksum = None
            want = type(q)(bytes(q)).chksum
            if layer is UDP and got == 0:
                continue
            assert got == want, f"{layer.__name__} checksum {got:#x}, scapy says {want:#x}"


def eth_to_me(payload, src_mac=PEER_MAC):
    return Ether(src=src_mac, dst=MY_MAC) / payload


def teach_arp(addr=PEER, mac=PEER_MAC) -> None:
    """The peer asks who has ME: the stack learns it (and replies; the reply is discarded)."""
    feed(Ether(src=mac, dst=BROADCAST_MAC) / ARP(op=1, hwsrc=mac, psrc=addr, pdst=ME))
    ns.frames()


def ping(seq=1, payload=b"tyn-ping", src=PEER, dst=ME, src_mac=PEER_MAC, ident=0x1234):
    return eth_to_me(IP(src=src, dst=dst) / ICMP(type=8, id=ident, seq=seq) / Raw(payload), src_mac)


def drops() -> dict:
    return {k: v for k, v in ns.counters().items() if k.startswith("drop_")}


def buffers_in_use() -> int:
    return ns.buffers()["bytes_in_use"]


def only(frames: list):
    assert len(frames) == 1, [f.summary() for f in frames]
    return frames[0]
