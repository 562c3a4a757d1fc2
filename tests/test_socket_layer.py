"""The family-independent socket layer (tyn.net.socket, tyn.sys.socket_syscall) through
a fake protocol registered only in the host twin (tyn.twins.socket_twin): the registry's
errors, socket() flags, non-blocking connect (EINPROGRESS, EALREADY, completion reported
by POLLOUT and SO_ERROR, counted wakeups), bind/getsockname/getpeername with Linux's
address length rules, listen's backlog clamp and SO_ACCEPTCONN, accept/accept4 (EAGAIN,
flags, the peer address, inherited options), sendto/recvfrom/recvmsg addresses and
control messages, the SOL_SOCKET options, and the sockaddr_in parse/emit pair.  Only
calls that Linux would not block (the host has no scheduler)."""

from __future__ import annotations

import struct

import pytest

from ipc_support import *  # noqa: F403
from ipc_support import IpcKernel
from tyn.twins import ipc_twin as ipc
from tyn.twins import socket_twin as fake

AF_UNSPEC, IPPROTO_TCP, IPPROTO_UDP = 0, 6, 17
EEXIST, ENOTCONN, EALREADY, EINPROGRESS, ECONNREFUSED, EDOM = 17, 107, 114, 115, 111, 33
SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER, SO_REUSEPORT, SO_ACCEPTCONN = 2, 9, 13, 15, 30
SO_RCVTIMEO, SO_SNDTIMEO, SO_SNDBUFFORCE = 20, 21, 32
F_SETFL = 4
MSG_TRUNC = 0x20


def sin(ip: int, port: int, family=AF_INET) -> bytes:
    return struct.pack("<H", family) + struct.pack(">HI", port, ip) + bytes(8)


class SockKernel(IpcKernel):
    def socket(self, family=AF_INET, type_=SOCK_STREAM, proto=0):
        return self.ipc("socket", family, type_, proto)

    def connect(self, fd, addr: bytes, addrlen=None):
        return self.ipc("connect", fd, self.put(addr), len(addr) if addrlen is None else addrlen)

    def bind(self, fd, addr: bytes, addrlen=None):
        return self.ipc("bind", fd, self.put(addr), len(addr) if addrlen is None else addrlen)

    def name(self, fd, peer=False, room=128):
        buf = self.put(b"\xcc" * max(room, 1))
        ln = self.put(struct.pack("<i", room))
        r = self.ipc("getpeername" if peer else "getsockname", fd, buf, ln)
        if r < 0:
            return r
        return struct.unpack("<i", self.get(ln, 4))[0], self.get(buf, max(room, 1))

    def accept4(self, fd, flags=0, room=None):
        if room is None:
            return self.ipc("accept4", fd, 0, 0, flags), None
        buf = self.put(b"\xcc" * max(room, 1))
        ln = self.put(struct.pack("<i", room))
        r = self.ipc("accept4", fd, buf, ln, flags)
        return r, (struct.unpack("<i", self.get(ln, 4))[0], self.get(buf, max(room, 1)))

    def getsockopt_raw(self, fd, name, optlen, level=SOL_SOCKET):
        val = self.put(b"\xee" * max(optlen, 1))
        ln = self.put(struct.pack("<i", optlen))
        r = self.ipc("getsockopt", fd, level, name, val, ln)
        return r if r < 0 else (struct.unpack("<i", self.get(ln, 4))[0], self.get(val, max(optlen, 1)))

    def setsockopt_raw(self, fd, name, data: bytes, optlen=None, level=SOL_SOCKET):
        return self.ipc("setsockopt", fd, level, name, self.put(data), len(data) if optlen is None else optlen)


@pytest.fixture
def k():
    ipc.reset_sockets()
    kernel = SockKernel()
    yield kernel
    ipc.reset_sockets()


@pytest.fixture
def tcp(k):
    """The fake registered as AF_INET/SOCK_STREAM/IPPROTO_TCP."""
    assert fake.register_fake(AF_INET, SOCK_STREAM, IPPROTO_TCP) == 0
    return k


