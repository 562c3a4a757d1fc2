"""IP_TOS, IP_TTL and IP_MULTICAST_TTL on AF_INET sockets (inet_sock.pyx over the real
TCP/UDP pcbs and IPv4 output, host build): setsockopt/getsockopt with Linux's checks and
value sizes, the frames a UDP socket sends carrying its TOS byte and TTL, TCP segments
(at the pcb level) carrying the pcb's, and a listener's settings passing to the
connections it accepts.  The same calls run in the guest against
Linux in tests/guest/inet.c (section ip options)."""

import struct

import pytest
from scapy.layers.inet import IP, TCP, UDP

from net_support import PEER, ip, sent, teach_arp
from netlink_support import NetKernel
from tcp_harness import PEER as TCP_PEER, stack  # noqa: F401
from tyn.twins import tcp_twin as tw

AF_INET, SOCK_STREAM, SOCK_DGRAM, SOCK_NONBLOCK = 2, 1, 2, 0o4000
IPPROTO_IP, IP_TOS, IP_TTL, IP_MULTICAST_TTL = 0, 1, 2, 33
EINVAL, ENOPROTOOPT, EINPROGRESS = 22, 92, 115
IP_RECVTTL = 12                     # an IPPROTO_IP option the stack does not keep


@pytest.fixture
def k():
    kernel = NetKernel()
    yield kernel
    kernel.reset()


def sin(addr: str, port: int) -> bytes:
    return struct.pack("<H", AF_INET) + struct.pack(">HI", port, ip(addr)) + bytes(8)


def get(k, fd, name, optlen=4):
    """(optlen after, the value as an int of that many bytes)."""
    r = k.getsockopt_raw(fd, IPPROTO_IP, name, optlen)
    if isinstance(r, int):
        return r
    n, data = r
    return n, int.from_bytes(data[:n], "little", signed=n == 4)


def set_raw(k, fd, name, data: bytes, optlen=None):
    return k.ipc("setsockopt", fd, IPPROTO_IP, name, k.put(data), len(data) if optlen is None else optlen)


# ------------------------------------------------------------------ option values

@pytest.mark.parametrize("type_", [SOCK_STREAM, SOCK_DGRAM])
def test_defaults(k, type_):
    fd = k.socket(AF_INET, type_, 0)
    assert get(k, fd, IP_TOS) == (4, 0)
    assert get(k, fd, IP_TTL) == (4, 64)
    assert get(k, fd, IP_MULTICAST_TTL) == (4, 1)


@pytest.mark.parametrize("type_", [SOCK_STREAM, SOCK_DGRAM])
def test_ttl_range(k, type_):
    fd = k.socket(AF_INET, type_, 0)
    for bad in (0, 256, -2, 1 << 20):
        assert k.setsockopt_int(fd, IPPROTO_IP, IP_TTL, bad) == -EINVAL
    assert k.setsockopt_int(fd, IPPROTO_IP, IP_TTL, 255) == 0 and get(k, fd, IP_TTL) == (4, 255)
    assert k.setsockopt_int(fd, IPPROTO_IP, IP_TTL, 1) == 0 and get(k, fd, IP_TTL) == (4, 1)
    assert k.setsockopt_int(fd, IPPROTO_IP, IP_TTL, -1) == 0 and get(k, fd, IP_TTL) == (4, 64)
    assert set_raw(k, fd, IP_TTL, b"\x07") == 0 and get(k, fd, IP_TTL) == (4, 7)   # one byte is a value
    assert set_raw(k, fd, IP_TTL, b"", optlen=0) == -EINVAL


def test_tos_masks_ecn_for_tcp_only(k):
    tcp = k.socket(AF_INET, SOCK_STREAM, 0)
    udp = k.socket(AF_INET, SOCK_DGRAM, 0)
    for fd, want in ((tcp, 0xb8), (udp, 0xbb)):
        assert k.setsockopt_int(fd, IPPROTO_IP, IP_TOS, 0xbb) == 0
        assert get(k, fd, IP_TOS) == (4, want)
    assert k.setsockopt_int(udp, IPPROTO_IP, IP_TOS, 0x1ff) == 0 and get(k, udp, IP_TOS) == (4, 0xff)
    assert set_raw(k, udp, IP_TOS, b"", optlen=0) == 0 and get(k, udp, IP_TOS) == (4, 0)


def test_multicast_ttl(k):
    udp = k.socket(AF_INET, SOCK_DGRAM, 0)
    tcp = k.socket(AF_INET, SOCK_STREAM, 0)
    assert k.setsockopt_int(udp, IPPROTO_IP, IP_MULTICAST_TTL, 0) == 0 and get(k, udp, IP_MULTICAST_TTL) == (4, 0)
    assert k.setsockopt_int(udp, IPPROTO_IP, IP_MULTICAST_TTL, -1) == 0 and get(k, udp, IP_MULTICAST_TTL) == (4, 1)
    assert k.setsockopt_int(udp, IPPROTO_IP, IP_MULTICAST_TTL, 256) == -EINVAL
    assert k.setsockopt_int(udp, IPPROTO_IP, IP_MULTICAST_TTL, -2) == -EINVAL
    assert k.setsockopt_int(tcp, IPPROTO_IP, IP_MULTICAST_TTL, 4) == -EINVAL


