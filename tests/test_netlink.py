"""AF_NETLINK / NETLINK_ROUTE sockets and the interface ioctls on the host build, as musl's
getifaddrs / if_nameindex and inet_drv use them (requests built and replies parsed in
Python): the wire format's parse/emit pairs, the RTM_GETLINK / RTM_GETADDR dumps (datagram
layout, flags, attributes), single-link queries, acks and errors, the socket semantics
(bind/autobind, recv truncation and peeking, user-to-user messages, options, the receive
limit), and SIOCGIFCONF / SIOCGIF* with Linux's errors.  test_netlink_linux.py compares lo
against the host's Linux."""

from __future__ import annotations

import struct

import pytest

from netlink_support import *  # noqa: F403
from netlink_support import NetKernel
from ipc_support import EAGAIN, EFAULT, EINVAL, ENOTTY, ESOCKTNOSUPPORT, EPROTONOSUPPORT, ENOBUFS, BAD
from ipc_support import POLLIN, POLLOUT
from tyn.twins import ipc_twin as ipc
from tyn.twins import netlink_twin as nlt

ENODEV, EOPNOTSUPP, EADDRINUSE, EADDRNOTAVAIL, ECONNREFUSED, EMSGSIZE = 19, 95, 98, 99, 111, 90
ENOPROTOOPT = 92
LO_FLAGS = IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP
ETH_FLAGS = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP


@pytest.fixture
def k():
    kernel = NetKernel()
    yield kernel
    kernel.reset()


def nl_addr(pid=0, groups=0, family=AF_NETLINK) -> bytes:
    return struct.pack("<HHII", family, 0, pid, groups)


# ------------------------------------------------------------------ wire format

def test_nlmsg_parse_and_emit():
    h = nlt.nlmsg_emit(20, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 7, 99)
    assert h == struct.pack("<IHHII", 20, RTM_GETLINK, 0x301, 7, 99)
    assert nlt.nlmsg_parse(h + b"\0" * 4) == (20, RTM_GETLINK, 0x301, 7, 99)
    assert nlt.nlmsg_parse(h) is None                       # nlmsg_len beyond what is there
    assert nlt.nlmsg_parse(h[:15]) is None                  # shorter than a header
    assert nlt.nlmsg_parse(struct.pack("<IHHII", 15, 0, 0, 0, 0)) is None


def test_rtattr_emit_pads_and_find_walks():
    a = nlt.rtattr_emit(IFLA_IFNAME, b"lo\0")
    assert a == struct.pack("<HH", 7, IFLA_IFNAME) + b"lo\0" + b"\0"       # RTA_ALIGN
    b = nlt.rtattr_emit_in_addr(IFA_LOCAL, ip("10.0.2.15"))
    assert b == struct.pack("<HH", 8, IFA_LOCAL) + bytes([10, 0, 2, 15])   # network order
    both = a + b
    assert nlt.rtattr_find(both, IFLA_IFNAME) == b"lo\0"
    assert nlt.rtattr_find(both, IFA_LOCAL) == bytes([10, 0, 2, 15])
    assert nlt.rtattr_find(both, 99) is None
    assert nlt.rtattr_find(struct.pack("<HH", 3, 1), 1) is None            # rta_len < 4
    assert nlt.rtattr_find(struct.pack("<HH", 40, 1) + b"x" * 4, 1) is None  # longer than the rest


def test_body_emitters():
    assert nlt.ifinfomsg_emit(ARPHRD_ETHER, 2, ETH_FLAGS) == struct.pack("<BBHiII", 0, 0, 1, 2, ETH_FLAGS, 0)
    assert nlt.ifaddrmsg_emit(AF_INET, 24, 0x80, 0, 2) == struct.pack("<BBBBI", 2, 24, 0x80, 0, 2)
    assert nlt.sockaddr_nl_emit(1234, 5) == nl_addr(1234, 5)
    assert nlt.sockaddr_nl_parse(nl_addr(1234, 5)) == (1234, 5)
    assert nlt.sockaddr_nl_parse(nl_addr()[:11]) == -EINVAL
    assert nlt.sockaddr_nl_parse(nl_addr(family=AF_INET)) == -EINVAL
    assert [nlt.prefixlen(ip(m)) for m in ("255.0.0.0", "255.255.255.0", "0.0.0.0", "255.255.255.255")] == \
        [8, 24, 0, 32]