# ------------------------------------------------------------------ registry and socket()

@pytest.mark.parametrize("family, type_, proto, err", [
    (AF_INET, SOCK_STREAM, 0, EAFNOSUPPORT),         # nothing registered for AF_INET yet
    (AF_INET6, SOCK_DGRAM, 0, EAFNOSUPPORT),
    (AF_UNIX, SOCK_STREAM, 2, EPROTONOSUPPORT),
    (AF_UNIX, SOCK_SEQPACKET, 0, ESOCKTNOSUPPORT),
    (46, SOCK_STREAM, 0, EAFNOSUPPORT),
    (-1, SOCK_STREAM, 0, EAFNOSUPPORT),
    (AF_INET, 11, 0, EINVAL),
    (AF_INET, SOCK_STREAM | 0x10, 0, EINVAL),        # unknown flag
])
def test_socket_errors_without_inet(k, family, type_, proto, err):
    assert k.socket(family, type_, proto) == -err


def test_registry_matches_type_then_protocol(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM, 0)
    assert s >= 3
    assert k.getsockopt_int(s, SO_PROTOCOL) == IPPROTO_TCP      # 0 picks the registered protocol
    assert k.getsockopt_int(s, SO_TYPE) == SOCK_STREAM and k.getsockopt_int(s, SO_DOMAIN) == AF_INET
    assert k.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) >= 3
    assert k.socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) == -EPROTONOSUPPORT
    assert k.socket(AF_INET, SOCK_DGRAM, 0) == -ESOCKTNOSUPPORT
    assert k.socket(AF_INET6, SOCK_STREAM, 0) == -EAFNOSUPPORT
    assert fake.register_fake(AF_INET, SOCK_STREAM, IPPROTO_TCP) == -EEXIST
    assert fake.register_fake(AF_INET, SOCK_DGRAM, IPPROTO_UDP) == 0
    d = k.socket(AF_INET, SOCK_DGRAM, 0)
    assert k.getsockopt_int(d, SO_PROTOCOL) == IPPROTO_UDP and k.getsockopt_int(d, SO_TYPE) == SOCK_DGRAM
    # socketpair: the family exists but its ops have none
    assert k.socketpair(AF_INET, SOCK_STREAM) == -EOPNOTSUPP


def test_socket_flags_and_file(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)
    assert k.fcntl(s, F_GETFL) == O_RDWR | O_NONBLOCK and k.fcntl(s, F_GETFD) == 1
    assert ipc.is_socket(s)
    st = k.fstat(s)
    assert st["mode"] == S_IFSOCK | 0o777
    t = k.socket()
    assert k.fcntl(t, F_GETFL) == O_RDWR and k.fcntl(t, F_GETFD) == 0
    assert k.fstat(t)["ino"] != st["ino"]
    released = fake.release_count()
    assert k.close(s) == 0 and fake.release_count() == released + 1


# ------------------------------------------------------------------ connect

def test_nonblocking_connect_completes(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK)
    assert k.poll(s) & POLLOUT == 0
    assert k.name(s, peer=True) == -ENOTCONN
    assert k.connect(s, sin(0x0a000001, 80)) == -EINPROGRESS
    assert fake.info(s)["peer"] == (0x0a000001, 80)
    assert k.connect(s, sin(0x0a000001, 80)) == -EALREADY
    w = fake.wakeups(s)
    fake.complete_connect(s)
    assert fake.wakeups(s) == (w[0], w[1], w[2] + 1)     # sk_state_change: unkeyed
    assert k.poll(s) & (POLLOUT | POLLERR) == POLLOUT
    assert k.getsockopt_int(s, SO_ERROR) == 0
    assert k.name(s, peer=True) == (16, sin(0x0a000001, 80) + b"\xcc" * 112)
    assert k.connect(s, sin(0x0a000001, 80)) == -EISCONN


