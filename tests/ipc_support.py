"""Helpers for the pipe / eventfd / unix socket tests: fs_support.Kernel plus the syscalls
of tyn.fs.pipe, tyn.fs.eventfd and tyn.net.unix (through tyn.twins.ipc_twin)."""

from __future__ import annotations

import struct

from fs_support import Kernel
from tyn.twins import ipc_twin as ipc

# Linux x86_64 values
O_NONBLOCK = 0o4000
O_CLOEXEC = 0o2000000
O_RDONLY, O_WRONLY, O_RDWR = 0, 1, 2
F_GETFD, F_GETFL, F_SETFL = 1, 3, 4
POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP = 0x1, 0x2, 0x4, 0x8, 0x10
POLLRDNORM, POLLWRNORM, POLLWRBAND, POLLRDHUP = 0x40, 0x100, 0x200, 0x2000
S_IFMT, S_IFIFO, S_IFSOCK = 0o170000, 0o010000, 0o140000
FIONREAD = 0x541B
TIOCOUTQ = 0x5411

EPERM, ENOENT, EBADF, EAGAIN, ENOMEM, EFAULT, EINVAL, EMFILE, ENOTTY, ESPIPE, EPIPE = \
    1, 2, 9, 11, 12, 14, 22, 24, 25, 29, 32
ENOTSOCK, EMSGSIZE, ENOPROTOOPT, EPROTONOSUPPORT, ESOCKTNOSUPPORT, EOPNOTSUPP = 88, 90, 92, 93, 94, 95
EAFNOSUPPORT, ECONNRESET, ENOBUFS, EISCONN = 97, 104, 105, 106

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET = 1, 2, 5
SOCK_NONBLOCK, SOCK_CLOEXEC = O_NONBLOCK, O_CLOEXEC
MSG_OOB, MSG_PEEK, MSG_CTRUNC, MSG_DONTWAIT, MSG_WAITALL, MSG_NOSIGNAL = 0x1, 0x2, 0x8, 0x40, 0x100, 0x4000
MSG_CMSG_CLOEXEC = 0x40000000
SOL_SOCKET, SCM_RIGHTS, SCM_CREDENTIALS = 1, 1, 2
SO_TYPE, SO_ERROR, SO_SNDBUF, SO_RCVBUF, SO_PROTOCOL, SO_DOMAIN = 3, 4, 7, 8, 38, 39
SHUT_RD, SHUT_WR, SHUT_RDWR = 0, 1, 2
BAD = 8                                     # an address outside the user window


def cmsg_align(n):
    return (n + 7) & ~7


def rights(*fds) -> bytes:
    """One SCM_RIGHTS control message, CMSG_SPACE-padded."""
    body = struct.pack(f"<{len(fds)}i", *fds)
    hdr = struct.pack("<Qii", 16 + len(body), SOL_SOCKET, SCM_RIGHTS)
    return (hdr + body).ljust(cmsg_align(16 + len(body)), b"\0")