# ------------------------------------------------------------------ sockets

def test_socket_types_and_protocols(k):
    for type_ in (SOCK_RAW, SOCK_DGRAM, SOCK_RAW | 0o2000000):
        fd = k.socket(AF_NETLINK, type_, 0)
        assert fd >= 0
        k.close(fd)
    assert k.socket(AF_NETLINK, SOCK_STREAM, 0) == -ESOCKTNOSUPPORT
    assert k.socket(AF_NETLINK, SOCK_RAW, 1) == -EPROTONOSUPPORT       # NETLINK_UNUSED: not here


def test_interfaces_have_linux_indexes(k):
    assert nlt.interface("lo") == (1, LO_FLAGS)
    assert nlt.interface("eth0") == (2, ETH_FLAGS)
    assert nlt.interface("eth1") is None
    assert [nlt.name_of_index(i) for i in (0, 1, 2, 3)] == [None, "lo", "eth0", None]


def test_getifaddrs_link_dump_as_musl_reads_it(k):
    fd = k.socket(AF_NETLINK, SOCK_RAW | 0o2000000, 0)
    dgrams = k.dump(fd, RTM_GETLINK, 1)
    portid = struct.unpack_from("<I", k.name(fd), 4)[0]
    assert portid != 0                                      # the send bound it
    assert len(dgrams) == 2 and dgrams[1] == struct.pack("<IHHIIi", 20, NLMSG_DONE, NLM_F_MULTI, 1, portid, 0)
    msgs = messages(dgrams[0])
    assert [(m[0], m[1], m[2], m[3]) for m in msgs] == [(RTM_NEWLINK, NLM_F_MULTI, 1, portid)] * 2
    (lo, lo_a), (eth, eth_a) = link(msgs[0][4]), link(msgs[1][4])
    assert lo == dict(family=0, type=ARPHRD_LOOPBACK, index=1, flags=LO_FLAGS, change=0)
    assert eth == dict(family=0, type=ARPHRD_ETHER, index=2, flags=ETH_FLAGS, change=0)
    assert cstr(lo_a[IFLA_IFNAME]) == "lo" and cstr(eth_a[IFLA_IFNAME]) == "eth0"
    assert lo_a[IFLA_IFNAME] == b"lo\0"                     # NUL-terminated, unpadded length
    assert struct.unpack("<I", lo_a[IFLA_MTU])[0] == 65536
    assert struct.unpack("<I", eth_a[IFLA_MTU])[0] == 1500
    assert lo_a[IFLA_ADDRESS] == lo_a[IFLA_BROADCAST] == bytes(6)
    assert eth_a[IFLA_ADDRESS] == MAC and eth_a[IFLA_BROADCAST] == b"\xff" * 6
    assert len(eth_a[IFLA_STATS]) == 96 and len(eth_a[IFLA_STATS64]) == 200
    assert struct.unpack("<I", eth_a[IFLA_TXQLEN])[0] == 1000
    assert eth_a[IFLA_OPERSTATE] == b"\x06" and lo_a[IFLA_OPERSTATE] == b"\x00"   # UP / UNKNOWN
    assert k.recv(fd) == -EAGAIN