def test_nonblocking_connect_fails(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM)
    k.fcntl(s, F_SETFL, O_NONBLOCK)
    assert k.connect(s, sin(0x7f000001, 9)) == -EINPROGRESS
    fake.complete_connect(s, ECONNREFUSED)
    assert k.poll(s) & (POLLOUT | POLLERR) == POLLOUT | POLLERR
    assert k.getsockopt_int(s, SO_ERROR) == ECONNREFUSED
    assert k.getsockopt_int(s, SO_ERROR) == 0              # read once
    assert fake.info(s)["state"] == 1                      # SS_UNCONNECTED: may connect again
    assert k.connect(s, sin(0x7f000001, 9)) == -EINPROGRESS


def test_connect_argument_order(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK)
    r, w = k.pipe2()
    assert k.ipc("connect", 99, BAD, 16) == -EBADF
    assert k.connect(r, sin(1, 1), addrlen=129) == -EINVAL     # the address before ENOTSOCK
    assert k.ipc("connect", r, BAD, 16) == -EFAULT
    assert k.connect(r, sin(1, 1)) == -ENOTSOCK
    assert k.connect(s, sin(1, 1), addrlen=-1) == -EINVAL
    assert k.connect(s, sin(1, 1), addrlen=15) == -EINVAL      # the protocol: short sockaddr_in
    assert k.connect(s, sin(1, 1, family=AF_INET6)) == -EAFNOSUPPORT
    assert k.connect(s, sin(0, 1, family=AF_UNSPEC)) == -EAFNOSUPPORT
    a, b = k.socketpair()
    assert k.connect(a, sin(1, 1)) == -EINVAL                  # unix_stream_connect: not AF_UNIX


def test_error_report_wakes_everyone(tcp):
    k = tcp
    s = k.socket()
    w = fake.wakeups(s)
    fake.set_error(s, ECONNRESET)
    assert fake.wakeups(s)[2] == w[2] + 1 and k.poll(s) & POLLERR
    assert k.getsockopt_int(s, SO_ERROR) == ECONNRESET and k.poll(s) & POLLERR == 0


# ------------------------------------------------------------------ bind, names, listen, accept

def test_bind_and_getsockname_lengths(tcp):
    k = tcp
    s = k.socket()
    assert k.bind(s, sin(0, 0, family=AF_UNSPEC)) == 0          # AF_UNSPEC with INADDR_ANY
    assert k.bind(s, sin(0x7f000001, 5555, family=AF_UNSPEC)) == -EAFNOSUPPORT
    assert k.bind(s, sin(0x7f000001, 5555)) == 0
    assert k.bind(s, sin(1, 1), addrlen=200) == -EINVAL
    assert k.ipc("bind", s, BAD, 16) == -EFAULT
    assert k.name(s) == (16, sin(0x7f000001, 5555) + b"\xcc" * 112)
    # truncated: min(room, 16) bytes, the full length reported
    assert k.name(s, room=6) == (16, sin(0x7f000001, 5555)[:6])
    assert k.name(s, room=0) == (16, b"\xcc")
    assert k.name(s, room=-1) == -EINVAL
    assert k.ipc("getsockname", s, k.alloc(16), BAD) == -EFAULT
    r, w = k.pipe2()
    assert k.name(r) == -ENOTSOCK and k.ipc("getsockname", 99, 0, 0) == -EBADF


@pytest.mark.parametrize("backlog, seen", [(5, 5), (0, 0), (4096, 4096), (10000, 4096), (-1, 4096)])
def test_listen_clamps_backlog(tcp, backlog, seen):
    k = tcp
    s = k.socket()
    assert k.getsockopt_int(s, SO_ACCEPTCONN) == 0
    assert k.ipc("listen", s, backlog) == 0
    assert fake.info(s)["backlog"] == seen and k.getsockopt_int(s, SO_ACCEPTCONN) == 1


