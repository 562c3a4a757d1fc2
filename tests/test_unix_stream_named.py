"""Named AF_UNIX stream sockets (tyn.net.unix_conn over tyn.net.unix): socket(), bind to
abstract names, autobind and filesystem paths (socket inodes in tmpfs, EADDRINUSE,
EROFS, stat, unlink), listen with a backlog (EAGAIN when full and non-blocking),
connect (ECONNREFUSED, EISCONN, EINVAL), accept/accept4, names, SO_PEERCRED, readiness,
data through an accepted connection, and what closing does at each stage.  Only calls
that Linux would not block; the blocking paths run in the guest (tests/guest/unixstream.c)."""

from __future__ import annotations

import struct

import pytest

from ipc_support import *  # noqa: F403
from ipc_support import IpcKernel
from tyn.twins import heap_twin as heap

EADDRINUSE, ECONNREFUSED, ENOTCONN, EROFS, ENXIO = 98, 111, 107, 30, 6
SO_ACCEPTCONN, SO_PEERCRED = 30, 17


@pytest.fixture
def k():
    return IpcKernel()


def un(name: bytes) -> bytes:
    return struct.pack("<H", AF_UNIX) + name


def path(p: str) -> bytes:
    return un(p.encode() + b"\0")


def sock(k, flags=SOCK_NONBLOCK):
    return k.ipc("socket", AF_UNIX, SOCK_STREAM | flags, 0)


def bind(k, fd, addr):
    return k.ipc("bind", fd, k.put(addr), len(addr))


def connect(k, fd, addr):
    return k.ipc("connect", fd, k.put(addr), len(addr))


def name(k, fd, peer=False):
    buf, ln = k.alloc(128), k.put(struct.pack("<i", 128))
    r = k.ipc("getpeername" if peer else "getsockname", fd, buf, ln)
    if r < 0:
        return r
    n = struct.unpack("<i", k.get(ln, 4))[0]
    return k.get(buf, n)


def accept(k, fd, flags=0, want_addr=True):
    buf, ln = k.alloc(128), k.put(struct.pack("<i", 128))
    r = k.ipc("accept4", fd, buf if want_addr else 0, ln if want_addr else 0, flags)
    if r < 0 or not want_addr:
        return r
    return r, k.get(buf, struct.unpack("<i", k.get(ln, 4))[0])


def listener(k, addr, backlog=4):
    fd = sock(k)
    assert bind(k, fd, addr) == 0
    assert k.ipc("listen", fd, backlog) == 0
    return fd


def peercred(k, fd):
    val, ln = k.put(b"\xee" * 16), k.put(struct.pack("<i", 16))
    r = k.ipc("getsockopt", fd, SOL_SOCKET, SO_PEERCRED, val, ln)
    assert r == 0 and struct.unpack("<i", k.get(ln, 4))[0] == 12
    return struct.unpack("<iii", k.get(val, 12))


def recvfrom_stream(k, fd, n=64):
    buf, nm, ln = k.alloc(n), k.alloc(128), k.put(struct.pack("<i", 128))
    r = k.ipc("recvfrom", fd, buf, n, 0, nm, ln)
    assert r >= 0
    return k.get(buf, r), k.get(nm, struct.unpack("<i", k.get(ln, 4))[0])


def heap_in_use():
    s = heap.stats()
    return s["used_blocks"], s["large_allocations"]


# ------------------------------------------------------------------ unconnected

def test_socket_unconnected(k):
    fd = sock(k, 0)
    assert fd == 3 and k.fstat(fd)["mode"] & S_IFMT == S_IFSOCK
    assert k.getsockopt_int(fd, SO_TYPE) == SOCK_STREAM and k.getsockopt_int(fd, SO_DOMAIN) == AF_UNIX
    assert k.poll(fd) == POLLOUT | POLLWRNORM | POLLWRBAND | POLLHUP     # TCP_CLOSE
    assert name(k, fd) == un(b"")
    assert name(k, fd, peer=True) == -ENOTCONN
    assert k.send(fd, b"x") == -ENOTCONN
    assert k.recv(fd, 1) == -EINVAL
    assert k.ipc("listen", fd, 1) == -EINVAL                    # not bound
    assert accept(k, fd) == -EINVAL
    assert k.ipc("socket", AF_UNIX, SOCK_SEQPACKET, 0) == -ESOCKTNOSUPPORT
    assert k.ipc("socket", AF_UNIX, SOCK_STREAM, 2) == -EPROTONOSUPPORT
    assert peercred(k, fd) == (0, -1, -1)


# ------------------------------------------------------------------ bind

def test_bind_abstract_and_in_use(k):
    a, b = sock(k), sock(k)
    assert bind(k, a, un(b"\0tyn")) == 0
    assert name(k, a) == un(b"\0tyn")
    assert bind(k, a, un(b"\0other")) == -EINVAL                # already bound
    assert bind(k, b, un(b"\0tyn")) == -EADDRINUSE
    assert bind(k, b, un(b"\0tyn\0")) == 0                      # abstract names: all given bytes
    assert bind(k, sock(k), struct.pack("<H", AF_INET) + b"\0x") == -EINVAL
    assert bind(k, sock(k), b"\x01") == -EINVAL
    # a datagram socket's abstract name is another namespace
    d = k.ipc("socket", AF_UNIX, SOCK_DGRAM, 0)
    assert bind(k, d, un(b"\0tyn")) == 0
    k.close(a)
    assert bind(k, sock(k), un(b"\0tyn")) == 0                  # released with its socket


