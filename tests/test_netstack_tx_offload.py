"""Transmit offloads below TCP (host twin of the IPv4 stack with a fake NIC): what
ipv4_output_offload hands the device when it reports OFFLOAD_CSUM/OFFLOAD_TSO4 (offsets
grown by the IP and Ethernet headers, one unfragmented frame for a large segment), and what
it does itself when the device cannot (checksum finished, datagram fragmented), so that the
bytes on the wire are right either way."""
import struct

import pytest
from scapy.layers.inet import IP, TCP, defragment
from scapy.layers.l2 import Ether

from mm_support import fresh_machine
from net_support import GW, ME, MY_MAC, PEER, drops, ip, mac_bytes, teach_arp
from tyn.twins import heap_twin as heap
from tyn.twins import netstack_twin as ns
from tyn.twins import pmm_twin as pmm

CSUM, TSO4 = ns.OFFLOAD_CSUM, ns.OFFLOAD_TSO4
ETH_HLEN, IP_HLEN, TCP_HLEN, MSS = 14, 20, 20, 1460


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def partial_segment(data: bytes, seq=1000) -> bytes:
    """A TCP segment as TCP hands it down with a checksum left to the device: the field
    holds the pseudo-header sum."""
    hdr = bytearray(bytes(TCP(sport=80, dport=40000, seq=seq, ack=1, flags="A", window=1000, chksum=0)))
    s, d = ip(ME), ip(PEER)
    length = len(hdr) + len(data)
    hdr[16:18] = struct.pack("!H", fold((s >> 16) + (s & 0xFFFF) + (d >> 16) + (d & 0xFFFF) + 6 + length))
    return bytes(hdr) + data


def tcp_checksum_ok(pkt) -> bool:
    t = pkt[TCP].copy()
    got = t.chksum
    t.chksum = None
    return IP(bytes(IP(src=pkt[IP].src, dst=pkt[IP].dst, proto=6) / t))[TCP].chksum == got


@pytest.fixture(params=[0, CSUM, CSUM | TSO4], ids=["none", "csum", "csum+tso4"])
def nic(request):
    ram = 64 << 20
    fresh_machine(ram)
    assert pmm.init([(0, ram)], [(0x100000, 0x100000)]) == pmm.OK
    heap.init()
    ns.reset(mac=mac_bytes(MY_MAC), tx_offloads=request.param)
    ns.set_addr(ip(ME), ip("255.255.255.0"), ip(GW))
    teach_arp()
    yield request.param
    ns.reset(with_nic=False)


def test_checksum_left_to_the_device_only_when_it_can(nic):
    data = bytes(range(200))
    assert ns.output_offload(0, ip(PEER), 6, partial_segment(data), CSUM, 0, 16, TCP_HLEN) == 0
    [(frame, offload)] = ns.frames_offload()
    pkt = Ether(frame)
    assert bytes(pkt[TCP].payload) == data
    if nic & CSUM:
        assert offload == dict(flags=CSUM, csum_start=ETH_HLEN + IP_HLEN, csum_offset=16,
                               hdr_len=ETH_HLEN + IP_HLEN + TCP_HLEN, gso_size=0)
        assert not tcp_checksum_ok(pkt)                            # the device's job
        assert "ip_tx_offload_in_software" not in ns.counters()
    else:
        assert offload is None and tcp_checksum_ok(pkt)
        assert ns.counters()["ip_tx_offload_in_software"] == 1


def test_short_frame_is_padded_with_its_checksum_finished(nic):
    assert ns.output_offload(0, ip(PEER), 6, partial_segment(b"hi"), CSUM, 0, 16, TCP_HLEN) == 0
    [(frame, offload)] = ns.frames_offload()
    pkt = Ether(frame)
    assert len(frame) == 60 and offload is None                    # the padding is not summed
    assert tcp_checksum_ok(pkt) and bytes(pkt[TCP].payload)[:2] == b"hi"


def test_large_segment_one_frame_with_tso4_else_fragments(nic):
    data = bytes((i * 7) & 0xFF for i in range(20 * MSS))
    seg = partial_segment(data)
    assert ns.output_offload(0, ip(PEER), 6, seg, CSUM | TSO4, 0, 16, TCP_HLEN, MSS) == 0
    out = ns.frames_offload()
    if nic == CSUM | TSO4:
        [(frame, offload)] = out
        assert offload == dict(flags=CSUM | TSO4, csum_start=ETH_HLEN + IP_HLEN, csum_offset=16,
                               hdr_len=ETH_HLEN + IP_HLEN + TCP_HLEN, gso_size=MSS)
        pkt = Ether(frame)
        assert pkt[IP].len == IP_HLEN + len(seg) and pkt[IP].flags == 0 and pkt[IP].frag == 0
        assert bytes(pkt[TCP].payload) == data
        # The device numbers the 20 segments' IP ids: the next datagram takes the one after.
        first_id = pkt[IP].id
        ns.output(0, ip(PEER), 253, b"x" * 100)
        assert Ether(ns.frames()[0])[IP].id == (first_id + 20) & 0xFFFF
    else:
        assert len(out) > 1 and all(o is None for _, o in out)
        assert all(len(f) <= 1514 for f, _ in out)
        whole = defragment([Ether(f)[IP] for f, _ in out])
        [pkt] = [p for p in whole if TCP in p]
        assert bytes(pkt[TCP].payload) == data and tcp_checksum_ok(pkt)
        assert ns.counters()["ip_tx_offload_in_software"] == 1
    assert drops() == {}


def test_plain_datagrams_unchanged_by_offloads(nic):
    assert ns.output(0, ip(PEER), 253, b"y" * 3000) == 0
    out = ns.frames_offload()
    assert len(out) == 3 and all(o is None for _, o in out)
    assert "ip_tx_offload_in_software" not in ns.counters()