def test_accept(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK)
    assert k.bind(s, sin(0, 5555)) == 0 and k.ipc("listen", s, 8) == 0
    assert k.setsockopt_int(s, SO_KEEPALIVE, 1) == 0
    assert k.accept4(s)[0] == -EAGAIN
    assert k.poll(s) & POLLIN == 0
    w = fake.wakeups(s)
    fake.push_connection(s)
    fake.push_connection(s)
    assert fake.wakeups(s) == (w[0] + 2, w[1], w[2])     # keyed POLLIN wakeups
    assert k.poll(s) & POLLIN
    c, (ln, addr) = k.accept4(s, SOCK_NONBLOCK | SOCK_CLOEXEC, room=16)
    assert c >= 3 and ln == 16 and addr == sin(0x0a000002, 40001)
    assert k.fcntl(c, F_GETFL) == O_RDWR | O_NONBLOCK and k.fcntl(c, F_GETFD) == 1
    assert fake.info(c)["keepalive"] and fake.info(c)["state"] == 3       # inherited; SS_CONNECTED
    assert k.getsockopt_int(c, SO_ACCEPTCONN) == 0
    assert k.name(c, peer=True)[1][:16] == sin(0x0a000002, 40001)
    c2, _ = k.accept4(s)
    assert k.fcntl(c2, F_GETFL) == O_RDWR and k.fcntl(c2, F_GETFD) == 0
    assert k.poll(s) & POLLIN == 0 and k.accept4(s)[0] == -EAGAIN


def test_accept_errors(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK)
    k.ipc("listen", s, 1)
    assert k.accept4(s, 0x10)[0] == -EINVAL
    assert k.accept4(99)[0] == -EBADF
    r, w = k.pipe2()
    assert k.accept4(r)[0] == -ENOTSOCK
    a, b = k.socketpair()
    assert k.accept4(a)[0] == -EINVAL                            # unix_accept: not listening
    released = fake.release_count()
    fake.push_connection(s)
    buf, ln = k.alloc(16), BAD
    assert k.ipc("accept4", s, buf, ln, 0) == -EFAULT        # the connection is lost, as in Linux
    assert fake.release_count() == released + 1
    assert k.accept4(s)[0] == -EAGAIN


# ------------------------------------------------------------------ data

def test_sendto_and_recvfrom_addresses(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK)
    assert k.send(s, b"x") == -ENOTCONN
    dst = k.put(sin(0x0a000003, 53))
    assert k.ipc("sendto", s, k.put(b"query"), 5, 0, dst, 16) == 5
    assert fake.info(s)["sent"] == b"query" and fake.info(s)["last_namelen"] == 16
    assert fake.info(s)["last_flags"] & MSG_DONTWAIT               # O_NONBLOCK folded in
    assert k.ipc("sendto", s, k.put(b"q"), 1, 0, dst, 129) == -EINVAL
    assert k.ipc("sendto", s, k.put(b"q"), 1, 0, BAD, 16) == -EFAULT
    assert k.recv(s, 10) == -EAGAIN
    fake.push_datagram(s, b"answer!", 0x08080808, 53)
    assert k.poll(s) & POLLIN
    buf, ln = k.alloc(10), k.put(struct.pack("<i", 8))
    name = k.put(b"\xcc" * 16)
    assert k.ipc("recvfrom", s, buf, 10, MSG_PEEK, name, ln) == 7
    assert k.get(buf, 7) == b"answer!"
    assert struct.unpack("<i", k.get(ln, 4))[0] == 16 and k.get(name, 16) == sin(0x08080808, 53)[:8] + b"\xcc" * 8
    r, data, flags, ctl, namelen = k.recvmsg(s, [3], controllen=64, with_name=True)
    assert (r, data, namelen) == (3, b"ans", 16)
    assert flags & MSG_TRUNC
    assert ctl == struct.pack("<Qiii", 20, SOL_SOCKET, 0x7f, 7) + b"\xcc" * 4   # padding untouched
    assert k.recv(s, 10) == -EAGAIN and k.poll(s) & POLLIN == 0


def test_control_message_truncated(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK)
    fake.push_datagram(s, b"abc", 1, 2)
    r, data, flags, ctl, _ = k.recvmsg(s, [8], controllen=18)
    assert r == 3 and flags & MSG_CTRUNC and len(ctl) == 18
    assert struct.unpack_from("<Q", ctl)[0] == 18