def test_short_buffers_get_one_byte(k):
    fd = k.socket(AF_INET, SOCK_DGRAM, 0)
    assert k.setsockopt_int(fd, IPPROTO_IP, IP_TTL, 200) == 0
    assert get(k, fd, IP_TTL, optlen=1) == (1, 200)
    assert get(k, fd, IP_TTL, optlen=2) == (1, 200)
    assert get(k, fd, IP_TTL, optlen=8) == (4, 200)
    assert get(k, fd, IP_TTL, optlen=0) == (0, 0)
    assert get(k, fd, IP_TTL, optlen=-1) == -EINVAL
    assert get(k, fd, IP_RECVTTL, optlen=-1) == -EINVAL         # optlen is checked first
    assert get(k, fd, IP_RECVTTL) == -ENOPROTOOPT
    assert k.setsockopt_int(fd, IPPROTO_IP, IP_RECVTTL, 1) == -ENOPROTOOPT


# ------------------------------------------------------------------ frames out

def test_udp_datagrams_carry_tos_and_ttl(k):
    teach_arp()
    fd = k.socket(AF_INET, SOCK_DGRAM, 0)
    assert k.send(fd, b"a", sin(PEER, 9)) == 1
    assert k.setsockopt_int(fd, IPPROTO_IP, IP_TOS, 0x28) == 0
    assert k.setsockopt_int(fd, IPPROTO_IP, IP_TTL, 3) == 0
    assert k.send(fd, b"b", sin(PEER, 9)) == 1
    assert k.setsockopt_int(fd, IPPROTO_IP, IP_TTL, -1) == 0
    assert k.send(fd, b"c", sin(PEER, 9)) == 1
    got = [(bytes(f[UDP])[8:f[UDP].len], f[IP].tos, f[IP].ttl) for f in sent() if UDP in f]
    assert got == [(b"a", 0, 64), (b"b", 0x28, 3), (b"c", 0x28, 64)]


# TCP at the pcb level (tcp_twin, the calls inet_sock makes): segments carry the pcb's
# TOS byte and TTL, resets of a connection too, and a listener's children inherit them.

def ip_fields(out):
    """[(tos, ttl, flags)] of captured segments."""
    return [(tos, ttl, str(TCP(seg).flags)) for tos, ttl, seg in out]


def test_tcp_segments_carry_tos_and_ttl(stack):
    p = tw.new()
    tw.set_ip_tos(p, 0x11)                                  # the ECN bits stay TCP's: 0x10
    tw.set_ip_ttl(p, 9)
    assert tw.ip_tos_ttl(p) == (0x10, 9)
    assert tw.connect(p, ip(TCP_PEER), 80) == -EINPROGRESS
    out = tw.take_output_ip()
    assert ip_fields(out) == [(0x10, 9, "S")]
    tw.set_ip_ttl(p, 33)                                    # changed on a live connection
    syn = TCP(out[0][2])
    stack.send(TCP(sport=80, dport=syn.sport, flags="SA", seq=7000, ack=syn.seq + 1), src=TCP_PEER)
    assert ip_fields(tw.take_output_ip()) == [(0x10, 33, "A")]
    tw.set_ip_ttl(p, 0)                                     # 0: the default again
    tw.abort(p)
    assert ip_fields(tw.take_output_ip()) == [(0x10, 64, "RA")]
    # A reset for a segment no connection owns carries the defaults.
    stack.send(TCP(sport=1234, dport=81, flags="S", seq=5))
    assert ip_fields(tw.take_output_ip()) == [(0, 64, "RA")]


def test_accepted_connection_inherits_the_listeners(stack):
    lst = stack.listener(5555)
    tw.set_ip_tos(lst, 0x20)
    tw.set_ip_ttl(lst, 17)
    stack.send(TCP(sport=40000, dport=5555, flags="S", seq=1000), src=TCP_PEER)
    out = tw.take_output_ip()
    assert ip_fields(out) == [(0x20, 17, "SA")]
    stack.send(TCP(sport=40000, dport=5555, flags="A", seq=1001, ack=TCP(out[0][2]).seq + 1), src=TCP_PEER)
    child, err = tw.accept(lst)
    assert err == 0 and child
    assert tw.ip_tos_ttl(child) == (0x20, 17)
    tw.set_ip_ttl(child, 99)                                # the child's own from now on
    assert tw.ip_tos_ttl(lst) == (0x20, 17)
    assert tw.send(child, b"hi") == 2
    assert [(tos, ttl) for tos, ttl, _ in tw.take_output_ip()] == [(0x20, 99)]
