"""rx_flags through the stack (netdev -> netif -> ipv4 -> UDP): a checksum the device
vouched for (NETDEV_RX_CHECKSUM_OK) is not checked again; reassembled datagrams and ICMP
are always checked."""

from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.packet import Raw

from net_support import *  # noqa: F403
from net_support import ns


def partial(pkt) -> bytes:
    """The frame with its UDP checksum spoiled, as a host-local sender's NEEDS_CSUM leaves it."""
    raw = bytearray(bytes(pkt))
    raw[14 + 20 + 6:14 + 20 + 8] = b"\x12\x34"
    return bytes(raw)


def test_udp_checksum_vouched_for_is_accepted(stack):
    h = ns.udp_open(5353)
    frame = partial(eth_to_me(IP(src=PEER, dst=ME) / UDP(sport=5000, dport=5353) / Raw(b"hello")))
    ns.input(frame, ns.RX_CHECKSUM_OK)
    assert ns.udp_receive(h) == (b"hello", 5, ip(PEER), 5000)
    ns.input(frame)
    assert ns.udp_receive(h) == -11 and drops() == {"drop_udp_bad_checksum": 1}
    ns.udp_close(h)


def test_reassembled_datagram_checked_whatever_the_device_said(stack):
    h = ns.udp_open(5353)
    dgram = IP(src=PEER, dst=ME) / UDP(sport=5000, dport=5353, chksum=0x1234) / Raw(b"z" * 3000)
    for f in fragment(dgram, fragsize=1480):
        ns.input(bytes(eth_to_me(f)), ns.RX_CHECKSUM_OK)
    assert ns.udp_receive(h) == -11 and drops() == {"drop_udp_bad_checksum": 1}
    ns.udp_close(h)


def test_icmp_checksum_always_checked(stack):
    teach_arp()
    bad = eth_to_me(IP(src=PEER, dst=ME) / ICMP(type=8, id=1, seq=1, chksum=0x1234) / Raw(b"ping"))
    ns.input(bytes(bad), ns.RX_CHECKSUM_OK)
    assert sent() == [] and drops() == {"drop_icmp_bad_checksum": 1}
