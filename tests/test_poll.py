"""poll/ppoll/select/pselect6 on the host: struct pollfd (only revents written back),
POLLNVAL and negative fds, the ERR/HUP filter, fd_set handling (bits beyond nfds, NULL
sets, EBADF, results written back), timeouts (zero never blocks; a ready fd returns at
once whatever the timeout), remaining time written back, error order and EFAULT.
Blocking is exercised in QEMU (tests/guest/io.c, polling.c)."""

import struct

import pytest

from polling_support import *  # noqa: F401,F403
from polling_support import PollKernel, pt


@pytest.fixture
def k():
    kern = PollKernel()
    assert kern.mount_rc == 0
    return kern


def test_poll_basic(k):
    a, b = pt.fake_file(POLLIN), pt.fake_file(POLLOUT | POLLERR)
    r, rev = k.poll([(a, POLLIN | POLLOUT), (b, POLLIN), (99, POLLIN), (-1, POLLIN), (-5, 0)])
    assert r == 3
    assert rev == [POLLIN, POLLERR, POLLNVAL, 0, 0]


def test_poll_filter(k):
    a = pt.fake_file(POLLIN | POLLOUT | POLLPRI | POLLHUP)
    assert k.poll([(a, 0)]) == (1, [POLLHUP])                 # ERR/HUP always
    assert k.poll([(a, POLLPRI)]) == (1, [POLLPRI | POLLHUP])
    pt.fake_set(a, POLLOUT)
    assert k.poll([(a, POLLIN)]) == (0, [0])
    assert k.poll([(a, -1)]) == (1, [POLLOUT])                # events is a short: all bits
    assert k.poll([(a, POLLOUT), (a, POLLOUT)]) == (2, [POLLOUT, POLLOUT])


def test_poll_every_fd_kind(k):
    null = k.open("/dev/null", 2)
    reg = k.open("/etc/hosts")
    d = k.open("/etc")
    ep = k.epoll()
    t = k.timerfd()
    r, rev = k.poll([(0, POLLIN | POLLOUT), (1, POLLOUT), (null, POLLIN | POLLOUT), (reg, POLLIN | POLLOUT),
                     (d, POLLIN), (ep, POLLIN | POLLOUT), (t, POLLIN | POLLOUT)])
    # console: writable, no input; files without poll: IN|OUT (Linux's DEFAULT_POLLMASK);
    # an idle epoll or timerfd: nothing
    assert rev == [POLLOUT, POLLOUT, POLLIN | POLLOUT, POLLIN | POLLOUT, POLLIN, 0, 0]
    assert r == 5


def test_poll_console_input(k):
    from tyn.twins import machine
    machine.feed_uart(b"x")
    assert k.poll([(0, POLLIN)]) == (0, [0])              # canonical mode: not a line yet
    machine.feed_uart(b"\n")
    assert k.poll([(0, POLLIN)]) == (1, [POLLIN])
    assert k.read(0, 2) == b"x\n"
    assert k.poll([(0, POLLIN)]) == (0, [0])


def test_poll_path_fd_is_nval(k):
    fd = k.open("/etc", O_PATH)
    assert k.poll([(fd, POLLIN)]) == (1, [POLLNVAL])


def test_poll_errors(k):
    a = pt.fake_file(POLLIN)
    ok = k.put(struct.pack("<ihh", a, POLLIN, 0))
    assert k.sys("poll", 8, 1, 0) == -EFAULT
    assert k.sys("poll", 0, 0, 0) == 0                        # nothing to poll
    assert k.sys("poll", ok, 1025, 0) == -EINVAL              # > RLIMIT_NOFILE (1024)
    assert k.sys("poll", ok, 1 << 32 | 1, 0) == 1             # unsigned int nfds
    end = k.base + (1 << 20)
    assert k.sys("poll", end - 4, 1, 0) == -EFAULT            # straddles the end
    assert k.sys("poll", ok, 1, -1) == 1                      # infinite, but ready
    assert k.sys("poll", ok, 1, 1000) == 1


