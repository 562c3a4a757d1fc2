"""ARP (net/arp.pyx through the fake NIC): replies, learning, resolution with a pending queue,
retries, expiry, malformed packets."""

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from net_support import *  # noqa: F403
from net_support import ns

PENDING, RESOLVED = 1, 2


def test_request_for_us_is_answered_and_the_sender_learned(stack):
    feed(Ether(src=PEER_MAC, dst=BROADCAST_MAC) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst=ME))
    reply = only(sent())
    assert reply.dst == PEER_MAC and reply.src == MY_MAC and reply.type == 0x0806
    a = reply[ARP]
    assert (a.op, a.hwsrc, a.psrc, a.hwdst, a.pdst) == (2, MY_MAC, ME, PEER_MAC, PEER)
    assert ns.arp(ip(PEER)) == (RESOLVED, mac_bytes(PEER_MAC), 0)


def test_request_for_someone_else_is_ignored(stack):
    feed(Ether(src=PEER_MAC, dst=BROADCAST_MAC) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst="10.0.2.99"))
    assert sent() == []
    assert drops() == {"drop_arp_not_for_us": 1}
    assert ns.arp(ip(PEER))[0] == 0          # not learned: the packet was not for us


def test_unresolved_packet_waits_then_goes_out_on_reply(stack):
    h = ns.udp_open(4000)
    assert ns.udp_send_to(h, b"hello", ip(PEER), 9) == 5
    req = only(sent())
    assert req.dst == BROADCAST_MAC and req[ARP].op == 1 and req[ARP].pdst == PEER and req[ARP].psrc == ME
    assert ns.arp(ip(PEER)) == (PENDING, None, 1)
    feed(eth_to_me(ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=MY_MAC, pdst=ME)))
    data = only(sent())
    assert data.dst == PEER_MAC and data[UDP].dport == 9 and data[Raw].load == b"hello"
    assert ns.arp(ip(PEER)) == (RESOLVED, mac_bytes(PEER_MAC), 0)
    ns.udp_close(h)


def test_requests_retried_then_queue_dropped_and_counted(stack):
    h = ns.udp_open(4000)
    for i in range(3):
        ns.udp_send_to(h, b"x" * i, ip(PEER), 9)
    assert len(sent()) == 1                  # one request for three packets
    assert ns.arp(ip(PEER)) == (PENDING, None, 3)
    t = ns.next_deadline()
    assert t == 1 * SECOND
    ns.timers_run(t)
    ns.timers_run(2 * SECOND)
    retries = sent()
    assert [f[ARP].pdst for f in retries] == [PEER, PEER]
    ns.timers_run(3 * SECOND)                # third request unanswered: give up
    assert sent() == []
    assert ns.arp(ip(PEER)) == (0, None, 0)
    assert drops() == {"drop_arp_unresolved": 3}
    assert buffers_in_use() == 0
    assert ns.next_deadline() == 0
    ns.udp_close(h)


def test_resolved_entry_expires(stack):
    teach_arp()
    assert ns.arp(ip(PEER))[0] == RESOLVED
    expiry = ns.next_deadline()
    assert expiry == 300 * SECOND
    ns.timers_run(expiry - 1)
    assert ns.arp(ip(PEER))[0] == RESOLVED
    ns.timers_run(expiry)
    assert ns.arp(ip(PEER))[0] == 0
    h = ns.udp_open(4000)
    ns.udp_send_to(h, b"again", ip(PEER), 9)
    assert only(sent())[ARP].pdst == PEER     # resolved afresh
    ns.udp_close(h)


def test_traffic_from_the_peer_refreshes_nothing_but_arp_replies_do(stack):
    teach_arp()
    ns.timers_run(200 * SECOND)
    feed(eth_to_me(ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=MY_MAC, pdst=ME)))
    assert ns.next_deadline() == 500 * SECOND


def test_gratuitous_arp_updates_a_known_entry(stack):
    teach_arp()
    new_mac = "52:54:00:00:00:99"
    feed(Ether(src=new_mac, dst=BROADCAST_MAC) / ARP(op=1, hwsrc=new_mac, psrc=PEER, pdst=PEER))
    assert ns.arp(ip(PEER))[1] == mac_bytes(new_mac)
    assert sent() == []


def test_pending_queue_is_bounded(stack):
    h = ns.udp_open(4000)
    sent_ok = 0
    for _ in range(200):
        if ns.udp_send_to(h, b"y" * 1400, ip(PEER), 9) > 0:
            sent_ok += 1
    assert drops()["drop_arp_queue_full"] == 200 - ns.arp(ip(PEER))[2]
    assert ns.arp(ip(PEER))[2] * 1400 <= 212992
    ns.timers_run(10 * SECOND)
    ns.timers_run(20 * SECOND)
    ns.timers_run(30 * SECOND)
    assert buffers_in_use() == 0
    ns.udp_close(h)


def test_off_link_destination_resolves_the_gateway(stack):
    h = ns.udp_open(4000)
    ns.udp_send_to(h, b"far", ip(FAR), 53)
    assert only(sent())[ARP].pdst == GW
    feed(eth_to_me(ARP(op=2, hwsrc=GW_MAC, psrc=GW, hwdst=MY_MAC, pdst=ME), GW_MAC))
    f = only(sent())
    assert f.dst == GW_MAC and f[IP].dst == FAR
    ns.udp_close(h)


def test_malformed_arp_dropped_and_counted(stack):
    base = ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst=ME)
    cases = {
        "drop_arp_short": bytes(base)[:20],
        "drop_arp_bad_format": bytes(ARP(hwtype=6, op=1, hwsrc=PEER_MAC, psrc=PEER, pdst=ME)),
        "drop_arp_bad_opcode": bytes(ARP(op=9, hwsrc=PEER_MAC, psrc=PEER, pdst=ME)),
        "drop_arp_bad_sender": bytes(ARP(op=1, hwsrc="01:00:5e:00:00:01", psrc=PEER, pdst=ME)),
    }
    for reason, body in cases.items():
        before = drops().get(reason, 0)
        feed(Ether(src=PEER_MAC, dst=BROADCAST_MAC, type=0x0806) / body)
        assert drops().get(reason, 0) == before + 1, reason
    bad_len = bytearray(bytes(base))
    bad_len[4] = 8                          # hardware address length
    feed(Ether(src=PEER_MAC, dst=BROADCAST_MAC, type=0x0806) / bytes(bad_len))
    assert drops()["drop_arp_bad_format"] == 2
    assert sent() == []
    assert ns.arp(ip(PEER))[0] == 0


def test_arp_from_our_own_mac_is_ignored(stack):
    feed(Ether(src=MY_MAC, dst=BROADCAST_MAC) / ARP(op=1, hwsrc=MY_MAC, psrc=PEER, pdst=ME))
    assert sent() == [] and drops() == {"drop_arp_bad_sender": 1}


def test_unconfigured_interface_answers_no_arp(stack):
    ns.set_addr(0, 0, 0)
    feed(Ether(src=PEER_MAC, dst=BROADCAST_MAC) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst="0.0.0.0"))
    assert sent() == []