def test_autobind(k):
    a = sock(k)
    assert bind(k, a, struct.pack("<H", AF_UNIX)) == 0
    got = name(k, a)
    assert len(got) == 8 and got[2] == 0 and all(c in b"0123456789abcdef" for c in got[3:])
    assert bind(k, a, struct.pack("<H", AF_UNIX)) == 0          # already named: no change
    assert name(k, a) == got


def test_bind_path_makes_a_socket_inode(k):
    a = sock(k)
    assert bind(k, a, path("/tmp/s")) == 0
    st_ = k.stat("/tmp/s")
    assert st_["mode"] == S_IFSOCK | 0o755                      # 0777 & ~umask 022
    assert name(k, a) == path("/tmp/s")                         # with its NUL
    assert bind(k, sock(k), path("/tmp/s")) == -EADDRINUSE
    assert bind(k, sock(k), path("/tmp/nodir/s")) == -ENOENT
    assert bind(k, sock(k), path("/etc/s")) == -EROFS           # the read-only root
    assert k.open("/tmp/s") == -ENXIO                           # not a file to open
    k.close(a)
    assert k.stat("/tmp/s")["mode"] & S_IFMT == S_IFSOCK        # the inode outlives the socket
    c = sock(k)
    assert connect(k, c, path("/tmp/s")) == -ECONNREFUSED       # nobody bound to it
    assert k.unlink("/tmp/s") == 0 and k.stat("/tmp/s") == -ENOENT
    assert connect(k, c, path("/tmp/s")) == -ENOENT
    assert bind(k, sock(k), path("/tmp/s")) == 0                # free again


def test_path_without_nul_and_relative(k):
    a = sock(k)
    assert bind(k, a, un(b"/tmp/raw")) == 0                     # no NUL in the given length
    assert name(k, a) == path("/tmp/raw")
    assert k.ipc("listen", a, 1) == 0
    c = sock(k)
    assert connect(k, c, un(b"/tmp/raw")) == 0
    assert connect(k, sock(k), path("/tmp/regular")) == -ENOENT
    f = k.open("/tmp/regular", 0o100 | O_RDWR)
    assert f >= 0
    assert connect(k, sock(k), path("/tmp/regular")) == -ECONNREFUSED


# ------------------------------------------------------------------ listen / connect / accept

def test_connect_accept_exchange(k):
    l = listener(k, un(b"\0srv"))
    assert k.getsockopt_int(l, SO_ACCEPTCONN) == 1
    assert k.poll(l) == 0
    assert accept(k, l) == -EAGAIN
    c = sock(k)
    assert connect(k, c, un(b"\0srv")) == 0
    assert k.poll(l) == POLLIN | POLLRDNORM
    assert k.send(c, b"early") == 5                             # before accept
    assert name(k, c, peer=True) == un(b"\0srv") and name(k, c) == un(b"")
    fd, addr = accept(k, l, SOCK_CLOEXEC)
    assert addr == un(b"")                                      # the client is unbound
    assert k.fcntl(fd, F_GETFD) == 1
    assert k.poll(l) == 0
    assert name(k, fd) == un(b"\0srv") and name(k, fd, peer=True) == un(b"")
    assert k.recv(fd, 10) == b"early"
    assert k.send(fd, b"reply") == 5 and k.recv(c, 10) == b"reply"
    assert k.send(fd, b"named") == 5
    assert recvfrom_stream(k, c) == (b"named", un(b"\0srv"))     # the sender's (bound) name
    assert k.send(c, b"anon") == 4
    assert recvfrom_stream(k, fd) == (b"anon", b"")                # unbound sender: no name
    assert connect(k, c, un(b"\0srv")) == -EISCONN
    assert k.ipc("listen", c, 1) == -EINVAL                     # connected
    assert connect(k, l, un(b"\0srv")) == -EINVAL               # a listener
    assert peercred(k, fd)[1:] == (0, 0) and peercred(k, c)[1:] == (0, 0)   # root; pids: the guest test
    k.close(fd)
    assert k.recv(c, 10) == b""                                 # EOF
    assert k.send(c, b"x", MSG_NOSIGNAL) == -EPIPE


def test_connect_refused(k):
    c = sock(k)
    assert connect(k, c, un(b"\0none")) == -ECONNREFUSED
    b = sock(k)
    assert bind(k, b, un(b"\0bound")) == 0
    assert connect(k, c, un(b"\0bound")) == -ECONNREFUSED       # bound, not listening
    assert connect(k, c, struct.pack("<H", AF_UNIX)) == -ECONNREFUSED
    assert connect(k, c, struct.pack("<H", AF_INET) + b"\0x") == -EINVAL
    d = k.ipc("socket", AF_UNIX, SOCK_DGRAM, 0)
    assert bind(k, d, un(b"\0dg")) == 0
    assert connect(k, c, un(b"\0dg")) == -ECONNREFUSED          # stream names only