def test_poll_nfds_limit_follows_rlimit(k):
    from tyn.twins import sysfs_twin as sysfs
    ok = k.put(struct.pack("<ihh", -1, 0, 0) * 2000)
    assert k.sys("poll", ok, 1025, 0) == -EINVAL
    assert sysfs.set_nofile(2000, 4096) == 0
    assert k.sys("poll", ok, 2000, 0) == 0
    assert k.sys("poll", ok, 2001, 0) == -EINVAL


def test_ppoll(k):
    a = pt.fake_file(POLLOUT)
    fds = k.put(struct.pack("<ihh", a, POLLOUT, 0))
    zero = k.put(struct.pack("<qq", 0, 0))
    mask = k.put(b"\0" * 8)
    assert k.sys("ppoll", fds, 1, zero, 0, 0) == 1
    assert k.sys("ppoll", fds, 1, 0, 0, 0) == 1               # NULL timeout: infinite, ready
    assert k.sys("ppoll", fds, 1, zero, mask, 8) == 1
    assert k.sys("ppoll", fds, 1, zero, mask, 4) == -EINVAL
    assert k.sys("ppoll", fds, 1, zero, 8, 8) == -EFAULT
    assert k.sys("ppoll", fds, 1, 8, mask, 8) == -EFAULT
    for bad in ((0, 10**9), (-1, 0), (0, -1)):
        assert k.sys("ppoll", fds, 1, k.put(struct.pack("<qq", *bad)), 0, 0) == -EINVAL
    # timespec errors come before the mask check, which comes before poll's own checks
    assert k.sys("ppoll", 8, 1, k.put(struct.pack("<qq", -1, 0)), mask, 4) == -EINVAL
    assert k.sys("ppoll", 8, 1, zero, mask, 4) == -EINVAL
    assert k.sys("ppoll", 8, 1, zero, 0, 0) == -EFAULT
    pt.fake_set(a, 0)
    assert k.sys("ppoll", fds, 1, zero, 0, 0) == 0
    assert k.get(zero, 16) == struct.pack("<qq", 0, 0)


def test_select_basic(k):
    a, b, c = pt.fake_file(POLLIN), pt.fake_file(POLLOUT), pt.fake_file(POLLPRI | POLLIN)
    r, rd, wr, ex = k.select(c + 1, {a, b, c}, {a, b, c}, {a, b, c})
    assert (r, rd, wr, ex) == (4, {a, c}, {b}, {c})      # one count per set bit
    r, rd, wr, ex = k.select(c + 1, {a}, None, None)
    assert (r, rd, wr, ex) == (1, {a}, None, None)


def test_select_hup_err_sets(k):
    a = pt.fake_file(POLLHUP)
    b = pt.fake_file(POLLERR)
    r, rd, wr, ex = k.select(b + 1, {a, b}, {a, b}, {a, b})
    # HUP counts as readable; ERR as readable and writable
    assert (rd, wr, ex) == ({a, b}, {b}, set()) and r == 3


def test_select_ignores_bits_beyond_nfds(k):
    a = pt.fake_file(POLLIN)
    r, rd, _, _ = k.select(a, {a, 70, 200}, None, None)       # a itself is beyond nfds
    assert r == 0
    assert rd == {70, 200}  # the words covering nfds are rewritten (a cleared); later ones kept
    r, rd, _, _ = k.select(a + 1, {a, 100}, None, None)
    assert r == 1 and rd == {a, 100}                          # word 1 is beyond nfds: untouched


def test_select_ebadf(k):
    a = pt.fake_file(POLLIN)
    assert k.select(51, {a, 50})[0] == -EBADF
    assert k.select(51, None, {50})[0] == -EBADF
    assert k.select(51, None, None, {50})[0] == -EBADF
    fd = k.open("/etc", O_PATH)
    assert k.select(fd + 1, {fd})[0] == -EBADF
    # EBADF leaves the sets as they were
    r, rd, _, _ = k.select(51, {a, 50})
    assert rd == {a, 50}


