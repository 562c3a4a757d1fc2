"""eventfd (tyn.fs.eventfd): Linux's 8-byte counter semantics, semaphore mode, every
EINVAL, overflow as EAGAIN, readiness, flags, fstat as an anonymous inode, EFAULT, and a
random walk against a model.  Only calls that Linux would not block."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from ipc_support import *  # noqa: F403
from ipc_support import IpcKernel
from tyn.twins import heap_twin as heap
from tyn.twins import sysfs_twin as sysfs

MAX = (1 << 64) - 1
EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC = 1, O_NONBLOCK, O_CLOEXEC


@pytest.fixture
def k():
    return IpcKernel()


def test_counter(k):
    fd = k.eventfd(0, EFD_NONBLOCK)
    assert fd == 3
    assert k.read_u64(fd) == -EAGAIN
    assert k.write_u64(fd, 3) == 8 and k.write_u64(fd, 4) == 8
    assert k.read_u64(fd) == 7
    assert k.read_u64(fd) == -EAGAIN
    assert k.write_u64(fd, 0) == 8
    assert k.read_u64(fd) == -EAGAIN


def test_syscall_284_takes_no_flags(k):
    fd = k.ipc("eventfd", 5)
    assert fd == 3
    assert k.fcntl(fd, F_GETFL) == O_RDWR and k.fcntl(fd, F_GETFD) == 0
    assert k.read_u64(fd) == 5


def test_initval_is_an_unsigned_int(k):
    fd = k.eventfd((1 << 32) + 9, EFD_NONBLOCK)
    assert k.read_u64(fd) == 9


def test_semaphore(k):
    fd = k.eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK)
    assert k.read_u64(fd) == 1 and k.read_u64(fd) == 1
    assert k.read_u64(fd) == -EAGAIN
    k.write_u64(fd, 5)
    assert [k.read_u64(fd) for _ in range(6)] == [1] * 5 + [-EAGAIN]


@pytest.mark.parametrize("n", range(8))
def test_short_buffers(k, n):
    fd = k.eventfd(1, EFD_NONBLOCK)
    assert k.read(fd, n) == -EINVAL
    assert k.write(fd, bytes(n)) == -EINVAL
    assert k.read_u64(fd) == 1               # nothing consumed


def test_long_buffers_use_8_bytes(k):
    fd = k.eventfd(0, EFD_NONBLOCK)
    assert k.write(fd, struct.pack("<Q", 6) + b"junk") == 8
    r = k.read(fd, 16)
    assert r[:8] == struct.pack("<Q", 6)


def test_max_and_overflow(k):
    fd = k.eventfd(0, EFD_NONBLOCK)
    assert k.write_u64(fd, MAX) == -EINVAL
    assert k.write_u64(fd, MAX - 1) == 8       # the largest value the counter can hold
    assert k.poll(fd) == POLLIN | POLLRDNORM    # not writable at MAX - 1
    assert k.write_u64(fd, 1) == -EAGAIN
    assert k.write_u64(fd, 0) == 8
    assert k.read_u64(fd) == MAX - 1
    assert k.poll(fd) == POLLOUT | POLLWRNORM
    k.write_u64(fd, 10)
    assert k.write_u64(fd, MAX - 11) == 8
    assert k.write_u64(fd, MAX - 10) == -EAGAIN


@pytest.mark.parametrize("bad", [2, 4, 0o10, O_RDWR, 0x12345678, EFD_SEMAPHORE | 0o100, -1])
def test_bad_flags(k, bad):
    before = sysfs.open_fd_count()
    assert k.eventfd(0, bad) == -EINVAL
    assert sysfs.open_fd_count() == before


def test_flags(k):
    fd = k.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
    assert k.fcntl(fd, F_GETFD) == 1
    assert k.fcntl(fd, F_GETFL) == O_RDWR | O_NONBLOCK
    assert k.fcntl(fd, F_SETFL, 0) == 0
    assert k.fcntl(fd, F_GETFL) == O_RDWR
    assert k.fcntl(fd, F_SETFL, O_NONBLOCK) == 0
    assert k.read_u64(fd) == -EAGAIN
    assert k.eventfd(0, 1 << 32) == fd + 1       # flags is an int


def test_poll(k):
    fd = k.eventfd(0, EFD_NONBLOCK)
    assert k.poll(fd) == POLLOUT | POLLWRNORM
    k.write_u64(fd, 1)
    assert k.poll(fd) == POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM


def test_fstat_lseek_ioctl(k):
    a, b = k.eventfd(), k.eventfd()
    s = k.fstat(a)
    assert s["mode"] == 0o600 and s["mode"] & S_IFMT == 0 and s["nlink"] == 1
    assert k.fstat(b)["ino"] == s["ino"]          # one shared anonymous inode
    assert k.lseek(a, 100, 0) == 0                # noop_llseek
    assert k.pread(a, 8, 0) == -ESPIPE
    assert k.call("ioctl", a, FIONREAD, k.alloc(4)) == -ENOTTY


def test_efault(k):
    fd = k.eventfd(4, EFD_NONBLOCK)
    assert k.call("write", fd, BAD, 8) == -EFAULT
    assert k.call("read", fd, BAD, 8) == -EFAULT
    assert k.read_u64(fd) == -EAGAIN             # as Linux: the value was consumed before the copy


def test_emfile_and_close(k):
    mem = (heap.stats()["used_blocks"], heap.stats()["large_allocations"])
    assert sysfs.set_nofile(3, 3) == 0
    assert k.eventfd() == -EMFILE
    assert sysfs.set_nofile(1024, 4096) == 0
    fd = k.eventfd(1)
    assert k.close(fd) == 0
    assert (heap.stats()["used_blocks"], heap.stats()["large_allocations"]) == mem


ops = st.lists(st.one_of(
    st.tuples(st.just("w"), st.one_of(st.integers(0, 100), st.integers(0, MAX))),
    st.tuples(st.just("r"), st.just(0)),
), max_size=40)


@settings(max_examples=80, deadline=None)
@given(ops, st.booleans(), st.integers(0, (1 << 32) - 1))
def test_random_against_model(seq, sem, init):
    k = IpcKernel(ram=8 << 20)
    fd = k.eventfd(init, EFD_NONBLOCK | (EFD_SEMAPHORE if sem else 0))
    count = init
    for op, v in seq:
        k.reset_scratch()
        if op == "w":
            r = k.write_u64(fd, v)
            if v == MAX:
                assert r == -EINVAL
            elif MAX - count > v:
                assert r == 8
                count += v
            else:
                assert r == -EAGAIN
        else:
            r = k.read_u64(fd)
            if count == 0:
                assert r == -EAGAIN
            else:
                got = 1 if sem else count
                assert r == got
                count -= got
        mask = (POLLIN | POLLRDNORM if count else 0) | (POLLOUT | POLLWRNORM if MAX - 1 > count else 0)
        assert k.poll(fd) == mask