def test_counters_reach_the_stats(k):
    from tyn.twins import netstack_twin as ns
    from scapy.layers.l2 import ARP, Ether
    ns.input(bytes(Ether(src="52:54:00:aa:bb:cc", dst="ff:ff:ff:ff:ff:ff") /
                   ARP(op=1, hwsrc="52:54:00:aa:bb:cc", psrc="10.0.2.20", pdst=ME)))
    fd = k.socket()
    eth = link(messages(k.dump(fd, RTM_GETLINK, 1)[0])[1][4])[1]
    stats = struct.unpack("<24I", eth[IFLA_STATS])
    stats64 = struct.unpack("<25Q", eth[IFLA_STATS64])
    assert stats[:4] == stats64[:4]
    assert stats64[1] >= 1                                  # the ARP reply went out (tx_packets)


def test_getifaddrs_addr_dump(k):
    fd = k.socket()
    dgrams = k.dump(fd, RTM_GETADDR, 2)
    assert len(dgrams) == 2 and messages(dgrams[1])[0][:3] == (NLMSG_DONE, NLM_F_MULTI, 2)
    msgs = messages(dgrams[0])
    assert [m[0] for m in msgs] == [RTM_NEWADDR, RTM_NEWADDR]
    (lo, lo_a), (eth, eth_a) = addr(msgs[0][4]), addr(msgs[1][4])
    assert lo == dict(family=AF_INET, prefixlen=8, flags=0x80, scope=254, index=1)
    assert eth == dict(family=AF_INET, prefixlen=24, flags=0x80, scope=0, index=2)
    assert in_addr(lo_a[IFA_ADDRESS]) == in_addr(lo_a[IFA_LOCAL]) == "127.0.0.1"
    assert IFA_BROADCAST not in lo_a                        # lo has none (ifa_broadcast 0)
    assert in_addr(eth_a[IFA_LOCAL]) == ME and in_addr(eth_a[IFA_BROADCAST]) == "10.0.2.255"
    assert cstr(lo_a[IFA_LABEL]) == "lo" and cstr(eth_a[IFA_LABEL]) == "eth0"
    assert struct.unpack("<I", eth_a[IFA_FLAGS])[0] == 0x80
    assert struct.unpack("<4I", eth_a[IFA_CACHEINFO])[:2] == (0xFFFFFFFF, 0xFFFFFFFF)


def test_addr_dump_by_family(k):
    fd = k.socket()
    # if_nameindex asks AF_INET; IPv6 has no addresses here
    assert [m[0] for m in messages(k.dump(fd, RTM_GETADDR, 3, AF_INET)[0])] == [RTM_NEWADDR] * 2
    assert [[m[0] for m in messages(d)] for d in k.dump(fd, RTM_GETADDR, 4, AF_INET6)] == [[NLMSG_DONE]]


def test_interface_without_address_is_not_in_the_addr_dump():
    kernel = NetKernel(configure=False)
    try:
        fd = kernel.socket()
        msgs = messages(kernel.dump(fd, RTM_GETADDR, 1)[0])
        assert len(msgs) == 1 and addr(msgs[0][4])[0]["index"] == 1
        assert len(messages(kernel.dump(fd, RTM_GETLINK, 2)[0])) == 2
    finally:
        kernel.reset()


def error_of(dgram):
    (m,) = messages(dgram)
    assert m[0] == NLMSG_ERROR
    err = struct.unpack_from("<i", m[4])[0]
    return err, m[1], m[4][4:20], m[4][20:]


def test_unsupported_requests_get_eopnotsupp_with_the_request(k):
    fd = k.socket()
    req = request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 9)
    assert k.send(fd, req) == len(req)
    err, flags, hdr, payload = error_of(k.recv(fd))
    assert (err, flags, hdr, payload) == (-EOPNOTSUPP, 0, req[:16], req[16:])
    req = request(RTM_NEWADDR, NLM_F_REQUEST, 10, bytes(8))        # changes are not offered
    k.send(fd, req)
    assert error_of(k.recv(fd))[0] == -EOPNOTSUPP
    assert k.send(fd, request(RTM_GETADDR, NLM_F_REQUEST, 11, bytes(8))) == 24   # no doit
    assert error_of(k.recv(fd))[0] == -EOPNOTSUPP
    assert k.send(fd, request(200, NLM_F_REQUEST, 12)) == 20                    # > RTM_MAX
    assert error_of(k.recv(fd))[0] == -EOPNOTSUPP
    assert k.recv(fd) == -EAGAIN


