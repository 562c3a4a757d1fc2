"""Pipes (tyn.fs.pipe) through sys_pipe/sys_pipe2 and the generic file syscalls: Linux's
semantics for readiness, EOF, EPIPE, PIPE_BUF atomicity, partial transfers, flags, fstat,
EFAULT without leaked descriptors, and a random walk against a model of the ring.
Blocking needs the scheduler: every call here is one that Linux would not block."""

from __future__ import annotations

import struct
from collections import deque

import pytest
from hypothesis import given, settings, strategies as st

from ipc_support import *  # noqa: F403
from ipc_support import IpcKernel
from tyn.twins import heap_twin as heap
from tyn.twins import ipc_twin as ipc
from tyn.twins import sysfs_twin as sysfs

CAP, PIPE_BUF = 65536, 4096


@pytest.fixture
def k():
    return IpcKernel()


def heap_in_use():
    s = heap.stats()
    return s["used_blocks"], s["large_allocations"]


def test_pipe_fds_flags_and_data(k):
    rd, wr = k.pipe2()
    assert (rd, wr) == (3, 4)
    assert k.fcntl(rd, F_GETFL) == O_RDONLY and k.fcntl(wr, F_GETFL) == O_WRONLY
    assert k.fcntl(rd, F_GETFD) == 0
    assert k.write(wr, b"abcdef") == 6
    assert k.read(rd, 4) == b"abcd"
    assert k.read(rd, 100) == b"ef"
    assert k.write(rd, b"x") == -EBADF
    assert k.read(wr, 1) == -EBADF
    assert k.read(rd, 0) == b"" and k.write(wr, b"") == 0


def test_pipe_syscall_22_is_pipe2_without_flags(k):
    arr = k.alloc(8)
    assert k.ipc("pipe", arr) == 0
    assert struct.unpack("<ii", k.get(arr, 8)) == (3, 4)


def test_pipe2_flags(k):
    rd, wr = k.pipe2(O_CLOEXEC | O_NONBLOCK)
    assert k.fcntl(rd, F_GETFD) == 1 and k.fcntl(wr, F_GETFD) == 1
    assert k.fcntl(rd, F_GETFL) == O_RDONLY | O_NONBLOCK
    assert k.fcntl(wr, F_GETFL) == O_WRONLY | O_NONBLOCK
    assert k.read(rd, 1) == -EAGAIN
    # flags is an int: the upper half of the register is ignored
    assert k.pipe2(1 << 32) == (5, 6)


@pytest.mark.parametrize("bad", [1, O_RDWR, 0o200, 0o40000, 0o2000, 0x12345678, O_CLOEXEC | 0o10, -1])
def test_pipe2_bad_flags(k, bad):
    before = sysfs.open_fd_count()
    assert k.pipe2(bad) == -EINVAL
    assert sysfs.open_fd_count() == before


@pytest.mark.parametrize("where", ["null", "bad", "half"])
def test_pipe_efault_leaks_nothing(k, where):
    before, mem = sysfs.open_fd_count(), heap_in_use()
    addr = {"null": 0, "bad": BAD, "half": k.base + (1 << 20) - 4}[where]
    assert k.ipc("pipe2", addr, 0) == -EFAULT
    assert sysfs.open_fd_count() == before
    assert heap_in_use() == mem
    assert k.pipe2() == (3, 4)          # the descriptors were not consumed


def test_pipe_emfile(k):
    assert sysfs.set_nofile(4, 4) == 0         # 0-2 are the console: one slot left
    before, mem = sysfs.open_fd_count(), heap_in_use()
    assert k.pipe2() == -EMFILE
    assert sysfs.open_fd_count() == before and heap_in_use() == mem
    assert sysfs.set_nofile(5, 5) == 0
    assert k.pipe2() == (3, 4)