def test_epipe_after_shutdown(tcp):
    k = tcp
    s = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK)
    assert k.connect(s, sin(1, 1)) == -EINPROGRESS
    fake.complete_connect(s)
    assert k.send(s, b"hi") == 2
    assert k.ipc("shutdown", s, 3) == -EINVAL
    w = fake.wakeups(s)
    assert k.ipc("shutdown", s, SHUT_WR) == 0
    assert fake.info(s)["shutdown"] == 2 and fake.wakeups(s)[2] == w[2] + 1
    assert k.send(s, b"hi", MSG_NOSIGNAL) == -EPIPE
    assert k.write(s, b"hi") == -EPIPE


def test_msg_cmsg_compat_refused(tcp):
    k = tcp
    s = k.socket()
    assert k.ipc("sendmsg", s, 0, 0x80000000) == -EINVAL
    assert k.ipc("recvmsg", s, 0, 0x80000000) == -EINVAL


# ------------------------------------------------------------------ SOL_SOCKET options

def test_boolean_options_and_hook(tcp):
    k = tcp
    s = k.socket()
    for name in (SO_REUSEADDR, SO_KEEPALIVE, SO_REUSEPORT, 6, 10):    # 6 SO_BROADCAST, 10 SO_OOBINLINE
        assert k.getsockopt_int(s, name) == 0
        assert k.setsockopt_int(s, name, 7) == 0
        assert k.getsockopt_int(s, name) == 1 and fake.info(s)["last_option"] == name
        assert k.setsockopt_int(s, name, 0) == 0 and k.getsockopt_int(s, name) == 0
    a, b = k.socketpair()
    assert k.setsockopt_int(a, SO_REUSEPORT, 1) == -EOPNOTSUPP       # inet only
    assert k.setsockopt_int(a, SO_REUSEPORT, 0) == 0


def test_buffer_sizes(tcp):
    k = tcp
    s = k.socket()
    assert k.getsockopt_int(s, SO_SNDBUF) == 212992 and k.getsockopt_int(s, SO_RCVBUF) == 212992
    assert k.setsockopt_int(s, SO_SNDBUF, 1000) == 0 and k.getsockopt_int(s, SO_SNDBUF) == 4608
    assert fake.info(s)["last_option"] == SO_SNDBUF and fake.info(s)["sndbuf"] == 4608
    assert k.setsockopt_int(s, SO_SNDBUF, 10000) == 0 and k.getsockopt_int(s, SO_SNDBUF) == 20000
    assert k.setsockopt_int(s, SO_SNDBUFFORCE, 1 << 30) == 0
    assert k.getsockopt_int(s, SO_SNDBUF) == 0x7ffffffe
    assert fake.info(s)["last_option"] == SO_SNDBUF                  # the FORCE variant reports SO_SNDBUF


def test_linger(tcp):
    k = tcp
    s = k.socket()
    assert k.getsockopt(s, SOL_SOCKET, SO_LINGER, optlen=8) == (8, bytes(8))
    assert k.setsockopt_raw(s, SO_LINGER, struct.pack("<ii", 1, 30)) == 0
    assert k.getsockopt(s, SOL_SOCKET, SO_LINGER, optlen=8) == (8, struct.pack("<ii", 1, 30))
    assert k.getsockopt(s, SOL_SOCKET, SO_LINGER, optlen=4) == (4, struct.pack("<i", 1) + b"\xee" * 4)
    assert k.setsockopt_raw(s, SO_LINGER, struct.pack("<i", 1)) == -EINVAL
    assert k.setsockopt_raw(s, SO_LINGER, struct.pack("<ii", 0, 30)) == 0
    assert k.getsockopt(s, SOL_SOCKET, SO_LINGER, optlen=8)[1][:4] == bytes(4)


