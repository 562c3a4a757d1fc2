"""Helpers for the file-layer tests (test_fs_*): a simulated machine with the VFS mounted
over a test archive, and a thin Python face of the sys_* handlers that passes strings and
buffers through a registered "user" window."""

from __future__ import annotations

import io
import os
import struct

from mm_support import fresh_machine
from tyn.build.cpio import Member, NewcWriter
from tyn.twins import heap_twin as heap
from tyn.twins import machine
from tyn.twins import pmm_twin as pmm
from tyn.twins import sysfs_twin as sysfs

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_EMPTY_PATH = 0x1000
USER_SIZE = 1 << 20
STAT = struct.Struct("<QQQIIIiQqqqqQqQqQ24x")
assert STAT.size == 144
STAT_FIELDS = ("dev", "ino", "nlink", "mode", "uid", "gid", "pad", "rdev", "size", "blksize", "blocks",
               "atime", "atime_nsec", "mtime", "mtime_nsec", "ctime", "ctime_nsec")


def D(name, mode=0o755, mtime=0):
    return Member(name, 0o040000 | mode, b"", mtime)


def F(name, data=b"", mode=0o644, mtime=0):
    return Member(name, 0o100000 | mode, data, mtime)


def L(name, target):
    return Member(name, 0o120777, target.encode())


def archive(members) -> bytes:
    out = io.BytesIO()
    w = NewcWriter(out)
    for m in members:
        w.add(m)
    w.finish()
    return out.getvalue()


BIG = bytes((i * 7 + 3) % 251 for i in range(10000))

STANDARD = [
    D("app"), D("app/ebin"), F("app/ebin/x.beam", b"BEAM" * 10),
    F("app/notes.txt", b"hello\n", 0o600),
    D("etc"), F("etc/hosts", b"127.0.0.1 localhost\n"), F("etc/hostname", b"tyn.local\n"),
    F("etc/big", BIG),
    D("otp"), D("otp/bin"), F("otp/bin/beam.smp", b"\x7fELF....", 0o755),
    L("bin", "otp/bin"), L("abs_hosts", "/etc/hosts"), L("loop1", "loop2"), L("loop2", "loop1"),
    L("dangling", "/tmp/created"), L("up", "../etc"), L("etc/self", "."),
    D("tmp", 0o1777),
]