def test_nonblocking_read_eof_and_hangup(k):
    rd, wr = k.pipe2()
    assert k.fcntl(rd, F_SETFL, O_NONBLOCK) == 0
    assert k.read(rd, 1) == -EAGAIN
    assert k.poll(rd) == 0
    assert k.poll(wr) == POLLOUT | POLLWRNORM
    k.write(wr, b"xy")
    assert k.poll(rd) == POLLIN | POLLRDNORM
    assert k.close(wr) == 0
    assert k.poll(rd) == POLLIN | POLLRDNORM | POLLHUP
    assert k.read(rd, 10) == b"xy"
    assert k.poll(rd) == POLLHUP                 # Linux: POLLHUP alone once drained
    assert k.read(rd, 10) == b""                 # EOF, O_NONBLOCK or not
    assert k.fcntl(rd, F_SETFL, 0) == 0
    assert k.read(rd, 10) == b""


def test_eof_waits_for_every_writer_reference(k):
    rd, wr = k.pipe2(O_NONBLOCK)
    dup = k.call("dup", wr)
    k.close(wr)
    assert k.read(rd, 1) == -EAGAIN              # the dup still writes
    assert k.write(dup, b"z") == 1
    k.close(dup)
    assert k.read(rd, 5) == b"z" and k.read(rd, 5) == b""


def test_epipe_and_pollerr(k):
    rd, wr = k.pipe2()
    k.write(wr, b"data")
    k.close(rd)
    assert k.poll(wr) == POLLOUT | POLLWRNORM | POLLERR
    assert k.write(wr, b"x") == -EPIPE
    assert k.write(wr, b"x" * 10000) == -EPIPE
    assert k.write(wr, b"") == 0                 # a null write succeeds first


def test_fill_nonblocking_and_atomicity(k):
    rd, wr = k.pipe2(O_NONBLOCK)
    total = 0
    while (r := k.write(wr, b"x" * 256)) > 0:
        total += r
    assert r == -EAGAIN and total == CAP
    assert k.poll(wr) == 0
    assert k.read(rd, 100) == b"x" * 100
    # 100 bytes free: a write of <= PIPE_BUF bytes goes whole or not at all ...
    assert k.write(wr, b"y" * 101) == -EAGAIN
    assert k.write(wr, b"y" * PIPE_BUF) == -EAGAIN
    assert k.poll(wr) == 0                       # writable means room for PIPE_BUF bytes
    # ... a larger one is split
    assert k.write(wr, b"z" * (PIPE_BUF + 1)) == 100
    assert ipc.pipe_fill(wr) == (CAP, 0)
    assert k.read(rd, PIPE_BUF) == b"x" * PIPE_BUF
    assert k.poll(wr) == POLLOUT | POLLWRNORM
    assert k.write(wr, b"w" * PIPE_BUF) == PIPE_BUF
    data = b""
    while (chunk := k.read(rd, 5000)) != -EAGAIN:
        data += chunk
    assert data == b"x" * (CAP - 100 - PIPE_BUF) + b"z" * 100 + b"w" * PIPE_BUF


def test_large_write_into_empty_pipe_is_partial_when_nonblocking(k):
    rd, wr = k.pipe2(O_NONBLOCK)
    blob = bytes(range(256)) * 300                # 76800 bytes > capacity
    assert k.write(wr, blob) == CAP
    out = k.read(rd, 100000)
    assert out == blob[:CAP]


def test_fstat_lseek_ioctl(k):
    rd, wr = k.pipe2()
    a, b = k.fstat(rd), k.fstat(wr)
    assert a["mode"] == S_IFIFO | 0o600 and a["nlink"] == 1 and a["size"] == 0
    assert a["ino"] == b["ino"] and a["dev"] == b["dev"]
    rd2, _ = k.pipe2()
    assert k.fstat(rd2)["ino"] != a["ino"]
    assert k.lseek(rd, 0) == -ESPIPE and k.lseek(wr, 0, 1) == -ESPIPE
    assert k.pread(rd, 1, 0) == -ESPIPE and k.pwrite(wr, b"x", 0) == -ESPIPE
    k.write(wr, b"12345")
    assert k.fionread(rd) == 5 and k.fionread(wr) == 5
    assert k.call("ioctl", rd, FIONREAD, BAD) == -EFAULT
    assert k.call("ioctl", rd, 0x5413, k.alloc(8)) == -ENOTTY   # TIOCGWINSZ: not a tty


