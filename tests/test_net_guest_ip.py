"""The layers under TCP in a booted kernel, seen from the wire (tcp-conformance.md "Also"):
ARP request/reply, ICMP echo, IPv4 header checksum and total length checks, fragment
reassembly (overlaps dropped), ICMP port unreachable for UDP.  The guest runs tcp_ctl on
a dgram link (guest_tcp_support); the tester answers its ARP."""
from __future__ import annotations

import queue

import pytest
from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from guest_tcp_support import ctl_image, guest_vm, make_target  # noqa: F401  (fixtures)
from tcp_target import GUEST_MAC, LOCAL, PEER, REPLY_WITHIN, TESTER_MAC, ping


@pytest.fixture
def link(request):
    return make_target(request, "guest").link


def icmp_replies(link, within=1.0):
    out = []
    try:
        while True:
            out.append(link.icmp.get(timeout=within))
            within = 0.3
    except queue.Empty:
        return out


def echo(ident, seq, data, **ip):
    return IP(src=PEER, dst=LOCAL, **ip) / ICMP(type=8, id=ident, seq=seq) / Raw(data)


def test_arp_request_answered(link):
    link.send_frame(bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=TESTER_MAC)
                          / ARP(op=1, hwsrc=TESTER_MAC, psrc=PEER, pdst=LOCAL)))
    r = link.arp_replies.get(timeout=REPLY_WITHIN)
    a = r[ARP]
    assert a.op == 2 and a.psrc == LOCAL and a.hwsrc == GUEST_MAC and a.pdst == PEER and a.hwdst == TESTER_MAC
    assert r.dst == TESTER_MAC


def test_arp_request_for_another_address_ignored(link):
    link.send_frame(bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=TESTER_MAC)
                          / ARP(op=1, hwsrc=TESTER_MAC, psrc=PEER, pdst="10.0.2.99")))
    with pytest.raises(queue.Empty):
        link.arp_replies.get(timeout=0.5)


def test_icmp_echo_small_and_large(link):
    assert ping(link, 1)
    data = bytes(range(256)) * 5
    link.send_ip(bytes(echo(7, 2, data)))
    (r,) = icmp_replies(link)
    assert r[ICMP].type == 0 and r[ICMP].id == 7 and r[Raw].load == data and r.src == LOCAL


def test_bad_ip_header_checksum_dropped(link):
    raw = bytearray(bytes(echo(7, 3, b"bad checksum")))
    raw[10] ^= 0xFF
    link.send_ip(bytes(raw))
    assert icmp_replies(link, 0.6) == []
    assert ping(link, 4)


@pytest.mark.parametrize("length", [19, 200, 1400], ids=["below_header", "past_end", "far_past_end"])
def test_bad_ip_total_length_dropped(link, length):
    link.send_ip(bytes(echo(7, 5, b"x" * 40, len=length)))
    assert icmp_replies(link, 0.6) == []
    assert ping(link, 6)


def test_fragments_reassembled_in_any_order(link):
    data = bytes(i % 251 for i in range(1200))
    frags = fragment(echo(8, 9, data, id=4321), fragsize=400)
    assert len(frags) == 4
    for f in reversed(frags):
        link.send_ip(bytes(f))
    (r,) = icmp_replies(link)
    assert r[ICMP].id == 8 and r[Raw].load == data


def test_overlapping_fragments_dropped(link):
    data = bytes(1200)
    frags = fragment(echo(9, 10, data, id=4322), fragsize=400)
    overlap = frags[1].copy()
    overlap.frag -= 8                            # 64 bytes into the first fragment
    for f in (frags[0], overlap, frags[1], frags[2], frags[3]):
        link.send_ip(bytes(f))
    assert icmp_replies(link, 0.6) == []
    assert ping(link, 11)


def test_udp_closed_port_answers_port_unreachable(link):
    link.send_ip(bytes(IP(src=PEER, dst=LOCAL) / UDP(sport=5000, dport=9) / Raw(b"anyone?")))
    (r,) = icmp_replies(link)
    assert r[ICMP].type == 3 and r[ICMP].code == 3