class IpcKernel(Kernel):
    def ipc(self, name, *args):
        return ipc.call(name, *args)

    # -- pipes and eventfd
    def pipe2(self, flags=0):
        arr = self.alloc(8)
        r = self.ipc("pipe2", arr, flags)
        return struct.unpack("<ii", self.get(arr, 8)) if r == 0 else r

    def eventfd(self, initval=0, flags=0):
        return self.ipc("eventfd2", initval, flags)

    def write_u64(self, fd, v, n=8):
        return self.write(fd, struct.pack("<Q", v)[:n] if n <= 8 else struct.pack("<Q", v) + bytes(n - 8))

    def read_u64(self, fd, n=8):
        r = self.read(fd, n)
        return r if isinstance(r, int) else struct.unpack("<Q", r[:8])[0]

    def fcntl(self, fd, cmd, arg=0):
        return self.call("fcntl", fd, cmd, arg)

    def poll(self, fd):
        return ipc.poll(fd)

    def fionread(self, fd, cmd=FIONREAD):
        buf = self.alloc(4)
        r = self.call("ioctl", fd, cmd, buf)
        return struct.unpack("<i", self.get(buf, 4))[0] if r == 0 else r

    # -- sockets
    def socketpair(self, family=AF_UNIX, type=SOCK_STREAM, proto=0):
        arr = self.put(struct.pack("<ii", -7, -7))
        r = self.ipc("socketpair", family, type, proto, arr)
        return struct.unpack("<ii", self.get(arr, 8)) if r == 0 else r

    def send(self, fd, data, flags=0):
        return self.ipc("sendto", fd, self.put(data), len(data), flags, 0, 0)

    def recv(self, fd, n, flags=0):
        buf = self.alloc(n or 1)
        r = self.ipc("recvfrom", fd, buf, n, flags, 0, 0)
        return self.get(buf, r) if r >= 0 else r

    def sendmsg(self, fd, parts, control=b"", flags=0, name=None, namelen=None, raw_iov=None, iovlen=None,
                control_addr=None, controllen=None):
        """parts: list of bytes (one iovec each).  Returns the raw result."""
        iov = raw_iov if raw_iov is not None else self.iov([(self.put(p), len(p)) for p in parts] or [(0, 0)])
        ctl = control_addr if control_addr is not None else (self.put(control) if control else 0)
        nm = self.put(name) if name is not None else 0
        hdr = struct.pack("<QiiQQQQi4x", nm, namelen if namelen is not None else (len(name) if name else 0), 0,
                          iov, len(parts) if iovlen is None else iovlen, ctl,
                          len(control) if controllen is None else controllen, 0)
        assert len(hdr) == 56
        return self.ipc("sendmsg", fd, self.put(hdr), flags)

    def recvmsg(self, fd, sizes, controllen=0, flags=0, with_name=False, control=True):
        """sizes: list of iovec lengths.  (result, data, msg_flags, control bytes, msg_namelen)."""
        bufs = [self.alloc(n or 1) for n in sizes]
        iov = self.iov(list(zip(bufs, sizes))) if sizes else 0
        ctl = self.alloc(max(controllen, 1)) if control else 0
        if ctl:
            sysfs_fill(self, ctl, max(controllen, 1))
        nm = self.alloc(128) if with_name else 0
        msg = self.put(struct.pack("<QiiQQQQi4x", nm, 128 if with_name else 0, 0, iov, len(sizes), ctl,
                                   controllen, 0x5a5a))
        r = self.ipc("recvmsg", fd, msg, flags)
        h = struct.unpack("<QiiQQQQi4x", self.get(msg, 56))
        if r < 0:
            return r, b"", None, b"", None
        data, left = b"", r
        for b, n in zip(bufs, sizes):
            take = min(n, left)
            data += self.get(b, take)
            left -= take
        used = h[6]
        return r, data, h[7], (self.get(ctl, used) if used else b""), h[1]

    def getsockopt(self, fd, level, name, optlen=4):
        val = self.put(b"\xee" * 8)
        ln = self.put(struct.pack("<i", optlen))
        r = self.ipc("getsockopt", fd, level, name, val, ln)
        if r < 0:
            return r
        n = struct.unpack("<i", self.get(ln, 4))[0]
        return n, self.get(val, 8)

    def getsockopt_int(self, fd, name):
        r = self.getsockopt(fd, SOL_SOCKET, name)
        return r if isinstance(r, int) else struct.unpack("<i", r[1][:4])[0]

    def setsockopt_int(self, fd, name, v, level=SOL_SOCKET, optlen=4):
        return self.ipc("setsockopt", fd, level, name, self.put(struct.pack("<i", v)), optlen)


def sysfs_fill(k, addr, n):
    from tyn.twins import sysfs_twin
    sysfs_twin.user_write(addr, b"\xcc" * n)


def parse_rights(ctl: bytes):
    """[(level, type, cmsg_len, [fds])] from a received control buffer."""
    out, at = [], 0
    while at + 16 <= len(ctl):
        ln, level, typ = struct.unpack_from("<Qii", ctl, at)
        n = (ln - 16) // 4
        fds = list(struct.unpack_from(f"<{n}i", ctl, at + 16)) if level == SOL_SOCKET and typ == SCM_RIGHTS else []
        out.append((level, typ, ln, fds))
        at += cmsg_align(ln)
    return out
