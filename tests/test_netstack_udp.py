"""UDP pcbs (net/udp.pyx): bind/connect/send/receive, demultiplexing, limits, port unreachable."""

from scapy.layers.inet import ICMP, IP, UDP, IPerror, UDPerror, defragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from net_support import *  # noqa: F403
from net_support import ns

EADDRINUSE, EADDRNOTAVAIL, EAGAIN, EMSGSIZE, EDESTADDRREQ, EINVAL = 98, 99, 11, 90, 89, 22


def udp_in(dport, payload=b"data", sport=5000, src=PEER, dst=ME, **kw):
    return eth_to_me(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport, **kw) / Raw(payload))


def test_closed_port_gets_port_unreachable(stack):
    teach_arp()
    feed(udp_in(7777, b"0123456789abcdef"))
    r = only(sent())
    assert r[IP].dst == PEER and r[IP].src == ME
    assert r[ICMP].type == 3 and r[ICMP].code == 3
    assert r[IPerror].src == PEER and r[IPerror].dst == ME and r[UDPerror].dport == 7777
    assert len(bytes(r[IPerror])) == 28       # header + 8 bytes
    assert drops() == {"drop_udp_no_port": 1}


def test_port_unreachable_tos_as_linux(stack):
    teach_arp()
    feed(eth_to_me(IP(src=PEER, dst=ME, tos=0x2B) / UDP(sport=5000, dport=7777) / Raw(b"x")))
    assert only(sent())[IP].tos == 0xCA            # what the host's Linux answers


def test_no_port_unreachable_for_broadcast(stack):
    feed(Ether(src=PEER_MAC, dst=BROADCAST_MAC) / IP(src=PEER, dst="255.255.255.255") / UDP(dport=7777))
    feed(Ether(src=PEER_MAC, dst=BROADCAST_MAC) / IP(src=PEER, dst="10.0.2.255") / UDP(dport=7777))
    assert sent() == []
    assert drops() == {"drop_udp_no_port": 2}


def test_port_unreachable_is_rate_limited(stack):
    teach_arp()
    for i in range(80):
        feed(udp_in(7000 + i))
    assert len(sent()) == 50
    assert drops()["drop_icmp_rate_limited"] == 30
    ns.timers_run(SECOND)
    feed(udp_in(9999))
    assert len(sent()) == 1


def test_bound_socket_receives(stack):
    h = ns.udp_open(5353)
    feed(udp_in(5353, b"hello"))
    feed(udp_in(5353, b"", sport=6000))
    assert ns.udp_info(h)["queued"] == 2 and ns.udp_info(h)["events"] == 1   # empty -> non-empty once
    assert ns.udp_info(h)["next_length"] == 5
    assert ns.udp_receive(h) == (b"hello", 5, ip(PEER), 5000)
    assert ns.udp_receive(h) == (b"", 0, ip(PEER), 6000)
    assert ns.udp_receive(h) == -EAGAIN
    assert sent() == [] and buffers_in_use() == 0
    ns.udp_close(h)


def test_truncating_and_peeking_receive(stack):
    h = ns.udp_open(5353)
    feed(udp_in(5353, b"0123456789"))
    assert ns.udp_receive(h, cap=4, peek=True) == (b"0123", 10, ip(PEER), 5000)
    assert ns.udp_receive(h, cap=4) == (b"0123", 10, ip(PEER), 5000)
    assert ns.udp_receive(h) == -EAGAIN
    ns.udp_close(h)


def test_bad_udp_dropped_and_counted(stack):
    h = ns.udp_open(5353)
    feed(udp_in(5353, b"x", chksum=0x1234))
    feed(eth_to_me(IP(src=PEER, dst=ME, proto=17) / b"\x13\x88\x14"))           # short
    feed(udp_in(5353, b"abc", len=50))                                         # longer than the datagram
    feed(udp_in(5353, b"abc", len=4))                                          # shorter than a header
    assert drops() == {"drop_udp_bad_checksum": 1, "drop_udp_short": 1, "drop_udp_bad_length": 2}
    assert ns.udp_info(h)["queued"] == 0
    ns.udp_close(h)