def test_cap_ack_leaves_the_payload_out(k):
    fd = k.socket()
    assert k.setsockopt_int(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1) == 0
    assert k.getsockopt_raw(fd, SOL_NETLINK, NETLINK_CAP_ACK) == (4, struct.pack("<i", 1))
    req = request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 9)
    k.send(fd, req)
    assert error_of(k.recv(fd)) == (-EOPNOTSUPP, NLM_F_CAPPED, req[:16], b"")


def test_messages_that_are_not_requests_are_skipped(k):
    fd = k.socket()
    k.send(fd, request(RTM_GETLINK, NLM_F_DUMP, 1))                 # no NLM_F_REQUEST
    k.send(fd, request(NLMSG_DONE, NLM_F_REQUEST, 2))               # a control message
    k.send(fd, request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 3, b""))   # no rtgenmsg byte
    k.send(fd, struct.pack("<IHHII", 200, RTM_GETLINK, 0x301, 4, 0) + bytes(4))  # nlmsg_len too big
    assert k.recv(fd) == -EAGAIN
    k.send(fd, request(NLMSG_DONE, NLM_F_REQUEST | NLM_F_ACK, 5))   # ...acked when asked
    assert error_of(k.recv(fd))[:2] == (0, NLM_F_CAPPED)


def test_two_requests_in_one_datagram(k):
    fd = k.socket()
    both = request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1) + request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 2)
    assert k.send(fd, both) == 40
    kinds = []
    while isinstance(d := k.recv(fd), bytes):
        kinds.append([(m[0], m[2]) for m in messages(d)])
    assert kinds == [[(RTM_NEWADDR, 1)] * 2, [(NLMSG_DONE, 1)], [(NLMSG_ERROR, 2)]]


def getlink(index=0, name=None, flags=NLM_F_REQUEST, seq=5):
    body = struct.pack("<BBHiII", 0, 0, 0, index, 0, 0)
    if name is not None:
        body += nlt.rtattr_emit(IFLA_IFNAME, name.encode() + b"\0")
    return request(RTM_GETLINK, flags, seq, body)


def test_getlink_by_index_and_name(k):
    fd = k.socket()
    k.send(fd, getlink(index=2, flags=NLM_F_REQUEST | NLM_F_ACK))
    (m,) = messages(k.recv(fd))
    assert m[0] == RTM_NEWLINK and m[1] == 0 and link(m[4])[0]["index"] == 2
    assert error_of(k.recv(fd))[:2] == (0, NLM_F_CAPPED)                # the ack, separately
    k.send(fd, getlink(name="lo"))
    (m,) = messages(k.recv(fd))
    assert link(m[4])[0]["index"] == 1
    assert k.recv(fd) == -EAGAIN                                        # no ack unless asked
    k.send(fd, getlink(index=9))
    assert error_of(k.recv(fd))[0] == -ENODEV
    k.send(fd, getlink(name="eth7"))
    assert error_of(k.recv(fd))[0] == -ENODEV
    k.send(fd, getlink())                                               # neither: EINVAL
    assert error_of(k.recv(fd))[0] == -EINVAL
    k.send(fd, request(RTM_GETLINK, NLM_F_REQUEST, 6))                  # body shorter than ifinfomsg
    assert error_of(k.recv(fd))[0] == -EINVAL


