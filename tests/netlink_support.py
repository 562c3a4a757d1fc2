"""Netlink and interface-ioctl helpers for test_netlink: requests built and replies parsed
in Python (independently of tyn.net.wire_netlink), and a kernel with the stack's
interfaces (lo, eth0 on the fake NIC) and the socket families registered as at boot."""

from __future__ import annotations

import ipaddress
import struct

from ipc_support import IpcKernel
from tyn.twins import ipc_twin as ipc
from tyn.twins import netlink_twin as nlt
from tyn.twins import netstack_twin as ns

AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 0, 1, 2, 10, 16
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 3
SOL_SOCKET, SOL_NETLINK = 1, 270
MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT = 0x2, 0x20, 0x40
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP, NLM_F_CAPPED = 1, 2, 4, 0x300, 0x100
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR, RTM_GETROUTE = 16, 18, 20, 22, 26
IFLA_ADDRESS, IFLA_BROADCAST, IFLA_IFNAME, IFLA_MTU, IFLA_STATS, IFLA_TXQLEN = 1, 2, 3, 4, 7, 13
IFLA_OPERSTATE, IFLA_STATS64, IFLA_CARRIER = 16, 23, 33
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_BROADCAST, IFA_CACHEINFO, IFA_FLAGS = 1, 2, 3, 4, 6, 8
IFF_UP, IFF_BROADCAST, IFF_LOOPBACK, IFF_RUNNING, IFF_MULTICAST, IFF_LOWER_UP = 1, 2, 8, 0x40, 0x1000, 0x10000
ARPHRD_ETHER, ARPHRD_LOOPBACK = 1, 772
SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR = 0x8910, 0x8912, 0x8913, 0x8915, 0x8917
SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX = 0x8919, 0x891b, 0x8921, 0x8927, 0x8933
SIOCSIFFLAGS = 0x8914
NETLINK_PKTINFO, NETLINK_CAP_ACK, NETLINK_EXT_ACK = 3, 10, 11
NETLINK_ADD_MEMBERSHIP, NETLINK_LIST_MEMBERSHIPS = 1, 9

MAC = bytes.fromhex("525400123456")
ME, MASK, GW = "10.0.2.15", "255.255.255.0", "10.0.2.2"


def ip(a: str) -> int:
    return int(ipaddress.IPv4Address(a))


def request(type_, flags, seq, body=b"\0\0\0\0") -> bytes:
    """One netlink message (musl's dump requests carry a 1-byte rtgenmsg padded to 4)."""
    return struct.pack("<IHHII", 16 + len(body), type_, flags, seq, 0) + body


def messages(dgram: bytes):
    """[(type, flags, seq, pid, payload)] of one datagram (NLMSG_OK / NLMSG_NEXT walk)."""
    out, off = [], 0
    while len(dgram) - off >= 16:
        ln, type_, flags, seq, pid = struct.unpack_from("<IHHII", dgram, off)
        assert 16 <= ln <= len(dgram) - off, "bad nlmsg_len"
        out.append((type_, flags, seq, pid, dgram[off + 16:off + ln]))
        off += (ln + 3) & ~3
    assert off >= len(dgram), "trailing bytes"
    return out


def attrs(data: bytes) -> dict:
    out, off = {}, 0
    while len(data) - off >= 4:
        ln, type_ = struct.unpack_from("<HH", data, off)
        assert 4 <= ln <= len(data) - off
        out.setdefault(type_, data[off + 4:off + ln])
        off += (ln + 3) & ~3
    return out


def link(payload: bytes):
    """(ifinfomsg fields, attributes) of an RTM_NEWLINK payload."""
    family, _, dev_type, index, flags, change = struct.unpack_from("<BBHiII", payload)
    return dict(family=family, type=dev_type, index=index, flags=flags, change=change), attrs(payload[16:])


def addr(payload: bytes):
    family, prefixlen, flags, scope, index = struct.unpack_from("<BBBBI", payload)
    return dict(family=family, prefixlen=prefixlen, flags=flags, scope=scope, index=index), attrs(payload[8:])


def cstr(b: bytes) -> str:
    return b.split(b"\0", 1)[0].decode()


def in_addr(b: bytes) -> str:
    return str(ipaddress.IPv4Address(b))