def test_backlog_full_nonblocking(k):
    l = listener(k, un(b"\0bl"), backlog=1)
    cs = [sock(k) for _ in range(3)]
    assert connect(k, cs[0], un(b"\0bl")) == 0
    assert connect(k, cs[1], un(b"\0bl")) == 0                  # backlog + 1 fit
    assert connect(k, cs[2], un(b"\0bl")) == -EAGAIN
    assert connect(k, cs[0], un(b"\0bl")) == -EAGAIN           # the backlog is looked at before EISCONN
    assert accept(k, l, want_addr=False) >= 0
    assert connect(k, cs[2], un(b"\0bl")) == 0
    assert k.ipc("listen", l, 0) == 0                           # a smaller backlog
    assert connect(k, sock(k), un(b"\0bl")) == -EAGAIN


def test_listener_close_resets_pending(k):
    l = listener(k, un(b"\0gone"))
    c = sock(k)
    assert connect(k, c, un(b"\0gone")) == 0
    assert k.send(c, b"lost") == 4
    k.close(l)
    assert k.poll(c) & (POLLHUP | POLLIN) == POLLHUP | POLLIN
    assert k.getsockopt_int(c, SO_ERROR) == ECONNRESET
    assert k.recv(c, 10) == b""
    assert connect(k, sock(k), un(b"\0gone")) == -ECONNREFUSED


def test_path_connect_through_symlink_free(k):
    l = listener(k, path("/tmp/p"))
    c = sock(k)
    assert connect(k, c, path("/tmp/p")) == 0
    fd = accept(k, l, want_addr=False)
    assert name(k, fd) == path("/tmp/p") and name(k, c, peer=True) == path("/tmp/p")
    assert k.send(c, b"hi") == 2 and k.recv(fd, 2) == b"hi"
    assert k.unlink("/tmp/p") == 0
    assert connect(k, sock(k), path("/tmp/p")) == -ENOENT       # the name is gone, the socket serves on
    assert k.send(fd, b"ok") == 2 and k.recv(c, 2) == b"ok"


def test_no_leaks(k):
    before = heap_in_use()
    for i in range(3):
        l = listener(k, path(f"/tmp/l{i}"))
        c, c2 = sock(k), sock(k)
        assert connect(k, c, path(f"/tmp/l{i}")) == 0
        assert connect(k, c2, path(f"/tmp/l{i}")) == 0
        fd = accept(k, l, want_addr=False)
        assert k.send(c, b"x" * 100) == 100 and k.send(fd, b"y") == 1
        for f in (fd, c, l, c2):
            k.close(f)
        assert k.unlink(f"/tmp/l{i}") == 0
    assert heap_in_use() == before


# ------------------------------------------------------------------ datagram sockets on paths

def dgram(k):
    return k.ipc("socket", AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0)


def sendto(k, fd, data, addr):
    return k.ipc("sendto", fd, k.put(data), len(data), 0, k.put(addr), len(addr))


def recvfrom(k, fd, n=64):
    buf, nm, ln = k.alloc(n), k.alloc(128), k.put(struct.pack("<i", 128))
    r = k.ipc("recvfrom", fd, buf, n, 0, nm, ln)
    if r < 0:
        return r
    return k.get(buf, r), k.get(nm, struct.unpack("<i", k.get(ln, 4))[0])


def test_dgram_bind_path_sendto_connect(k):
    before = heap_in_use()
    a, b = dgram(k), dgram(k)
    assert bind(k, a, path("/tmp/da")) == 0
    assert k.stat("/tmp/da")["mode"] & S_IFMT == S_IFSOCK
    assert bind(k, b, path("/tmp/da")) == -EADDRINUSE
    assert bind(k, b, path("/etc/db")) == -EROFS
    assert bind(k, b, path("/tmp/db")) == 0
    assert name(k, b) == path("/tmp/db")
    assert sendto(k, b, b"to a", path("/tmp/da")) == 4
    assert recvfrom(k, a) == (b"to a", path("/tmp/db"))      # the sender's path name
    assert sendto(k, b, b"x", path("/tmp/none")) == -ENOENT
    assert connect(k, a, path("/tmp/db")) == 0
    assert name(k, a, peer=True) == path("/tmp/db")
    assert k.send(a, b"back") == 4 and recvfrom(k, b) == (b"back", path("/tmp/da"))
    # a stream socket cannot connect to a datagram socket's path
    assert connect(k, sock(k), path("/tmp/da")) == -ECONNREFUSED
    k.close(b)
    assert k.send(a, b"gone") == -ECONNREFUSED
    assert sendto(k, a, b"gone", path("/tmp/db")) == -ECONNREFUSED   # the inode stays, nobody bound
    for f in range(3, 16):
        k.close(f)
    assert k.unlink("/tmp/da") == 0 and k.unlink("/tmp/db") == 0
    assert heap_in_use() == before