def test_bind_and_names(k):
    a, b = k.socket(), k.socket()
    assert k.name(a) == nl_addr(0)                      # unbound: port 0
    assert k.bind(a, nl_addr(1234)) == 0
    assert k.name(a) == nl_addr(1234)
    assert k.bind(a, nl_addr(1234)) == 0                # the same port again: fine
    assert k.bind(a, nl_addr(99)) == -EINVAL            # another: no
    assert k.bind(b, nl_addr(1234)) == -EADDRINUSE
    assert k.bind(b, nl_addr(1234)[:11]) == -EINVAL
    assert k.bind(b, nl_addr(5, family=AF_INET)) == -EINVAL
    assert k.bind(b, nl_addr(0, groups=1)) == 0         # autobind, with a group
    pid, groups = struct.unpack_from("<II", k.name(b), 4)
    assert pid not in (0, 1234) and groups == 1
    assert k.name(b, peer=True) == nl_addr(0)           # the kernel
    k.close(a)
    c = k.socket()
    assert k.bind(c, nl_addr(1234)) == 0                # closing freed the port


def test_messages_between_sockets(k):
    a, b = k.socket(), k.socket()
    assert k.bind(a, nl_addr(1000)) == 0 and k.bind(b, nl_addr(2000)) == 0
    assert k.send(a, b"hello netlink", nl_addr(2000)) == 13
    r, data, name, _, _ = k.recvmsg(b)
    assert (r, data, name) == (13, b"hello netlink", nl_addr(1000))
    assert k.send(a, b"x", nl_addr(3000)) == -ECONNREFUSED
    assert k.ipc("connect", a, k.put(nl_addr(2000)), 12) == 0
    assert k.name(a, peer=True) == nl_addr(2000)
    assert k.send(a, b"connected") == 9
    assert k.recv(b) == b"connected"
    assert k.ipc("connect", a, k.put(struct.pack("<H", AF_UNSPEC)), 2) == 0
    assert k.name(a, peer=True) == nl_addr(0)


def test_recv_truncates_and_consumes(k):
    fd = k.socket()
    k.send(fd, request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 9))  # a 40-byte error
    r, data, name, mflags, _ = k.recvmsg(fd, n=16, flags=MSG_DONTWAIT | MSG_PEEK)
    assert (r, len(data), mflags & MSG_TRUNC) == (16, 16, MSG_TRUNC)
    assert name == nl_addr(0)                          # from the kernel
    r, data, _, mflags, _ = k.recvmsg(fd, n=16, flags=MSG_DONTWAIT | MSG_TRUNC)
    assert r == 40 and len(data) == 16 and mflags & MSG_TRUNC
    assert k.recv(fd) == -EAGAIN                        # the datagram is gone


def test_pktinfo(k):
    fd = k.socket()
    assert k.setsockopt_int(fd, SOL_NETLINK, NETLINK_PKTINFO, 1) == 0
    k.send(fd, getlink(index=1))
    r, _, _, _, ctl = k.recvmsg(fd, control=64)
    assert r > 0 and ctl == struct.pack("<QiiI4x", 20, SOL_NETLINK, NETLINK_PKTINFO, 0)


def test_options(k):
    fd = k.socket()
    assert k.setsockopt_int(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1) == 0
    assert k.getsockopt_raw(fd, SOL_NETLINK, NETLINK_EXT_ACK) == (4, struct.pack("<i", 1))
    assert k.setsockopt_int(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, optlen=2) == 0   # short: val 0
    assert k.getsockopt_raw(fd, SOL_NETLINK, NETLINK_EXT_ACK) == (4, struct.pack("<i", 0))
    assert k.getsockopt_raw(fd, SOL_NETLINK, NETLINK_EXT_ACK, optlen=2) == -EINVAL
    assert k.setsockopt_int(fd, SOL_NETLINK, 77, 1) == -ENOPROTOOPT
    assert k.setsockopt_int(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 37) == -EINVAL
    assert k.getsockopt_raw(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, 8)[0] == 0
    assert k.setsockopt_int(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 5) == 0
    assert k.getsockopt_raw(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, 8) == (8, struct.pack("<II", 1 << 4, 0))
    assert struct.unpack_from("<I", k.name(fd), 8)[0] == 1 << 4


