"""TCP wired onto the IPv4 stack (net/netinit's hooks): segments arrive as Ethernet frames
through the fake NIC and leave as frames, with ARP in between; and TCP over loopback,
both ends in the stack.  The TCP state machine itself is tested in test_tcp_*."""

from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.l2 import ARP, Ether

from net_support import GW, ME, MY_MAC, PEER, PEER_MAC, dotted, feed, ip, stack  # noqa: F401
from tyn.twins import tcp_twin as tcp


def tcp_frames(ns):
    out = []
    for f in ns.frames():
        e = Ether(f)
        if TCP in e:
            out.append(e)
    return out


def test_syn_to_a_listener_is_answered_after_arp(stack):
    lst = tcp.new()
    assert tcp.bind(lst, 0, 5555) == 0 and tcp.listen(lst, 8) == 0
    feed(Ether(src=PEER_MAC, dst=MY_MAC) / IP(src=PEER, dst=ME) / TCP(sport=40000, dport=5555, flags="S",
                                                                      seq=1000, options=[("MSS", 1460)]))
    arp = [Ether(f) for f in stack.frames()]
    assert len(arp) == 1 and ARP in arp[0] and arp[0][ARP].pdst == PEER      # SYN-ACK waits on ARP
    feed(Ether(src=PEER_MAC, dst=MY_MAC) / ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=MY_MAC, pdst=ME))
    out = tcp_frames(stack)
    assert len(out) == 1
    synack = out[0]
    assert synack[TCP].flags == "SA" and synack[TCP].ack == 1001 and synack[IP].src == ME
    # scapy recomputes both checksums: they must equal what the stack sent
    raw = bytes(synack)
    again = Ether(raw)
    del again[IP].chksum, again[TCP].chksum
    assert bytes(Ether(bytes(again))) == raw
    feed(Ether(src=PEER_MAC, dst=MY_MAC) / IP(src=PEER, dst=ME) /
         TCP(sport=40000, dport=5555, flags="A", seq=1001, ack=synack[TCP].seq + 1) / b"hello")
    conn, err = tcp.accept(lst)
    assert conn and err == 0
    assert tcp.recv(conn, 100) == b"hello"


def test_closed_port_gets_rst_through_ipv4(stack):
    feed(Ether(src=PEER_MAC, dst=MY_MAC) / ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=MY_MAC, pdst=ME))
    stack.frames()
    feed(Ether(src=PEER_MAC, dst=MY_MAC) / IP(src=PEER, dst=ME) / TCP(sport=40001, dport=7, flags="S", seq=5))
    out = tcp_frames(stack)
    assert len(out) == 1 and out[0][TCP].flags == "RA" and out[0][TCP].ack == 6


def test_resets_answering_a_segment_copy_its_tos_without_ecn(stack):
    # Linux's tcp_v4_send_reset (the host's Linux answers a SYN with TOS 0x2b with 0x28).
    feed(Ether(src=PEER_MAC, dst=MY_MAC) / ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=MY_MAC, pdst=ME))
    stack.frames()
    feed(Ether(src=PEER_MAC, dst=MY_MAC) / IP(src=PEER, dst=ME, tos=0x2B) / TCP(sport=40001, dport=7, flags="S"))
    lst = tcp.new()
    assert tcp.bind(lst, 0, 5555) == 0 and tcp.listen(lst, 8) == 0
    feed(Ether(src=PEER_MAC, dst=MY_MAC) / IP(src=PEER, dst=ME, tos=0xB9) /
         TCP(sport=40002, dport=5555, flags="A", seq=1, ack=99))
    out = tcp_frames(stack)
    assert [(f[TCP].flags, f[IP].tos) for f in out] == [("RA", 0x28), ("R", 0xB8)]


def test_connect_over_loopback_and_exchange(stack):
    lst = tcp.new()
    assert tcp.bind(lst, ip("127.0.0.1"), 4369) == 0 and tcp.listen(lst, 4) == 0
    cli = tcp.new()
    assert tcp.connect(cli, ip("127.0.0.1"), 4369) == -115          # EINPROGRESS
    for _ in range(4):                                              # SYN, SYN-ACK, ACK via lo
        stack.poll()
    srv, err = tcp.accept(lst)
    assert srv and err == 0
    assert tcp.send(cli, b"ping" * 100) == 400
    stack.poll()
    assert tcp.recv(srv, 1000) == b"ping" * 100
    assert tcp.send(srv, b"pong") == 4
    stack.poll()
    assert tcp.recv(cli, 10) == b"pong"
    assert stack.frames() == []                                     # nothing left the machine


def connecting_out(stack, port=7777):
    """S connects to PEER (ARP answered); returns the pcb and S's SYN as a frame."""
    cli = tcp.new()
    assert tcp.connect(cli, ip(PEER), port) == -115
    feed(Ether(src=PEER_MAC, dst=MY_MAC) / ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=MY_MAC, pdst=ME))
    out = tcp_frames(stack)
    assert len(out) == 1 and out[0][TCP].flags == "S"
    return cli, out[0]


def unreachable_about(syn, code, src=PEER, seq=None):
    """An ICMP destination unreachable from src quoting S's SYN (its IP header + 8 bytes)."""
    quoted = bytes(syn[IP])[:20 + 8]
    if seq is not None:
        quoted = quoted[:24] + seq.to_bytes(4, "big")
    return Ether(src=PEER_MAC, dst=MY_MAC) / IP(src=src, dst=ME) / ICMP(type=3, code=code) / quoted


def test_icmp_port_unreachable_refuses_a_connect(stack):
    cli, syn = connecting_out(stack)
    feed(unreachable_about(syn, 3))
    assert tcp.state(cli) == tcp.CLOSED and tcp.sock_error(cli) == 111       # ECONNREFUSED
    assert tcp_frames(stack) == []


def test_icmp_host_unreachable_from_a_router_fails_a_connect(stack):
    cli, syn = connecting_out(stack)
    feed(unreachable_about(syn, 1, src=GW))
    assert tcp.state(cli) == tcp.CLOSED and tcp.sock_error(cli) == 113       # EHOSTUNREACH


def test_blind_icmp_with_a_guessed_sequence_is_ignored(stack):
    cli, syn = connecting_out(stack)
    feed(unreachable_about(syn, 3, seq=(syn[TCP].seq + 1000) % (1 << 32)))
    assert tcp.state(cli) == tcp.SYN_SENT and tcp.sock_error(cli) == 0
    assert tcp.stats()["icmp_out_of_window"] == 1