def test_zero_checksum_accepted_and_length_field_trims(stack):
    h = ns.udp_open(5353)
    raw = bytearray(bytes(udp_in(5353, b"abcdef")))
    raw[14 + 20 + 6:14 + 20 + 8] = b"\0\0"
    ns.input(bytes(raw))
    segment = bytes(IP(src=PEER, dst=ME) / UDP(sport=5000, dport=5353) / b"abc")[20:]
    feed(eth_to_me(IP(src=PEER, dst=ME, proto=17) / Raw(segment + b"def")))     # bytes past UDP's length
    assert ns.udp_receive(h)[0] == b"abcdef"
    assert ns.udp_receive(h)[0] == b"abc"
    ns.udp_close(h)


def test_receive_queue_bounded_by_rcvbuf(stack):
    h = ns.udp_open(5353)
    ns.udp_rcvbuf(h, 8192)
    for _ in range(20):
        feed(udp_in(5353, b"q" * 1000))
    info = ns.udp_info(h)
    assert info["charged"] <= 8192 and info["queued"] + info["drops"] == 20 and info["drops"] > 0
    assert drops() == {"drop_udp_rcvbuf_full": info["drops"]}
    ns.udp_close(h)
    assert buffers_in_use() == 0


def test_send_builds_a_correct_datagram(stack):
    teach_arp()
    h = ns.udp_open(4444)
    assert ns.udp_send_to(h, b"odd-length!", ip(PEER), 53) == 11
    f = only(sent())
    assert (f[IP].src, f[IP].dst, f[IP].proto, f[IP].ttl) == (ME, PEER, 17, 64)
    assert (f[UDP].sport, f[UDP].dport, f[UDP].len) == (4444, 53, 19) and f[Raw].load == b"odd-length!"
    ns.udp_close(h)


def test_big_datagram_fragmented_and_limits(stack):
    teach_arp()
    h = ns.udp_open(4444)
    data = bytes(range(256)) * 255 + bytes(227)
    assert len(data) == 65507
    assert ns.udp_send_to(h, data, ip(PEER), 9) == 65507
    frames = sent()
    assert len(frames) == 45
    whole = IP(bytes(defragment([f[IP] for f in frames])[0]))
    assert bytes(whole[UDP].payload) == data
    c = whole[UDP].chksum
    whole[UDP].chksum = None
    assert UDP(bytes(whole[UDP])).chksum == c
    assert ns.udp_send_to(h, data + b"!", ip(PEER), 9) == -EMSGSIZE
    ns.udp_close(h)


def test_bind_rules(stack):
    a = ns.udp_open(6000)
    assert ns.udp_open(6000) == -EADDRINUSE
    assert ns.udp_open(6000, ip(ME)) == -EADDRINUSE
    assert ns.udp_open(6001, ip("10.9.9.9")) == -EADDRNOTAVAIL
    b = ns.udp_open(6001, ip("127.0.0.1"))
    c = ns.udp_open(6001, ip(ME))                           # distinct addresses share a port
    r1 = ns.udp_open(6002, reuse=True)
    r2 = ns.udp_open(6002, reuse=True)
    e1, e2 = ns.udp_open(0), ns.udp_open(0)
    assert all(32768 <= ns.udp_port(e) <= 60999 for e in (e1, e2)) and ns.udp_port(e1) != ns.udp_port(e2)
    for h in (a, b, c, r1, r2, e1, e2):
        assert h > 0
        ns.udp_close(h)


def test_demultiplexing_prefers_the_most_specific(stack):
    wild = ns.udp_open(7000, reuse=True)
    spec = ns.udp_open(7000, ip(ME), reuse=True)
    conn = ns.udp_open(7000, reuse=True)
    assert ns.udp_connect_to(conn, ip(PEER), 5555) == 0
    feed(udp_in(7000, b"to-conn", sport=5555))
    feed(udp_in(7000, b"to-spec", sport=5556))
    assert ns.udp_receive(conn)[0] == b"to-conn"
    assert ns.udp_receive(spec)[0] == b"to-spec"
    assert ns.udp_receive(wild) == -EAGAIN
    for h in (wild, spec, conn):
        ns.udp_close(h)


def test_connected_send_and_filter(stack):
    teach_arp()
    h = ns.udp_open(0)
    assert ns.udp_send_connected(h, b"x") == -EDESTADDRREQ
    assert ns.udp_connect_to(h, ip(PEER), 53) == 0
    assert ns.udp_send_connected(h, b"query") == 5
    f = only(sent())
    assert f[UDP].dport == 53 and f[UDP].sport == ns.udp_port(h)
    feed(udp_in(ns.udp_port(h), b"stranger", sport=54))
    assert ns.udp_receive(h) == -EAGAIN                # only the peer is heard
    assert only(sent())[ICMP].type == 3
    feed(udp_in(ns.udp_port(h), b"answer", sport=53))
    assert ns.udp_receive(h)[0] == b"answer"
    ns.udp_close(h)


