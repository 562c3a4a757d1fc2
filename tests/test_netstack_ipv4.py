"""IPv4 and ICMP (net/ipv4.pyx, ipv4_reass.pyx, icmp.pyx): echo, malformed headers, fragments,
routing, loopback."""

import pytest
from scapy.layers.inet import ICMP, IP, UDP, IPerror, defragment, fragment
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from net_support import *  # noqa: F403
from net_support import ns

TEST_PROTO = 253                      # RFC 3692 experimentation


def echo_reply(payload, seq=1):
    replies = sent()
    r = only(replies)
    assert r.dst == PEER_MAC and r[IP].src == ME and r[IP].dst == PEER
    assert r[ICMP].type == 0 and r[ICMP].code == 0 and r[ICMP].id == 0x1234 and r[ICMP].seq == seq
    assert bytes(r[ICMP].payload)[:len(payload)] == payload
    assert r[IP].len == 20 + 8 + len(payload)
    return r


# ---- echo ----

@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 55, 56, 57, 999, 1471, 1472])
def test_echo_reply_sizes(stack, size):
    teach_arp()
    payload = bytes((i * 7 + 3) & 0xFF for i in range(size))
    feed(ping(payload=payload))
    echo_reply(payload)
    assert ns.counters()["icmp_echo_replies"] == 1
    assert buffers_in_use() == 0


@pytest.mark.parametrize("tos", [0x00, 0x2B, 0xFF])
def test_echo_reply_copies_the_requests_tos_byte(stack, tos):
    # Linux's icmp_reply: the whole byte, ECN field included (checked on the host's Linux:
    # a request with 0x2b is answered with 0x2b).
    teach_arp()
    feed(eth_to_me(IP(src=PEER, dst=ME, tos=tos) / ICMP(type=8, id=0x1234, seq=1) / b"tyn-ping"))
    assert echo_reply(b"tyn-ping")[IP].tos == tos


def test_echo_before_arp_resolves_through_the_pending_queue(stack):
    feed(ping())
    assert only(sent()).type == 0x0806
    feed(eth_to_me(ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=MY_MAC, pdst=ME)))
    echo_reply(b"tyn-ping")


def test_echo_to_broadcast_ignored(stack):
    teach_arp()
    feed(Ether(src=PEER_MAC, dst=BROADCAST_MAC) / IP(src=PEER, dst="10.0.2.255") / ICMP(type=8) / b"x")
    feed(Ether(src=PEER_MAC, dst=BROADCAST_MAC) / IP(src=PEER, dst="255.255.255.255") / ICMP(type=8) / b"x")
    assert sent() == []
    assert drops() == {"drop_icmp_broadcast_echo": 2}


def test_icmp_bad_checksum_and_short(stack):
    teach_arp()
    feed(eth_to_me(IP(src=PEER, dst=ME) / ICMP(type=8, chksum=0x1234) / b"abc"))
    feed(eth_to_me(IP(src=PEER, dst=ME, proto=1) / b"\x08\x00\xf7"))
    assert sent() == []
    assert drops() == {"drop_icmp_bad_checksum": 1, "drop_icmp_short": 1}


def test_other_icmp_types_counted_not_answered(stack):
    teach_arp()
    feed(eth_to_me(IP(src=PEER, dst=ME) / ICMP(type=0, id=1, seq=1)))
    feed(eth_to_me(IP(src=PEER, dst=ME) / ICMP(type=13)))
    assert sent() == []
    assert ns.counters()["icmp_rx"] == 2 and drops() == {}


# ---- malformed IPv4 ----

def raw_ip(**fields):
    return bytes(IP(src=PEER, dst=ME, **fields) / ICMP(type=8) / b"abcd")


def corrupt(data: bytes, offset: int, value: int, fix_checksum=True) -> bytes:
    b = bytearray(data)
    b[offset] = value
    if fix_checksum:
        b[10:12] = b"\0\0"
        ihl = (b[0] & 0xF) * 4
        s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, min(ihl, len(b)) & ~1, 2))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        b[10:12] = (~s & 0xFFFF).to_bytes(2, "big")
    return bytes(b)