def test_efault_keeps_the_data(k):
    rd, wr = k.pipe2(O_NONBLOCK)
    assert k.call("write", wr, BAD, 1) == -EFAULT
    assert ipc.pipe_fill(wr) == (0, CAP)
    k.write(wr, b"hello")
    assert k.call("read", rd, BAD, 5) == -EFAULT
    assert k.read(rd, 5) == b"hello"


def test_partial_fault_keeps_whole_segments(k):
    # A write whose source runs off the end of user memory: the 4 KiB ring segments
    # before the fault go in, the faulting one does not (Linux: whole pipe pages).
    rd, wr = k.pipe2(O_NONBLOCK)
    end = k.base + (1 << 20)
    start = end - 5000
    sysfs.user_write(start, bytes(i % 251 for i in range(5000)))
    assert k.call("write", wr, start, 9000) == 4096
    assert k.read(rd, 10000) == bytes(i % 251 for i in range(4096))
    # and a read into memory that ends early returns the bytes before the fault
    k.write(wr, b"q" * 9000)
    assert k.call("read", rd, end - 5000, 9000) == 4096
    assert ipc.pipe_fill(rd)[0] == 9000 - 4096
    assert k.get(end - 5000, 4096) == b"q" * 4096


def test_readv_writev_on_pipes(k):
    rd, wr = k.pipe2()
    a, b = k.put(b"abc"), k.put(b"defg")
    assert k.call("writev", wr, k.iov([(a, 3), (b, 4)]), 2) == 7
    x, y = k.alloc(2), k.alloc(10)
    assert k.call("readv", rd, k.iov([(x, 2), (y, 10)]), 2) == 7
    assert k.get(x, 2) == b"ab" and k.get(y, 5) == b"cdefg"


def test_close_frees_the_pipe(k):
    mem = heap_in_use()
    for _ in range(3):
        rd, wr = k.pipe2()
        k.write(wr, b"x" * 1000)
        k.close(wr)
        k.close(rd)
    assert heap_in_use() == mem
    assert heap.check() == 0


# ------------------------------------------------------------------ model

ops = st.lists(st.one_of(
    st.tuples(st.just("w"), st.integers(0, 9000)),
    st.tuples(st.just("r"), st.integers(0, 9000)),
), max_size=60)


@settings(max_examples=60, deadline=None)
@given(ops)
def test_random_against_model(seq):
    k = IpcKernel(ram=16 << 20)
    rd, wr = k.pipe2(O_NONBLOCK)
    model: deque[int] = deque()
    counter = 0
    for op, n in seq:
        k.reset_scratch()
        if op == "w":
            data = bytes((counter + i) % 256 for i in range(n))
            room = CAP - len(model)
            if n == 0:
                expect = 0
            elif n <= PIPE_BUF:
                expect = n if room >= n else -EAGAIN
            else:
                expect = min(n, room) if room else -EAGAIN
            r = k.write(wr, data)
            assert r == expect, (op, n, len(model))
            if r > 0:
                model.extend(data[:r])
                counter += r
        else:
            r = k.read(rd, n)
            if n == 0:
                assert r == b""
            elif not model:
                assert r == -EAGAIN
            else:
                take = min(n, len(model))
                assert r == bytes(model.popleft() for _ in range(take))
        used, room = ipc.pipe_fill(rd)
        assert used == len(model) and used + room == CAP
        assert k.poll(rd) == ((POLLIN | POLLRDNORM) if model else 0)
        assert k.poll(wr) == ((POLLOUT | POLLWRNORM) if CAP - len(model) >= PIPE_BUF else 0)