def test_timeouts(tcp):
    k = tcp
    s = k.socket()
    tv = lambda sec, usec: struct.pack("<qq", sec, usec)  # noqa: E731
    assert k.getsockopt_raw(s, SO_RCVTIMEO, 16) == (16, tv(0, 0))
    assert k.setsockopt_raw(s, SO_RCVTIMEO, tv(2, 500)) == 0
    assert k.getsockopt_raw(s, SO_RCVTIMEO, 16) == (16, tv(2, 500))
    assert k.getsockopt_raw(s, SO_SNDTIMEO, 16) == (16, tv(0, 0))
    assert k.setsockopt_raw(s, SO_SNDTIMEO, tv(0, 1000000)) == -EDOM
    assert k.setsockopt_raw(s, SO_SNDTIMEO, tv(0, -1)) == -EDOM
    assert k.setsockopt_raw(s, SO_SNDTIMEO, tv(1, 0), optlen=8) == -EINVAL
    assert k.setsockopt_raw(s, SO_SNDTIMEO, tv(1, 0), optlen=3) == -EINVAL
    # a negative tv_sec means "never wait": a blocking socket answers EAGAIN at once
    assert k.setsockopt_raw(s, SO_RCVTIMEO, tv(-1, 0)) == 0
    assert k.getsockopt_raw(s, SO_RCVTIMEO, 16) == (16, tv(0, 0))
    assert k.fcntl(s, F_GETFL) & O_NONBLOCK == 0
    assert k.recv(s, 4) == -EAGAIN and k.accept4(s)[0] == -EAGAIN
    assert k.setsockopt_raw(s, SO_RCVTIMEO, tv(0, 0)) == 0           # back to no timeout


def test_option_errors(tcp):
    k = tcp
    s = k.socket()
    assert k.setsockopt_int(s, SO_TYPE, 1) == -ENOPROTOOPT
    assert k.setsockopt_int(s, SO_ACCEPTCONN, 1) == -ENOPROTOOPT
    assert k.getsockopt(s, SOL_SOCKET, 12345) == -ENOPROTOOPT
    assert k.getsockopt(s, IPPROTO_TCP, 1) == -EOPNOTSUPP            # the fake has no TCP level
    assert k.getsockopt(s, SOL_SOCKET, SO_TYPE, optlen=-1) == -EINVAL
    assert k.getsockopt(s, SOL_SOCKET, SO_TYPE, optlen=2) == (2, struct.pack("<H", SOCK_STREAM) + b"\xee" * 6)


# ------------------------------------------------------------------ sockaddr_in

def test_sockaddr_in_roundtrip():
    raw = fake.sockaddr_in_emit_(0xC0A80001, 8080)
    assert raw == sin(0xC0A80001, 8080)
    assert raw[2:4] == b"\x1f\x90" and raw[4:8] == bytes([192, 168, 0, 1])
    assert fake.sockaddr_in_parse_(raw, fake.UNSPEC_REFUSED) == (0xC0A80001, 8080)
    assert fake.sockaddr_in_parse_(raw + b"extra", fake.UNSPEC_REFUSED) == (0xC0A80001, 8080)


@pytest.mark.parametrize("addr, unspec, result", [
    (sin(1, 2)[:15], fake.UNSPEC_ACCEPTED, -EINVAL),
    (b"", fake.UNSPEC_ACCEPTED, -EINVAL),
    (sin(1, 2, family=AF_INET6), fake.UNSPEC_ACCEPTED, -EAFNOSUPPORT),
    (sin(1, 2, family=AF_UNSPEC), fake.UNSPEC_REFUSED, -EAFNOSUPPORT),
    (sin(1, 2, family=AF_UNSPEC), fake.UNSPEC_IF_ANY, -EAFNOSUPPORT),
    (sin(0, 2, family=AF_UNSPEC), fake.UNSPEC_IF_ANY, (0, 2)),
    (sin(1, 2, family=AF_UNSPEC), fake.UNSPEC_ACCEPTED, (1, 2)),
])
def test_sockaddr_in_parse_errors(addr, unspec, result):
    assert fake.sockaddr_in_parse_(addr, unspec) == result


def test_sockaddr_family():
    assert fake.sockaddr_family_(b"\x02\x00") == AF_INET
    assert fake.sockaddr_family_(b"\x02") == -EINVAL