class Kernel:
    """The VFS over an archive on a fresh simulated machine; methods mirror syscalls and
    return the raw result (>= 0 or -errno) unless they decode something."""

    def __init__(self, members=STANDARD, raw=None, ram=32 << 20, console=True):
        fresh_machine(ram)
        assert pmm.init([(0, ram)], [(0x100000, 0x100000)]) == pmm.OK
        heap.init()
        blob = raw if raw is not None else (archive(members) if members is not None else None)
        self.mount_rc = sysfs.mount(blob, console)
        self.base = sysfs.user_window(USER_SIZE)
        self.scratch = self.base

    # -- user memory
    def reset_scratch(self):
        self.scratch = self.base

    def alloc(self, n: int) -> int:
        addr = (self.scratch + 15) & ~15
        if addr + n > self.base + USER_SIZE:
            self.scratch = self.base
            addr = self.base
        self.scratch = addr + n
        return addr

    def put(self, data: bytes) -> int:
        addr = self.alloc(len(data) or 1)
        sysfs.user_write(addr, data)
        return addr

    def cstr(self, s) -> int:
        if isinstance(s, str):
            s = s.encode()
        return self.put(s + b"\0")

    def get(self, addr: int, n: int) -> bytes:
        return sysfs.user_read(addr, n)

    def call(self, name, *args):
        return sysfs.call(name, *args)

    # -- syscalls
    def open(self, path, flags=0, mode=0o666):
        return self.call("open", self.cstr(path), flags, mode)

    def openat(self, dfd, path, flags=0, mode=0o666):
        return self.call("openat", dfd, self.cstr(path), flags, mode)

    def close(self, fd):
        return self.call("close", fd)

    def read(self, fd, n):
        buf = self.alloc(n or 1)
        r = self.call("read", fd, buf, n)
        return self.get(buf, r) if r >= 0 else r

    def pread(self, fd, n, off):
        buf = self.alloc(n or 1)
        r = self.call("pread64", fd, buf, n, off)
        return self.get(buf, r) if r >= 0 else r

    def write(self, fd, data):
        return self.call("write", fd, self.put(data), len(data))

    def pwrite(self, fd, data, off):
        return self.call("pwrite64", fd, self.put(data), len(data), off)

    def iov(self, parts):
        """parts: list of (addr, len); returns the address of the iovec array."""
        return self.put(b"".join(struct.pack("<QQ", a, n) for a, n in parts))

    def lseek(self, fd, off, whence=0):
        return self.call("lseek", fd, off, whence)

    def _stat(self, name, *args):
        buf = self.alloc(144)
        r = self.call(name, *args, buf) if name != "newfstatat" else None
        return buf, r

    @staticmethod
    def decode_stat(raw):
        return dict(zip(STAT_FIELDS, STAT.unpack(raw)))

    def stat(self, path):
        buf = self.alloc(144)
        r = self.call("stat", self.cstr(path), buf)
        return self.decode_stat(self.get(buf, 144)) if r == 0 else r

    def lstat(self, path):
        buf = self.alloc(144)
        r = self.call("lstat", self.cstr(path), buf)
        return self.decode_stat(self.get(buf, 144)) if r == 0 else r

    def fstat(self, fd):
        buf = self.alloc(144)
        r = self.call("fstat", fd, buf)
        return self.decode_stat(self.get(buf, 144)) if r == 0 else r

    def fstatat(self, dfd, path, flags=0):
        buf = self.alloc(144)
        r = self.call("newfstatat", dfd, self.cstr(path), buf, flags)
        return self.decode_stat(self.get(buf, 144)) if r == 0 else r

    def getdents(self, fd, size=4096):
        buf = self.alloc(size)
        r = self.call("getdents64", fd, buf, size)
        if r < 0:
            return r
        raw, out, at = self.get(buf, r), [], 0
        while at < r:
            ino, off, reclen, dtype = struct.unpack_from("<QqHB", raw, at)
            name = raw[at + 19:at + reclen].split(b"\0", 1)[0].decode()
            out.append((ino, off, dtype, name))
            at += reclen
        return out

    def listdir(self, path, size=4096):
        fd = self.open(path, 0o200000)
        if fd < 0:
            return fd
        names = []
        while True:
            ents = self.getdents(fd, size)
            assert not isinstance(ents, int), ents
            if not ents:
                break
            names += [e[3] for e in ents]
        self.close(fd)
        return names

    def readlink(self, path, size=4096):
        buf = self.alloc(max(size, 1))
        r = self.call("readlink", self.cstr(path), buf, size)
        return self.get(buf, r) if r >= 0 else r

    def getcwd(self, size=4096):
        buf = self.alloc(max(size, 1))
        r = self.call("getcwd", buf, size)
        return self.get(buf, r - 1).decode() if r > 0 else r

    def chdir(self, path):
        return self.call("chdir", self.cstr(path))

    def mkdir(self, path, mode=0o777):
        return self.call("mkdir", self.cstr(path), mode)

    def rmdir(self, path):
        return self.call("rmdir", self.cstr(path))

    def unlink(self, path):
        return self.call("unlink", self.cstr(path))

    def rename(self, old, new):
        return self.call("rename", self.cstr(old), self.cstr(new))

    def symlink(self, target, path):
        return self.call("symlink", self.cstr(target), self.cstr(path))

    def access(self, path, mode):
        return self.call("access", self.cstr(path), mode)

    def truncate(self, path, length):
        return self.call("truncate", self.cstr(path), length)

    def cat(self, path):
        fd = self.open(path)
        if fd < 0:
            return fd
        out = b""
        while True:
            chunk = self.read(fd, 65536)
            assert isinstance(chunk, bytes), chunk
            if not chunk:
                break
            out += chunk
        self.close(fd)
        return out

    def console(self) -> bytes:
        return machine.console()