class NetKernel(IpcKernel):
    """The simulated machine with the IPv4 stack (lo, eth0 at ME/24 on the fake NIC) and the
    socket families kmain registers."""

    def __init__(self, configure=True):
        super().__init__()
        ns.reset(mac=MAC)
        if configure:
            ns.set_addr(ip(ME), ip(MASK), ip(GW))
        nlt.register_families()

    def socket(self, family=AF_NETLINK, type_=SOCK_RAW, proto=0):
        return self.ipc("socket", family, type_, proto)

    def send(self, fd, data: bytes, dst: bytes | None = None, flags=0):
        if dst is None:
            return self.ipc("sendto", fd, self.put(data), len(data), flags, 0, 0)
        return self.ipc("sendto", fd, self.put(data), len(data), flags, self.put(dst), len(dst))

    def recv(self, fd, n=8192, flags=MSG_DONTWAIT):
        buf = self.alloc(n)
        r = self.ipc("recvfrom", fd, buf, n, flags, 0, 0)
        return r if r < 0 else self.get(buf, min(r, n))

    def recvmsg(self, fd, n=8192, flags=MSG_DONTWAIT, control=0):
        """(result, data, name, msg_flags, control bytes)."""
        buf = self.alloc(max(n, 1))
        name = self.alloc(128)
        ctl = self.alloc(max(control, 1))
        iov = self.iov([(buf, n)])
        msg = self.put(struct.pack("<QI4xQQQQi4x", name, 128, iov, 1, ctl if control else 0, control, 0))
        r = self.ipc("recvmsg", fd, msg, flags)
        if r < 0:
            return r, None, None, None, None
        _, namelen, _, _, _, ctllen, mflags = struct.unpack("<QI4xQQQQi4x", self.get(msg, 56))
        return r, self.get(buf, min(r, n)), self.get(name, namelen), mflags, self.get(ctl, ctllen) if control else b""

    def dump(self, fd, type_, seq, family=AF_UNSPEC):
        """Send a dump request as musl does and read until NLMSG_DONE: the datagrams."""
        assert self.send(fd, request(type_, NLM_F_REQUEST | NLM_F_DUMP, seq, bytes([family, 0, 0, 0]))) == 20
        out = []
        while True:
            d = self.recv(fd)
            assert isinstance(d, bytes), d
            out.append(d)
            if any(m[0] == NLMSG_DONE for m in messages(d)):
                return out

    def name(self, fd, peer=False):
        buf = self.alloc(128)
        ln = self.put(struct.pack("<i", 128))
        r = self.ipc("getpeername" if peer else "getsockname", fd, buf, ln)
        return r if r < 0 else self.get(buf, struct.unpack("<i", self.get(ln, 4))[0])

    def bind(self, fd, addr: bytes):
        return self.ipc("bind", fd, self.put(addr), len(addr))

    def setsockopt_int(self, fd, level, name, v, optlen=4):
        return self.ipc("setsockopt", fd, level, name, self.put(struct.pack("<i", v)), optlen)

    def getsockopt_raw(self, fd, level, name, optlen=4):
        val = self.put(b"\xee" * max(optlen, 1))
        ln = self.put(struct.pack("<i", optlen))
        r = self.ipc("getsockopt", fd, level, name, val, ln)
        if r < 0:
            return r
        n = struct.unpack("<i", self.get(ln, 4))[0]
        return n, self.get(val, max(optlen, 1))

    def ifreq(self, fd, cmd, name: str | bytes, union: bytes = b""):
        """ioctl(cmd) on an ifreq: (result, the ifreq afterwards)."""
        if isinstance(name, str):
            name = name.encode()
        req = name.ljust(16, b"\0")[:16] + union.ljust(24, b"\0")
        p = self.put(req)
        r = self.call("ioctl", fd, cmd, p)
        return r, self.get(p, 40)

    def ifconf(self, fd, room, null_buffer=False):
        """SIOCGIFCONF: (result, ifc_len, [(name, family, address)])."""
        buf = 0 if null_buffer else self.put(b"\xcc" * max(room, 1))
        ifc = self.put(struct.pack("<i4xQ", room, buf))
        r = self.call("ioctl", fd, SIOCGIFCONF, ifc)
        ln = struct.unpack("<i", self.get(ifc, 4))[0]
        entries = []
        if r == 0 and buf:
            raw = self.get(buf, ln)
            for off in range(0, ln, 40):
                e = raw[off:off + 40]
                entries.append((cstr(e[:16]), struct.unpack_from("<H", e, 16)[0], in_addr(e[20:24])))
        return r, ln, entries

    def reset(self):
        ipc.reset_sockets()
        # Free the stack's state (eth0, queues) while this machine's heap holds it: the
        # next test's fresh machine replaces that memory.
        ns.reset(with_nic=False)