def test_readiness_and_nonblocking(k):
    fd = k.socket(AF_NETLINK, SOCK_DGRAM | 0o4000, 0)
    assert ipc.poll(fd) & (POLLIN | POLLOUT) == POLLOUT
    assert k.recv(fd, flags=0) == -EAGAIN              # O_NONBLOCK
    k.send(fd, getlink(index=1))
    assert ipc.poll(fd) & POLLIN
    k.recv(fd)
    assert not ipc.poll(fd) & POLLIN


def test_receive_queue_limit_reports_enobufs(k):
    fd = k.socket()
    assert k.setsockopt_int(fd, SOL_SOCKET, 8, 0) == 0          # SO_RCVBUF: the minimum
    sent = 0
    while sent < 100:
        k.send(fd, request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, sent))
        sent += 1
    got = []
    while (d := k.recv(fd)) != -EAGAIN:
        got.append(d)
    # A pending error comes before queued data (skb_recv_datagram); what was queued stays.
    assert got[0] == -ENOBUFS and got.count(-ENOBUFS) == 1
    assert 0 < len(got) - 1 < 2 * sent and all(isinstance(d, bytes) for d in got[1:])


def test_oversized_send(k):
    fd = k.socket()
    assert k.setsockopt_int(fd, SOL_SOCKET, 7, 0) == 0          # SO_SNDBUF: the minimum (4608)
    assert k.send(fd, bytes(4608 - 32 + 1)) == -EMSGSIZE


# ------------------------------------------------------------------ interface ioctls

@pytest.fixture
def udp(k):
    return k.socket(AF_INET, SOCK_DGRAM, 0)


def sin(b: bytes):
    family, = struct.unpack_from("<H", b, 16)
    return family, in_addr(b[20:24])


def test_ifconf(k, udp):
    r, ln, entries = k.ifconf(udp, 4000)
    assert (r, ln, entries) == (0, 80, [("lo", AF_INET, "127.0.0.1"), ("eth0", AF_INET, ME)])
    assert k.ifconf(udp, 0, null_buffer=True)[:2] == (0, 80)           # the length needed
    assert k.ifconf(udp, 79)[1:] == (40, [("lo", AF_INET, "127.0.0.1")])  # whole entries only
    assert k.ifconf(udp, 39)[1:] == (0, [])
    assert k.call("ioctl", udp, SIOCGIFCONF, BAD) == -EFAULT


def test_ifconf_lists_only_addressed_interfaces():
    kernel = NetKernel(configure=False)
    try:
        s = kernel.socket(AF_INET, SOCK_DGRAM, 0)
        assert kernel.ifconf(s, 4000)[2] == [("lo", AF_INET, "127.0.0.1")]
        r, _ = kernel.ifreq(s, SIOCGIFADDR, "eth0")
        assert r == -EADDRNOTAVAIL
        r, ifr = kernel.ifreq(s, SIOCGIFFLAGS, "eth0")
        assert r == 0
    finally:
        kernel.reset()


@pytest.mark.parametrize("name,cmd,want", [
    ("lo", SIOCGIFADDR, "127.0.0.1"), ("lo", SIOCGIFNETMASK, "255.0.0.0"),
    ("lo", SIOCGIFBRDADDR, "0.0.0.0"), ("lo", SIOCGIFDSTADDR, "127.0.0.1"),
    ("eth0", SIOCGIFADDR, ME), ("eth0", SIOCGIFNETMASK, MASK),
    ("eth0", SIOCGIFBRDADDR, "10.0.2.255"), ("eth0", SIOCGIFDSTADDR, ME),
])
def test_address_queries(k, udp, name, cmd, want):
    r, ifr = k.ifreq(udp, cmd, name, union=b"\xaa" * 24)
    assert r == 0 and sin(ifr) == (AF_INET, want)
    assert ifr[18:20] == b"\0\0" and ifr[24:32] == bytes(8)      # port and sin_zero cleared
    assert cstr(ifr[:16]) == name


