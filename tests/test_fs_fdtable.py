"""fs/fdtable through the syscalls: lowest free fd, close, dup/dup2/dup3, fcntl, EBADF,
EMFILE at RLIMIT_NOFILE (and a settable limit), and a random sequence against a model."""

from __future__ import annotations

import errno as E
import random

import pytest

from fs_support import Kernel
from tyn.twins import sysfs_twin as sysfs

O_RDONLY, O_RDWR, O_CREAT, O_APPEND, O_NONBLOCK, O_CLOEXEC = 0, 2, 0o100, 0o2000, 0o4000, 0o2000000
O_LARGEFILE = 0o100000
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC = 0, 1, 2, 3, 4, 1030


@pytest.fixture
def k():
    return Kernel()


def test_lowest_free_and_close(k):
    assert [k.open("/etc/hosts") for _ in range(3)] == [3, 4, 5]
    assert k.close(4) == 0
    assert k.open("/etc/hosts") == 4
    assert k.close(4) == 0 and k.close(4) == -E.EBADF
    assert k.close(-1) == -E.EBADF and k.close(0x80000005) == -E.EBADF
    assert k.close((1 << 32) + 5) == 0              # fd is an unsigned int: this is fd 5
    assert k.close(0) == 0 and k.open("/etc/hosts") == 0


def test_dup_family(k):
    fd = k.open("/etc/hosts")
    d = k.call("dup", fd)
    assert d == 4
    assert k.read(fd, 4) == b"127." and k.read(d, 4) == b"0.0."          # shared offset
    assert k.call("dup", 77) == -E.EBADF
    assert k.call("dup2", fd, fd) == fd
    assert k.call("dup2", 77, 77) == -E.EBADF
    assert k.call("dup2", fd, 10) == 10 and k.read(10, 2) == b"1 "
    assert k.call("dup2", fd, 1024) == -E.EBADF
    assert k.call("dup2", 77, 11) == -E.EBADF
    f2 = k.open("/etc/hostname")
    assert k.call("dup2", f2, 10) == 10 and k.read(10, 3) == b"tyn"     # replaced (old one closed)
    assert k.call("dup3", fd, fd, 0) == -E.EINVAL
    assert k.call("dup3", fd, 12, 1) == -E.EINVAL
    assert k.call("dup3", fd, 12, O_CLOEXEC) == 12 and k.call("fcntl", 12, F_GETFD, 0) == 1
    assert k.call("dup2", fd, 12) == 12 and k.call("fcntl", 12, F_GETFD, 0) == 0


def test_fcntl(k):
    fd = k.open("/tmp/f", O_CREAT | O_RDWR | O_CLOEXEC)
    assert k.call("fcntl", fd, F_GETFD, 0) == 1
    assert k.call("fcntl", fd, F_SETFD, 0) == 0 and k.call("fcntl", fd, F_GETFD, 0) == 0
    assert k.call("fcntl", fd, F_GETFL, 0) == O_RDWR | O_LARGEFILE
    assert k.call("fcntl", fd, F_SETFL, O_APPEND | O_NONBLOCK | 0o1) == 0
    assert k.call("fcntl", fd, F_GETFL, 0) == O_RDWR | O_LARGEFILE | O_APPEND | O_NONBLOCK
    assert k.call("fcntl", fd, F_DUPFD, 10) == 10
    assert k.call("fcntl", fd, F_DUPFD, 10) == 11
    assert k.call("fcntl", fd, F_DUPFD_CLOEXEC, 0) == 4 and k.call("fcntl", 4, F_GETFD, 0) == 1
    assert k.call("fcntl", fd, F_DUPFD, 1024) == -E.EINVAL
    assert k.call("fcntl", fd, 9999, 0) == -E.EINVAL
    assert k.call("fcntl", 99, F_GETFD, 0) == -E.EBADF


def test_emfile_at_default_limit(k):
    assert sysfs.get_nofile() == (1024, 4096)
    fds = [k.open("/etc/hosts") for _ in range(1021)]
    assert fds[-1] == 1023
    assert k.open("/etc/hosts") == -E.EMFILE
    assert k.call("dup", 3) == -E.EMFILE
    assert k.call("fcntl", 3, F_DUPFD, 0) == -E.EMFILE
    assert k.open("/tmp/new", O_CREAT | O_RDWR) == -E.EMFILE
    assert k.stat("/tmp/new") == -E.ENOENT                 # not created when no fd is free
    assert k.close(500) == 0 and k.open("/etc/hosts") == 500


def test_settable_limit(k):
    assert sysfs.set_nofile(8, 16) == 0
    assert [k.open("/etc/hosts") for _ in range(6)] == [3, 4, 5, 6, 7, -E.EMFILE]
    assert k.call("dup2", 3, 8) == -E.EBADF
    assert sysfs.set_nofile(20, 10) == -E.EINVAL
    assert sysfs.set_nofile(10, 1 << 21) == -E.EPERM
    assert sysfs.set_nofile(100000, 100000) == 0
    assert k.call("dup2", 3, 99999) == 99999
    assert sysfs.open_fd_count() == 9


@pytest.mark.parametrize("seed", range(5))
def test_random_against_model(k, seed):
    rng = random.Random(seed)
    sysfs.set_nofile(40, 40)
    model = {0: "c", 1: "c", 2: "c"}                 # fd -> file identity
    files = {}
    for step in range(800):
        op = rng.random()
        lowest = next((i for i in range(40) if i not in model), None)
        if op < 0.3:
            r = k.open("/etc/hosts")
            if lowest is None:
                assert r == -E.EMFILE
            else:
                assert r == lowest
                model[r] = ("f", step)
        elif op < 0.5:
            fd = rng.randrange(45)
            assert k.close(fd) == (0 if fd in model else -E.EBADF)
            model.pop(fd, None)
        elif op < 0.7:
            fd = rng.randrange(45)
            r = k.call("dup", fd)
            if fd not in model:
                assert r == -E.EBADF
            elif lowest is None:
                assert r == -E.EMFILE
            else:
                assert r == lowest
                model[r] = model[fd]
        else:
            old, new = rng.randrange(45), rng.randrange(45)
            r = k.call("dup2", old, new)
            if old == new:
                assert r == (new if old in model else -E.EBADF)
            elif new >= 40 or old not in model:
                assert r == -E.EBADF
            else:
                assert r == new
                model[new] = model[old]
        assert sysfs.open_fd_count() == len(model)