def test_select_nfds_rules(k):
    assert k.select(-1)[0] == -EINVAL
    assert k.select(0)[0] == 0
    a = pt.fake_file(POLLIN)
    # nfds larger than the fd table is clamped (Linux: to max_fds)
    r, rd, _, _ = k.select(100000, {a})
    assert (r, rd) == (1, {a})
    assert k.select(1 << 32 | (a + 1), {a})[0] == 1           # int nfds


def test_select_timeval_checks(k):
    a = pt.fake_file(POLLIN)
    assert k.select(a + 1, {a}, timeout=(0, 1500000))[0] == 1  # usec >= 1e6 normalised
    assert k.select(a + 1, {a}, timeout=(-1, 0))[0] == -EINVAL
    assert k.select(a + 1, {a}, timeout=(0, -1))[0] == -EINVAL
    assert k.select(a + 1, {a}, timeout=(2, -1000000))[0] == 1  # = 1 s: valid
    rd = k.fdset({a})
    assert k.sys("select", a + 1, rd, 0, 0, 8) == -EFAULT
    assert k.sys("select", a + 1, 8, 0, 0, 0) == -EFAULT
    assert k.sys("select", a + 1, 0, 8, 0, 0) == -EFAULT
    assert k.sys("select", a + 1, 0, 0, 8, 0) == -EFAULT


def test_select_writes_remaining_time(k):
    a = pt.fake_file(POLLIN)
    tv = k.put(struct.pack("<qq", 5, 0))
    assert k.sys("select", a + 1, k.fdset({a}), 0, 0, tv) == 1
    sec, usec = struct.unpack("<qq", k.get(tv, 16))
    assert 0 <= sec <= 5 and 0 <= usec < 10**6                 # remaining (host clock is frozen)
    ts = k.put(struct.pack("<qq", 0, 0))
    assert k.sys("pselect6", a + 1, k.fdset({a}), 0, 0, ts, 0) == 1
    assert k.get(ts, 16) == struct.pack("<qq", 0, 0)


def test_pselect6(k):
    a = pt.fake_file(POLLOUT)
    zero = k.put(struct.pack("<qq", 0, 0))
    mask = k.put(b"\0" * 8)
    good = k.put(struct.pack("<QQ", mask, 8))
    badsize = k.put(struct.pack("<QQ", mask, 16))
    nullmask = k.put(struct.pack("<QQ", 0, 16))
    badmask = k.put(struct.pack("<QQ", 8, 8))
    wr = k.fdset({a})
    assert k.sys("pselect6", a + 1, 0, wr, 0, zero, good) == 1
    assert k.read_fdset(wr) == {a}
    assert k.sys("pselect6", a + 1, 0, wr, 0, zero, badsize) == -EINVAL
    assert k.sys("pselect6", a + 1, 0, wr, 0, zero, nullmask) == 1
    assert k.sys("pselect6", a + 1, 0, wr, 0, zero, badmask) == -EFAULT
    assert k.sys("pselect6", a + 1, 0, wr, 0, zero, 8) == -EFAULT
    assert k.sys("pselect6", a + 1, 0, wr, 0, k.put(struct.pack("<qq", 0, 10**9)), good) == -EINVAL
    assert k.sys("pselect6", -1, 0, wr, 0, zero, good) == -EINVAL
    r, rd, wr2, ex = k.select(a + 1, None, {a}, None, timeout=(0, 0), name="pselect6")
    assert (r, wr2) == (1, {a})


def test_select_timerfd_and_epoll(k):
    pt.set_time(1000)
    try:
        t = k.timerfd()
        ep = k.epoll()
        assert k.ctl(ep, ADD, t, EPOLLIN, 1) == 0
        assert k.settime(t, 500) == 0
        assert k.select(ep + 1, {t, ep})[0] == 0
        pt.set_time(1500)
        r, rd, _, _ = k.select(ep + 1, {t, ep})
        assert (r, rd) == (2, {t, ep})
    finally:
        pt.real_time()
