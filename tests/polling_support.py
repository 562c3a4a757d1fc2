"""Helpers for test_epoll / test_poll / test_timerfd: the file layer (fs_support.Kernel)
plus the polling twin, with struct packing for epoll_event (packed, 12 bytes), pollfd,
fd_set, timespec/timeval and itimerspec."""

from __future__ import annotations

import struct

from fs_support import Kernel
from tyn.twins import polling_twin as pt

E = pt.EPOLL
EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP = E["IN"], E["PRI"], E["OUT"], E["ERR"], E["HUP"]
EPOLLRDHUP, EPOLLONESHOT, EPOLLET, EPOLLEXCLUSIVE = E["RDHUP"], E["ONESHOT"], E["ET"], E["EXCLUSIVE"]
EPOLLRDNORM, EPOLLWRNORM = E["RDNORM"], E["WRNORM"]
ADD, DEL, MOD = E["CTL_ADD"], E["CTL_DEL"], E["CTL_MOD"]
POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 1, 2, 4, 8, 0x10, 0x20
EVENT = struct.Struct("<IQ")
assert EVENT.size == 12 == E["EVENT_SIZE"]

EPERM, ENOENT, EBADF, EAGAIN, ENOMEM, EFAULT, EEXIST, EINVAL = 1, 2, 9, 11, 12, 14, 17, 22
O_NONBLOCK, O_CLOEXEC, O_PATH = 0o4000, 0o2000000, 0o10000000
F_GETFD, F_GETFL = 1, 3


class PollKernel(Kernel):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        pt.fake_reset()
        pt.reset_timers()
        pt.thread_init()

    def sys(self, name, *args):
        return pt.call(name, *args)

    # -- epoll
    def epoll(self, flags=0):
        return self.sys("epoll_create1", flags)

    def ctl(self, ep, op, fd, events=0, data=0, raw_ptr=None):
        ptr = raw_ptr if raw_ptr is not None else self.put(EVENT.pack(events, data))
        return self.sys("epoll_ctl", ep, op, fd, ptr)

    def wait(self, ep, maxevents=16, timeout=0, name="epoll_wait"):
        """[(events, data), ...] or -errno."""
        buf = self.alloc(12 * max(maxevents, 1))
        n = self.sys(name, ep, buf, maxevents, timeout) if name == "epoll_wait" else \
            self.sys(name, ep, buf, maxevents, timeout, 0, 8)
        if n < 0:
            return n
        raw = self.get(buf, 12 * n)
        return [EVENT.unpack_from(raw, 12 * i) for i in range(n)]

    # -- poll
    def poll(self, entries, timeout=0):
        """entries: [(fd, events)]; (result, [revents])."""
        raw = b"".join(struct.pack("<ihh", fd, ev, 0x5a5a) for fd, ev in entries)
        ptr = self.put(raw or b"\0")
        r = self.sys("poll", ptr, len(entries), timeout)
        back = self.get(ptr, len(raw))
        revents = [struct.unpack_from("<ihh", back, 8 * i) for i in range(len(entries))]
        # fd and events are never written
        assert [(fd, ev) for fd, ev, _ in revents] == [(fd, (ev + 0x8000) % 0x10000 - 0x8000)
                                                       for fd, ev in entries]
        return r, [rv & 0xffff for _, _, rv in revents]

    # -- select
    def fdset(self, fds, nbytes=128):
        if fds is None:
            return 0
        bits = 0
        for fd in fds:
            bits |= 1 << fd
        return self.put(bits.to_bytes(nbytes, "little"))

    def read_fdset(self, ptr, nbytes=128):
        bits = int.from_bytes(self.get(ptr, nbytes), "little")
        return {i for i in range(nbytes * 8) if bits >> i & 1}

    def select(self, n, rd=None, wr=None, ex=None, timeout=(0, 0), name="select"):
        """(result, rd set, wr set, ex set) -- the sets as written back (None if NULL)."""
        ptrs = [self.fdset(s) for s in (rd, wr, ex)]
        if timeout is None:
            tptr = 0
        elif name == "select":
            tptr = self.put(struct.pack("<qq", *timeout))
        else:
            tptr = self.put(struct.pack("<qq", *timeout))
        args = (n, *ptrs, tptr) if name == "select" else (n, *ptrs, tptr, 0)
        r = self.sys(name, *args)
        return (r, *[self.read_fdset(p) if p else None for p in ptrs])

    # -- timerfd
    def timerfd(self, clock=1, flags=O_NONBLOCK):
        return self.sys("timerfd_create", clock, flags)

    def settime(self, fd, value, interval=0, flags=0, want_old=False):
        sec, nsec = divmod(value, 10**9)
        isec, insec = divmod(interval, 10**9)
        new = self.put(struct.pack("<qqqq", isec, insec, sec, nsec))
        old = self.alloc(32) if want_old else 0
        r = self.sys("timerfd_settime", fd, flags, new, old)
        if want_old and r == 0:
            return self.decode_its(self.get(old, 32))
        return r

    @staticmethod
    def decode_its(raw):
        isec, insec, sec, nsec = struct.unpack("<qqqq", raw)
        return (sec * 10**9 + nsec, isec * 10**9 + insec)

    def gettime(self, fd):
        buf = self.alloc(32)
        r = self.sys("timerfd_gettime", fd, buf)
        return self.decode_its(self.get(buf, 32)) if r == 0 else r

    def expirations(self, fd):
        r = self.read(fd, 8)
        return struct.unpack("<Q", r)[0] if isinstance(r, bytes) else r

    def fcntl(self, fd, cmd, arg=0):
        return self.call("fcntl", fd, cmd, arg)