def test_udp_over_loopback(stack):
    server = ns.udp_open(9000, ip("127.0.0.1"))
    client = ns.udp_open(0)
    assert ns.udp_send_to(client, b"ping", ip("127.0.0.1"), 9000) == 4
    assert ns.udp_receive(server) == -EAGAIN           # queued on lo until polled
    ns.poll()
    data, n, src, sport = ns.udp_receive(server)
    assert (data, src, sport) == (b"ping", ip("127.0.0.1"), ns.udp_port(client))
    ns.udp_send_to(server, b"pong", src, sport)
    ns.poll()
    assert ns.udp_receive(client)[0] == b"pong"
    assert sent() == []
    ns.udp_close(server)
    ns.udp_close(client)
    assert buffers_in_use() == 0


def test_loopback_closed_port_gets_port_unreachable(stack):
    ns.capture_protocol(1)
    client = ns.udp_open(0)
    ns.udp_send_to(client, b"?", ip("127.0.0.1"), 1)
    ns.poll()
    (src, dst, msg), = ns.take_delivered()
    assert msg[0] == 3 and msg[1] == 3
    ns.udp_close(client)


ECONNREFUSED = 111


def port_unreachable_for(sent_frame, code=3, **kw):
    """The ICMP error PEER would send about a datagram we sent (it quotes the IP header and 8 bytes)."""
    quote = bytes(sent_frame[IP])[:28]
    return eth_to_me(IP(src=PEER, dst=ME) / ICMP(type=3, code=code, **kw) / Raw(quote))


def test_port_unreachable_reaches_the_connected_pcb(stack):
    teach_arp()
    conn, other = ns.udp_open(0), ns.udp_open(0)
    assert ns.udp_connect_to(conn, ip(PEER), 53) == 0
    ns.udp_send_connected(conn, b"query")
    ns.udp_send_to(other, b"query", ip(PEER), 53)
    to_conn, to_other = sent()
    before = ns.udp_info(conn)["events"]
    feed(port_unreachable_for(to_other))               # unconnected: not reported (no IP_RECVERR)
    assert ns.udp_error(other) == 0
    feed(port_unreachable_for(to_conn, code=4, nexthopmtu=576))   # "fragmentation needed": soft
    assert ns.udp_error(conn) == 0
    feed(port_unreachable_for(to_conn))
    assert ns.udp_info(conn)["events"] == before + 1   # the socket is woken
    assert ns.udp_error(conn) == ECONNREFUSED
    assert ns.udp_error(conn) == 0                     # taken once
    ns.udp_close(conn)
    ns.udp_close(other)


def test_port_unreachable_for_another_flow_is_ignored(stack):
    teach_arp()
    conn = ns.udp_open(0)
    ns.udp_connect_to(conn, ip(PEER), 53)
    ns.udp_send_connected(conn, b"query")
    f = only(sent())
    f[UDP].dport = 54                                  # a flow this pcb is not connected to
    del f[UDP].chksum
    feed(port_unreachable_for(Ether(bytes(f))))
    assert ns.udp_error(conn) == 0
    ns.udp_close(conn)


def test_truncated_icmp_quote_dropped_and_counted(stack):
    teach_arp()
    conn = ns.udp_open(0)
    ns.udp_connect_to(conn, ip(PEER), 53)
    ns.udp_send_connected(conn, b"query")
    quote = bytes(only(sent())[IP])[:24]               # header + 4 bytes: too short a quote
    feed(eth_to_me(IP(src=PEER, dst=ME) / ICMP(type=3, code=3) / Raw(quote)))
    assert ns.udp_error(conn) == 0
    assert drops() == {"drop_icmp_short": 1}
    ns.udp_close(conn)


def test_loopback_port_unreachable_reaches_the_connected_pcb(stack):
    client = ns.udp_open(0)
    assert ns.udp_connect_to(client, ip("127.0.0.1"), 1) == 0
    ns.udp_send_connected(client, b"?")
    ns.poll()
    assert ns.udp_error(client) == ECONNREFUSED
    ns.udp_close(client)