MALFORMED = {
    "drop_ip_short_header": lambda: raw_ip()[:19],
    "drop_ip_bad_version": lambda: corrupt(raw_ip(), 0, 0x65),
    "drop_ip_bad_ihl": lambda: corrupt(raw_ip(), 0, 0x44),
    "drop_ip_bad_ihl_past_end": lambda: corrupt(raw_ip(), 0, 0x4F)[:40],
    "drop_ip_bad_length": lambda: bytes(IP(src=PEER, dst=ME, len=200) / ICMP(type=8) / b"abcd"),
    "drop_ip_bad_length_below_header": lambda: bytes(IP(src=PEER, dst=ME, len=12) / ICMP(type=8) / b"abcd"),
    "drop_ip_bad_checksum": lambda: bytes(IP(src=PEER, dst=ME, chksum=0xBEEF) / ICMP(type=8) / b"abcd"),
    "drop_ip_bad_source": lambda: bytes(IP(src="127.0.0.1", dst=ME) / ICMP(type=8)),
    "drop_ip_bad_source_broadcast": lambda: bytes(IP(src="10.0.2.255", dst=ME) / ICMP(type=8)),
    "drop_ip_not_for_us": lambda: bytes(IP(src=PEER, dst="10.0.2.99") / ICMP(type=8)),
    "drop_ip_not_for_us_loopback": lambda: bytes(IP(src=PEER, dst="127.0.0.1") / ICMP(type=8)),
    "drop_ip_not_for_us_multicast": lambda: bytes(IP(src=PEER, dst="224.0.0.1") / ICMP(type=8)),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_header_dropped_and_counted(stack, case):
    teach_arp()
    reason = "_".join(case.split("_")[:4]) if not case.startswith("drop_ip_not_for_us") else "drop_ip_not_for_us"
    reason = {"drop_ip_bad_ihl_past_end": "drop_ip_bad_ihl"}.get(case, reason)
    if case.startswith("drop_ip_bad_length"):
        reason = "drop_ip_bad_length"
    if case.startswith("drop_ip_bad_source"):
        reason = "drop_ip_bad_source"
    feed(Ether(src=PEER_MAC, dst=MY_MAC, type=0x0800) / MALFORMED[case]())
    assert sent() == []
    assert drops() == {reason: 1}
    feed(ping())                              # and it still answers
    echo_reply(b"tyn-ping")


def test_ethernet_short_foreign_and_unknown_type(stack):
    ns.input(b"\x01\x02\x03")
    feed(Ether(src=PEER_MAC, dst="52:54:00:00:00:01") / IP(src=PEER, dst=ME) / ICMP())
    feed(Ether(src=PEER_MAC, dst=MY_MAC, type=0x86DD) / (b"\x60" + b"\0" * 39))
    feed(Ether(src=PEER_MAC, dst="33:33:00:00:00:01", type=0x0800) / IP(src=PEER, dst=ME) / ICMP())
    assert drops() == {"drop_eth_short": 1, "drop_eth_not_for_us": 2, "drop_eth_unknown_type": 1}


def test_ethernet_padding_is_not_data(stack):
    teach_arp()
    frame = bytes(ping(payload=b""))
    feed(Ether(frame) / (b"\xAA" * 30))
    echo_reply(b"")


def test_ip_options_are_skipped(stack):
    teach_arp()
    from scapy.layers.inet import IPOption_NOP
    feed(eth_to_me(IP(src=PEER, dst=ME, options=[IPOption_NOP()] * 4) / ICMP(type=8, id=0x1234, seq=1) / b"opt"))
    echo_reply(b"opt")


def test_unknown_protocol_answered_with_protocol_unreachable(stack):
    teach_arp()
    feed(eth_to_me(IP(src=PEER, dst=ME, proto=200) / (b"P" * 30)))
    r = only(sent())
    assert r[ICMP].type == 3 and r[ICMP].code == 2
    assert r[IPerror].proto == 200 and r[IPerror].src == PEER and len(bytes(r[IPerror])) == 28
    assert drops() == {"drop_ip_unknown_protocol": 1}


# Linux's icmp_send: the offending datagram's RFC 1349 TOS bits (RT_TOS) at precedence
# "internetwork control"; the host's Linux answers 0x2b with 0xca and 0xff with 0xde.
@pytest.mark.parametrize("tos, reply_tos", [(0x00, 0xC0), (0x2B, 0xCA), (0xFF, 0xDE)])
def test_errors_carry_internetwork_control_precedence(stack, tos, reply_tos):
    teach_arp()
    feed(eth_to_me(IP(src=PEER, dst=ME, proto=200, tos=tos) / (b"P" * 30)))
    r = only(sent())
    assert r[ICMP].type == 3 and r[IP].tos == reply_tos


# ---- fragments ----

def frag_datagram(payload: bytes, proto=TEST_PROTO, ident=77, fragsize=1000, **ip):
    pkt = IP(src=PEER, dst=ME, proto=proto, id=ident, **ip) / Raw(payload)
    return fragment(pkt, fragsize=fragsize)


def feed_ip(pkts):
    for p in pkts:
        feed(eth_to_me(p))


def test_fragments_in_order(stack):
    ns.capture_protocol(TEST_PROTO)
    data = bytes(range(256)) * 20
    frags = frag_datagram(data)
    assert len(frags) == 6
    feed_ip(frags)
    assert ns.take_delivered() == [(ip(PEER), ip(ME), data)]
    assert ns.counters()["ip_reassembled"] == 1
    assert ns.reassembly() == (0, 0) and buffers_in_use() == 0


def test_fragments_out_of_order(stack):
    ns.capture_protocol(TEST_PROTO)
    data = bytes(range(256)) * 20
    frags = frag_datagram(data)
    feed_ip([frags[3], frags[5], frags[0], frags[4], frags[2]])
    assert ns.take_delivered() == []
    assert ns.reassembly()[0] == 1
    feed_ip([frags[1]])
    assert ns.take_delivered() == [(ip(PEER), ip(ME), data)]


def test_interleaved_datagrams(stack):
    ns.capture_protocol(TEST_PROTO)
    a = frag_datagram(b"A" * 3000, ident=1)
    b = frag_datagram(b"B" * 2500, ident=2)
    feed_ip([a[0], b[2], a[2], b[0], b[1], a[1]])
    assert [d[2] for d in ns.take_delivered()] == [b"B" * 2500, b"A" * 3000]


def test_duplicate_fragment_dropped_alone(stack):
    ns.capture_protocol(TEST_PROTO)
    frags = frag_datagram(b"D" * 3000)
    feed_ip([frags[0], frags[0], frags[1], frags[1], frags[2]])
    assert [d[2] for d in ns.take_delivered()] == [b"D" * 3000]
    assert drops() == {"drop_frag_duplicate": 2}


def test_overlapping_fragment_drops_the_datagram(stack):
    ns.capture_protocol(TEST_PROTO)
    frags = frag_datagram(b"O" * 3000)
    overlap = IP(src=PEER, dst=ME, proto=TEST_PROTO, id=77, flags="MF", frag=100) / Raw(b"X" * 800)
    feed_ip([frags[0], overlap, frags[1], frags[2]])
    assert ns.take_delivered() == []
    assert drops()["drop_frag_overlap"] == 1
    ns.timers_run(31 * SECOND)                # what arrived after the overlap times out
    assert ns.reassembly() == (0, 0) and buffers_in_use() == 0


def test_bad_fragments(stack):
    ns.capture_protocol(TEST_PROTO)
    feed_ip([IP(src=PEER, dst=ME, proto=TEST_PROTO, id=5, flags="MF", frag=0) / Raw(b"x" * 13)])   # not 8n
    feed_ip([IP(src=PEER, dst=ME, proto=TEST_PROTO, id=6, frag=8190) / Raw(b"x" * 100)])          # past 64 KiB
    feed_ip([IP(src=PEER, dst=ME, proto=TEST_PROTO, id=7, flags="MF", frag=0) / Raw(b"")])        # empty middle
    assert drops() == {"drop_frag_bad": 3}
    # Two different ends for one datagram.
    feed_ip([IP(src=PEER, dst=ME, proto=TEST_PROTO, id=8, frag=10) / Raw(b"e" * 16),
             IP(src=PEER, dst=ME, proto=TEST_PROTO, id=8, frag=20) / Raw(b"e" * 16)])
    assert drops()["drop_frag_bad"] == 4
    assert ns.reassembly() == (0, 0) and buffers_in_use() == 0


def test_fragment_timeout_sends_time_exceeded(stack):
    teach_arp()
    ns.capture_protocol(TEST_PROTO)
    frags = frag_datagram(b"T" * 3000)
    feed_ip(frags[:2])
    assert ns.next_deadline() == 30 * SECOND
    ns.timers_run(30 * SECOND - 1)
    assert ns.reassembly()[0] == 1
    ns.timers_run(30 * SECOND)
    r = only(sent())
    assert r[ICMP].type == 11 and r[ICMP].code == 1 and r[IPerror].id == 77
    assert drops() == {"drop_frag_timeout": 1}
    assert ns.reassembly() == (0, 0) and buffers_in_use() == 0


def test_fragment_timeout_without_first_fragment_is_silent(stack):
    teach_arp()
    frags = frag_datagram(b"T" * 3000)
    feed_ip(frags[1:])
    ns.timers_run(30 * SECOND)
    assert sent() == [] and drops() == {"drop_frag_timeout": 1}


def test_too_many_datagrams_evicts_the_oldest(stack):
    ns.capture_protocol(TEST_PROTO)
    for ident in range(20):
        feed_ip(frag_datagram(b"M" * 3000, ident=ident)[:1])
    assert ns.reassembly()[0] == 16
    assert drops() == {"drop_frag_limit": 4}
    feed_ip(frag_datagram(b"M" * 3000, ident=19)[1:])
    assert [d[2] for d in ns.take_delivered()] == [b"M" * 3000]


def test_reassembly_bytes_are_bounded(stack):
    for ident in range(8):
        feed_ip(frag_datagram(b"L" * 60000, ident=ident, fragsize=1480)[:-1])
    assert ns.reassembly()[1] <= 256 << 10
    assert drops()["drop_frag_limit"] >= 1
    ns.timers_run(60 * SECOND)
    assert ns.reassembly() == (0, 0)
    for t in range(61, 64):                   # the time-exceeded errors wait on ARP, in vain
        ns.timers_run(t * SECOND)
    assert buffers_in_use() == 0


def test_fragmented_echo_request_gets_a_fragmented_reply(stack):
    teach_arp()
    payload = bytes(range(256)) * 16
    feed_ip(fragment(IP(src=PEER, dst=ME, id=99) / ICMP(type=8, id=0x1234, seq=3) / Raw(payload), fragsize=1200))
    replies = sent()
    assert len(replies) == 3 and all(r[IP].len <= 1500 for r in replies)
    whole = defragment([r[IP] for r in replies])
    assert len(whole) == 1
    w = IP(bytes(whole[0]))
    assert w[ICMP].type == 0 and w[ICMP].seq == 3 and bytes(w[ICMP].payload) == payload
    c = w[ICMP].chksum
    w[ICMP].chksum = None
    assert ICMP(bytes(w[ICMP])).chksum == c
    assert ns.counters()["ip_fragments_tx"] == 3


def test_output_too_big_and_no_route(stack):
    assert ns.output(0, ip(PEER), TEST_PROTO, b"x" * 65516) == -90      # EMSGSIZE
    ns.set_addr(ip(ME), ip("255.255.255.0"), 0)
    assert ns.output(0, ip(FAR), TEST_PROTO, b"x") == -101              # ENETUNREACH
    assert drops() == {"drop_ip_too_big": 1, "drop_ip_no_route": 1}


def test_device_refusing_frames_is_counted(stack):
    teach_arp()
    ns.refuse_transmit(True)
    feed(ping())
    assert drops() == {"drop_link_tx_full": 1}
    assert buffers_in_use() == 0


# ---- loopback ----

def test_loopback_queues_and_delivers_on_poll(stack):
    ns.capture_protocol(TEST_PROTO)
    assert ns.output(0, ip("127.0.0.1"), TEST_PROTO, b"loop") == 0
    assert ns.take_delivered() == []          # never delivered from inside the output call
    assert ns.loopback_queued() == 1 and ns.next_deadline() != 0
    ns.poll()
    assert ns.take_delivered() == [(ip("127.0.0.1"), ip("127.0.0.1"), b"loop")]
    assert sent() == [] and ns.next_deadline() == 0 and buffers_in_use() == 0


def test_loopback_other_127_addresses_and_own_address(stack):
    ns.capture_protocol(TEST_PROTO)
    ns.output(0, ip("127.3.4.5"), TEST_PROTO, b"a")
    ns.output(0, ip(ME), TEST_PROTO, b"b")
    ns.timers_run(1)
    assert ns.take_delivered() == [(ip("127.0.0.1"), ip("127.3.4.5"), b"a"), (ip(ME), ip(ME), b"b")]
    assert sent() == []


def test_loopback_big_datagram_not_fragmented(stack):
    ns.capture_protocol(TEST_PROTO)
    data = bytes(range(256)) * 250
    assert ns.output(0, ip("127.0.0.1"), TEST_PROTO, data) == 0
    ns.poll()
    assert ns.take_delivered()[0][2] == data
    assert "ip_fragments_tx" not in ns.counters()


def test_loopback_queue_is_bounded(stack):
    ns.capture_protocol(TEST_PROTO)
    for _ in range(1005):
        ns.output(0, ip("127.0.0.1"), TEST_PROTO, b"q")
    assert ns.loopback_queued() == 1000 and drops() == {"drop_loopback_full": 5}
    ns.poll()
    assert ns.loopback_queued() == 0 and buffers_in_use() == 0


def test_buffer_cap_drops_and_counts(stack):
    teach_arp()
    ns.set_buffer_limit(3000)
    for _ in range(5):
        ns.output(0, ip("127.0.0.1"), TEST_PROTO, b"z" * 1000)
    assert drops()["drop_no_buffer"] == 3
    assert ns.buffers()["fail_limit"] == 3
    ns.poll()
    feed(ping())
    echo_reply(b"tyn-ping")
    assert buffers_in_use() == 0
