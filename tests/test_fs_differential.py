"""Differential test: random sequences of file operations run against Tyn's tmpfs through
the sys_* handlers AND against a real Linux tmpfs directory (/dev/shm) through os.*,
comparing every result: success values (bytes read, counts, offsets, stat mode/size/nlink,
directory listings, link targets, F_GETFL) and the exact errno of every failure.

Symlink targets are relative and never shallower than "." (a link to "." followed by ".."
would leave the test directory, where the two sides differ by construction).
Paths are relative to a directory fd on both sides (/tmp on Tyn, a fresh directory on
Linux), drawn from a tiny alphabet so that collisions, non-empty directories, renames over
existing entries, dangling and looping symlinks, trailing slashes, "." and ".." are common.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import stat
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fs_support import Kernel

SHM = "/dev/shm"
pytestmark = pytest.mark.skipif(not os.path.isdir(SHM) or os.geteuid() != 0,
                                reason="needs a tmpfs at /dev/shm and root (Tyn runs as uid 0)")

libc = ctypes.CDLL(None, use_errno=True)
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
libc.faccessat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
libc.linkat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
AT_SYMLINK_FOLLOW = 0x400

NAMES = ["a", "b", "c"]
O = os
FLAG_BITS = [O.O_CREAT, O.O_EXCL, O.O_TRUNC, O.O_APPEND, O.O_DIRECTORY, O.O_NOFOLLOW, O.O_NONBLOCK]


@st.composite
def paths(draw):
    parts, depth = [], 0
    for _ in range(draw(st.integers(1, 3))):
        r = draw(st.integers(0, 9))
        if r == 0:
            parts.append(".")
        elif r == 1 and depth > 0:
            parts.append("..")
            depth -= 1
        else:
            parts.append(draw(st.sampled_from(NAMES)))
            depth += 1
    p = "/".join(parts)
    if draw(st.integers(0, 7)) == 0:
        p += "/"
    return p


flags_st = st.builds(lambda acc, bits: acc | sum(bits),
                     st.sampled_from([O.O_RDONLY, O.O_WRONLY, O.O_RDWR]),
                     st.lists(st.sampled_from(FLAG_BITS), max_size=3, unique=True))
data_st = st.one_of(st.binary(max_size=64), st.builds(lambda n, b: bytes([b]) * n, st.integers(1, 9000), st.integers(0, 255)))
off_st = st.one_of(st.integers(0, 64), st.integers(0, 20000), st.just(-1))
slot_st = st.integers(0, 7)

ops = st.one_of(
    st.tuples(st.just("open"), paths(), flags_st, st.sampled_from([0o644, 0o600, 0o755, 0o777])),
    st.tuples(st.just("close"), slot_st),
    st.tuples(st.just("read"), slot_st, st.integers(0, 10000)),
    st.tuples(st.just("write"), slot_st, data_st),
    st.tuples(st.just("pread"), slot_st, st.integers(0, 200), off_st),
    st.tuples(st.just("pwrite"), slot_st, data_st, off_st),
    st.tuples(st.just("lseek"), slot_st, st.integers(-20, 20000), st.sampled_from([0, 1, 2, 7])),
    st.tuples(st.just("ftruncate"), slot_st, st.integers(-1, 20000)),
    st.tuples(st.just("fstat"), slot_st),
    st.tuples(st.just("dup"), slot_st),
    st.tuples(st.just("getfl"), slot_st),
    st.tuples(st.just("setfl"), slot_st, st.sampled_from([0, O.O_APPEND, O.O_NONBLOCK, O.O_APPEND | O.O_NONBLOCK])),
    st.tuples(st.just("mkdir"), paths(), st.sampled_from([0o755, 0o700, 0o1777])),
    st.tuples(st.just("rmdir"), paths()),
    st.tuples(st.just("unlink"), paths()),
    st.tuples(st.just("rename"), paths(), paths(), st.sampled_from([0, 0, 1])),
    st.tuples(st.just("stat"), paths()),
    st.tuples(st.just("lstat"), paths()),
    st.tuples(st.just("symlink"), st.sampled_from(["a", "b", "c", "a/b", "b/c", "nowhere"]), paths()),
    st.tuples(st.just("readlink"), paths()),
    st.tuples(st.just("truncate"), paths(), st.integers(-1, 9000)),
    st.tuples(st.just("access"), paths(), st.sampled_from([0, 1, 2, 4, 6, 8])),
    st.tuples(st.just("listdir"), paths()),
    st.tuples(st.just("link"), paths(), paths(), st.sampled_from([0, 0, AT_SYMLINK_FOLLOW])),
    st.tuples(st.just("samefile"), paths(), paths()),
)


def st_summary(mode, size, nlink):
    return ("stat", stat.S_IFMT(mode), stat.S_IMODE(mode), size, nlink)


class LinuxSide:
    def __init__(self, root):
        self.root = root
        self.dfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        self.fds = []

    def run(self, op):
        try:
            return ("ok", self._run(op))
        except OSError as e:
            return ("err", e.errno)

    @staticmethod
    def _check(r):
        if r < 0:
            raise OSError(ctypes.get_errno(), "")
        return r

    def fd(self, slot):
        return self.fds[slot] if slot < len(self.fds) else 1000 + slot

    def _run(self, op):
        kind, *a = op
        d = self.dfd
        if kind == "open":
            fd = os.open(a[0], a[1], a[2], dir_fd=d)
            self.fds.append(fd)
            return "fd"
        if kind == "close":
            fd = self.fd(a[0])
            os.close(fd)
            self.fds[a[0]] = 2000 + a[0]     # closed: EBADF from now on
            return 0
        if kind == "read":
            return os.read(self.fd(a[0]), a[1])
        if kind == "write":
            return os.write(self.fd(a[0]), a[1])
        if kind == "pread":
            if a[2] < 0:
                raise OSError(errno.EINVAL, "")
            return os.pread(self.fd(a[0]), a[1], a[2])
        if kind == "pwrite":
            if a[2] < 0:
                raise OSError(errno.EINVAL, "")
            return os.pwrite(self.fd(a[0]), a[1], a[2])
        if kind == "lseek":
            return os.lseek(self.fd(a[0]), a[1], a[2])
        if kind == "ftruncate":
            return os.ftruncate(self.fd(a[0]), a[1])
        if kind == "fstat":
            s = os.fstat(self.fd(a[0]))
            return st_summary(s.st_mode, s.st_size, s.st_nlink)
        if kind == "dup":
            self.fds.append(os.dup(self.fd(a[0])))
            return "fd"
        if kind == "getfl":
            return fcntl.fcntl(self.fd(a[0]), fcntl.F_GETFL)
        if kind == "setfl":
            return fcntl.fcntl(self.fd(a[0]), fcntl.F_SETFL, a[1])
        if kind == "mkdir":
            return os.mkdir(a[0], a[1], dir_fd=d)
        if kind == "rmdir":
            return os.rmdir(a[0], dir_fd=d)
        if kind == "unlink":
            return os.unlink(a[0], dir_fd=d)
        if kind == "rename":
            return self._check(libc.renameat2(d, a[0].encode(), d, a[1].encode(), a[2]))
        if kind in ("stat", "lstat"):
            s = os.stat(a[0], dir_fd=d, follow_symlinks=kind == "stat")
            return st_summary(s.st_mode, s.st_size, s.st_nlink)
        if kind == "symlink":
            return os.symlink(a[0], a[1], dir_fd=d)
        if kind == "readlink":
            return os.readlink(a[0], dir_fd=d).encode()
        if kind == "truncate":
            if a[1] < 0:
                raise OSError(errno.EINVAL, "")
            return os.truncate(os.path.join(self.root, a[0]) if a[0] else "", a[1])
        if kind == "access":
            return self._check(libc.faccessat(d, a[0].encode(), a[1], 0))
        if kind == "link":
            return self._check(libc.linkat(d, a[0].encode(), d, a[1].encode(), a[2]))
        if kind == "samefile":
            s1 = os.stat(a[0], dir_fd=d, follow_symlinks=False)
            s2 = os.stat(a[1], dir_fd=d, follow_symlinks=False)
            return s1.st_ino == s2.st_ino
        if kind == "listdir":
            fd = os.open(a[0], os.O_RDONLY | os.O_DIRECTORY, dir_fd=d)
            try:
                return sorted(os.listdir(fd))
            finally:
                os.close(fd)
        raise AssertionError(kind)

    def close(self):
        for fd in self.fds:
            if fd < 1000:
                os.close(fd)
        os.close(self.dfd)


class TynSide:
    def __init__(self, k: Kernel):
        self.k = k
        self.dfd = k.open("/tmp", os.O_RDONLY | os.O_DIRECTORY)
        assert self.dfd >= 0
        assert k.chdir("/tmp") == 0
        self.fds = []

    def fd(self, slot):
        return self.fds[slot] if slot < len(self.fds) else 1000 + slot

    def run(self, op):
        r = self._run(op)
        if isinstance(r, int) and r < 0:
            return ("err", -r)
        return ("ok", r)

    def _run(self, op):
        k, d = self.k, self.dfd
        k.reset_scratch()
        kind, *a = op
        if kind == "open":
            fd = k.openat(d, a[0], a[1], a[2])
            if fd < 0:
                return fd
            self.fds.append(fd)
            return "fd"
        if kind == "close":
            r = k.close(self.fd(a[0]))
            if r == 0:
                self.fds[a[0]] = 2000 + a[0]
            return r
        if kind == "read":
            return k.read(self.fd(a[0]), a[1])
        if kind == "write":
            return k.write(self.fd(a[0]), a[1])
        if kind == "pread":
            return k.pread(self.fd(a[0]), a[1], a[2])
        if kind == "pwrite":
            return k.pwrite(self.fd(a[0]), a[1], a[2])
        if kind == "lseek":
            return k.lseek(self.fd(a[0]), a[1], a[2])
        if kind == "ftruncate":
            r = k.call("ftruncate", self.fd(a[0]), a[1])
            return None if r == 0 else r
        if kind == "fstat":
            s = k.fstat(self.fd(a[0]))
            return s if isinstance(s, int) else st_summary(s["mode"], s["size"], s["nlink"])
        if kind == "dup":
            fd = k.call("dup", self.fd(a[0]))
            if fd < 0:
                return fd
            self.fds.append(fd)
            return "fd"
        if kind == "getfl":
            return k.call("fcntl", self.fd(a[0]), fcntl.F_GETFL, 0)
        if kind == "setfl":
            return k.call("fcntl", self.fd(a[0]), fcntl.F_SETFL, a[1])
        if kind == "mkdir":
            r = k.call("mkdirat", d, k.cstr(a[0]), a[1])
            return None if r == 0 else r
        if kind in ("rmdir", "unlink"):
            r = k.call("unlinkat", d, k.cstr(a[0]), 0x200 if kind == "rmdir" else 0)
            return None if r == 0 else r
        if kind == "rename":
            return k.call("renameat2", d, k.cstr(a[0]), d, k.cstr(a[1]), a[2])
        if kind in ("stat", "lstat"):
            s = k.fstatat(d, a[0], 0 if kind == "stat" else 0x100)
            return s if isinstance(s, int) else st_summary(s["mode"], s["size"], s["nlink"])
        if kind == "symlink":
            r = k.call("symlinkat", k.cstr(a[0]), d, k.cstr(a[1]))
            return None if r == 0 else r
        if kind == "readlink":
            buf = k.alloc(4096)
            r = k.call("readlinkat", d, k.cstr(a[0]), buf, 4096)
            return k.get(buf, r) if r >= 0 else r
        if kind == "truncate":
            r = k.truncate(a[0], a[1])
            return None if r == 0 else r
        if kind == "access":
            return k.call("faccessat", d, k.cstr(a[0]), a[1])
        if kind == "link":
            return k.call("linkat", d, k.cstr(a[0]), d, k.cstr(a[1]), a[2])
        if kind == "samefile":
            s1 = k.fstatat(d, a[0], 0x100)
            if isinstance(s1, int):
                return s1
            s2 = k.fstatat(d, a[1], 0x100)
            return s2 if isinstance(s2, int) else s1["ino"] == s2["ino"]
        if kind == "listdir":
            names = k.listdir(a[0])
            return names if isinstance(names, int) else sorted(n for n in names if n not in (".", ".."))
        raise AssertionError(kind)


def run_both(sequence):
    old_umask = os.umask(0o022)
    root = tempfile.mkdtemp(dir=SHM, prefix="tyn-fsdiff-")
    os.chmod(root, 0o1777)       # like /tmp
    linux = LinuxSide(root)
    tyn = TynSide(Kernel(ram=16 << 20, console=False))
    try:
        for i, op in enumerate(sequence):
            want = linux.run(op)
            got = tyn.run(op)
            if want[0] == "ok" and want[1] is None:
                want = ("ok", None)
            assert got == want, f"step {i}: {op!r}: Linux {want!r}, Tyn {got!r}"
    finally:
        linux.close()
        shutil.rmtree(root, ignore_errors=True)
        os.umask(old_umask)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(ops, min_size=1, max_size=40))
# Found by Hypothesis: O_DIRECTORY on a (dangling) symlink opened with O_NOFOLLOW is ENOTDIR
# on Linux (do_open checks O_DIRECTORY before may_open's ELOOP); Tyn answered ELOOP.
@example([("symlink", "a", "b"), ("open", "b", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_EXCL, 0o644)])
@example([("symlink", "a", "b"), ("open", "b", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, 0o644)])
@example([("mkdir", "a", 0o755), ("symlink", "a", "b"),
          ("open", "b", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, 0o644)])
def test_tmpfs_matches_linux(sequence):
    run_both(sequence)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.one_of(
    st.tuples(st.just("open"), paths(), st.just(os.O_RDWR | os.O_CREAT), st.just(0o644)),
    st.tuples(st.just("mkdir"), paths(), st.just(0o755)),
    st.tuples(st.just("rename"), paths(), paths(), st.sampled_from([0, 1])),
    st.tuples(st.just("rmdir"), paths()),
    st.tuples(st.just("unlink"), paths()),
    st.tuples(st.just("symlink"), st.sampled_from(["a", "b/c", "c/a/b"]), paths()),
    st.tuples(st.just("listdir"), paths()),
    st.tuples(st.just("stat"), paths()),
    st.tuples(st.just("link"), paths(), paths(), st.sampled_from([0, AT_SYMLINK_FOLLOW])),
    st.tuples(st.just("samefile"), paths(), paths()),
), min_size=1, max_size=60))
def test_namespace_operations_match_linux(sequence):
    """Creation, renames and removals only: deep trees, renames of directories into
    themselves, over non-empty directories, across levels."""
    run_both(sequence)


def test_hard_links_sequence():
    run_both([
        ("open", "a", os.O_RDWR | os.O_CREAT, 0o644), ("write", 0, b"data"), ("link", "a", "b", 0),
        ("stat", "b"), ("samefile", "a", "b"), ("mkdir", "c", 0o755), ("link", "b", "c/a", 0),
        ("fstat", 0), ("unlink", "a"), ("fstat", 0), ("rename", "b", "c/a", 0), ("listdir", "."),
        ("rename", "c/a", "a", 0), ("samefile", "a", "b"), ("unlink", "b"), ("unlink", "a"),
        ("fstat", 0), ("pread", 0, 10, 0), ("link", "c", "d", 0), ("symlink", "c", "s"),
        ("link", "s", "t", 0), ("lstat", "t"), ("link", "s", "u", AT_SYMLINK_FOLLOW),
        ("link", "s/", "v", 0), ("link", "a", "c/", 0), ("listdir", "c"),
    ])


def test_fixed_sequence():
    run_both([
        ("mkdir", "a", 0o755), ("open", "a/b", os.O_RDWR | os.O_CREAT, 0o644),
        ("write", 0, b"x" * 5000), ("pwrite", 0, b"yy", 9000), ("pread", 0, 10, 4995),
        ("rename", "a", "a/c", 0), ("rename", "a/b", "c", 0), ("rmdir", "a"), ("listdir", "."),
        ("fstat", 0), ("unlink", "c"), ("fstat", 0), ("read", 0, 10), ("lseek", 0, 0, 0),
        ("read", 0, 3), ("symlink", "a", "b"), ("open", "b", os.O_RDONLY | os.O_NOFOLLOW, 0),
        ("stat", "b"), ("lstat", "b"), ("readlink", "b"), ("open", "b/", os.O_CREAT, 0o644),
    ])