def test_device_queries(k, udp):
    def short(name, cmd):
        r, ifr = k.ifreq(udp, cmd, name)
        return r, struct.unpack_from("<h", ifr, 16)[0] & 0xFFFF

    def int_(name, cmd):
        r, ifr = k.ifreq(udp, cmd, name)
        return r, struct.unpack_from("<i", ifr, 16)[0]
    assert short("lo", SIOCGIFFLAGS) == (0, LO_FLAGS & 0xFFFF)             # IFF_LOWER_UP does not fit
    assert short("eth0", SIOCGIFFLAGS) == (0, ETH_FLAGS & 0xFFFF)
    assert int_("lo", SIOCGIFMTU) == (0, 65536) and int_("eth0", SIOCGIFMTU) == (0, 1500)
    assert int_("lo", SIOCGIFINDEX) == (0, 1) and int_("eth0", SIOCGIFINDEX) == (0, 2)
    r, ifr = k.ifreq(udp, SIOCGIFHWADDR, "eth0", union=b"\xaa" * 24)
    assert r == 0 and struct.unpack_from("<H", ifr, 16)[0] == ARPHRD_ETHER and ifr[18:24] == MAC
    assert ifr[24:32] == b"\xaa" * 8                    # only the address's bytes are written
    r, ifr = k.ifreq(udp, SIOCGIFHWADDR, "lo")
    assert r == 0 and struct.unpack_from("<H", ifr, 16)[0] == ARPHRD_LOOPBACK and ifr[18:24] == bytes(6)
    r, ifr = k.ifreq(udp, SIOCGIFNAME, b"\xcc" * 16, union=struct.pack("<i", 2))
    assert r == 0 and ifr[:5] == b"eth0\0"
    assert k.ifreq(udp, SIOCGIFNAME, "", union=struct.pack("<i", 3))[0] == -ENODEV
    assert k.ifreq(udp, SIOCGIFNAME, "", union=struct.pack("<i", 0))[0] == -ENODEV


def test_ioctl_errors(k, udp):
    for cmd in (SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFMTU):
        assert k.ifreq(udp, cmd, "eth9")[0] == -ENODEV
        assert k.call("ioctl", udp, cmd, BAD) == -EFAULT
    assert k.ifreq(udp, SIOCGIFADDR, "eth0:1")[0] == -EADDRNOTAVAIL   # an alias with no address
    assert k.ifreq(udp, SIOCGIFFLAGS, "eth0:1")[0] == 0               # the device is found
    assert k.ifreq(udp, SIOCGIFINDEX, b"lo" + b"x" * 14)[0] == -ENODEV  # ifr_name[15] = 0 cut
    assert k.ifreq(udp, SIOCSIFFLAGS, "eth0")[0] == -EOPNOTSUPP
    assert k.call("ioctl", udp, 0x89ff, k.put(bytes(40))) == -ENOTTY


def test_device_queries_on_every_family_address_queries_on_inet_only(k):
    # musl's if_nametoindex asks SIOCGIFINDEX on an AF_UNIX socket; Linux answers any family.
    nl = k.socket()
    pair = k.alloc(8)
    assert k.ipc("socketpair", AF_UNIX, SOCK_STREAM, 0, pair) == 0
    ux = struct.unpack("<i", k.get(pair, 4))[0]
    for fd in (nl, ux):
        r, ifr = k.ifreq(fd, SIOCGIFINDEX, "eth0")
        assert r == 0 and struct.unpack_from("<i", ifr, 16)[0] == 2
        assert k.ifconf(fd, 4000)[1] == 80
        assert k.ifreq(fd, SIOCGIFADDR, "eth0")[0] == -ENOTTY
