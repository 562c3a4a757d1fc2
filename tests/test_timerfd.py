"""timerfd and kernel timers on the host, with a fake clock (polling_twin.set_time; the
kernel timers are run by the test as the tick would): create/settime/gettime checks and
error order, relative and absolute arming, interval overrun counts, remaining time, old
value, read semantics (8-byte count, EAGAIN, EINVAL), poll/epoll readiness, expiry
through the kernel timer (what wakes blocked waiters in the kernel), cleanup on close.
Blocking reads are exercised in QEMU (tests/guest/io.c, polling.c)."""

import random
import struct

import pytest

from polling_support import *  # noqa: F401,F403
from polling_support import PollKernel, pt

MS = 10**6
CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME = 0, 1, 7


@pytest.fixture
def k():
    kern = PollKernel()
    assert kern.mount_rc == 0
    pt.set_time(10**12)
    yield kern
    pt.real_time()


class Clock:
    def __init__(self, start=10**12, real_offset=1_700_000_000 * 10**9):
        self.t = start
        self.off = real_offset
        pt.set_time(self.t, self.t + self.off)

    def go(self, ns, run=True):
        self.t += ns
        pt.set_time(self.t, self.t + self.off)
        return pt.run_timers() if run else None


def test_create(k):
    for clock in (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, 8, 9):
        fd = k.sys("timerfd_create", clock, 0)
        assert fd >= 0
        k.close(fd)
    for clock in (2, 3, 4, 5, 6, 10, 99, -1):
        assert k.sys("timerfd_create", clock, 0) == -EINVAL
    assert k.sys("timerfd_create", CLOCK_MONOTONIC, 1) == -EINVAL
    assert k.sys("timerfd_create", 99, 1) == -EINVAL
    fd = k.sys("timerfd_create", CLOCK_MONOTONIC, O_CLOEXEC | O_NONBLOCK)
    assert k.fcntl(fd, F_GETFD) == 1
    assert k.fcntl(fd, F_GETFL) == 2 | O_NONBLOCK
    fd2 = k.sys("timerfd_create", CLOCK_MONOTONIC, 0)
    assert k.fcntl(fd2, F_GETFD) == 0 and k.fcntl(fd2, F_GETFL) == 2
    assert k.gettime(fd) == (0, 0)


def test_relative_oneshot(k):
    c = Clock()
    t = k.timerfd()
    assert k.settime(t, 50 * MS) == 0
    assert k.gettime(t) == (50 * MS, 0)
    assert k.expirations(t) == -EAGAIN
    c.go(20 * MS)
    assert k.gettime(t) == (30 * MS, 0)
    assert k.poll([(t, POLLIN)]) == (0, [0])
    c.go(30 * MS)
    assert k.poll([(t, POLLIN)]) == (1, [POLLIN])
    assert k.gettime(t) == (0, 0)
    assert k.expirations(t) == 1
    assert k.expirations(t) == -EAGAIN
    c.go(1000 * MS)
    assert k.expirations(t) == -EAGAIN                  # one-shot
    assert pt.armed_timers() == 0


def test_interval_overruns(k):
    c = Clock()
    t = k.timerfd()
    assert k.settime(t, 10 * MS, 4 * MS) == 0
    c.go(9 * MS)
    assert k.expirations(t) == -EAGAIN
    c.go(1 * MS)                                        # t=10
    assert k.expirations(t) == 1
    assert k.gettime(t) == (4 * MS, 4 * MS)
    c.go(13 * MS)                                       # t=23: 14, 18, 22
    assert k.gettime(t) == (3 * MS, 4 * MS)
    assert k.expirations(t) == 3
    c.go(1 * MS, run=False)                             # t=24 exactly at 26? no: 26 next
    assert k.expirations(t) == -EAGAIN
    c.go(2 * MS, run=False)                             # t=26: noticed without the tick
    assert k.expirations(t) == 1
    c.go(4 * MS * 1000)
    assert k.expirations(t) == 1000


def test_absolute(k):
    c = Clock()
    t = k.timerfd(CLOCK_MONOTONIC)
    assert k.settime(t, c.t + 7 * MS, 0, flags=1) == 0
    assert k.gettime(t) == (7 * MS, 0)
    c.go(7 * MS)
    assert k.expirations(t) == 1
    # in the past: expires at once, missed intervals counted
    assert k.settime(t, c.t - 10 * MS, 3 * MS, flags=1) == 0
    assert k.expirations(t) == 4                        # -10, -7, -4, -1
    assert k.gettime(t) == (2 * MS, 3 * MS)


def test_realtime_clock(k):
    c = Clock()
    t = k.timerfd(CLOCK_REALTIME)
    wall = c.t + c.off
    assert k.settime(t, wall + 5 * MS, flags=1) == 0
    assert k.gettime(t) == (5 * MS, 0)
    assert pt.next_timer() == c.t + 5 * MS              # converted to a monotonic deadline
    c.go(5 * MS)
    assert k.expirations(t) == 1
    b = k.timerfd(CLOCK_BOOTTIME)
    assert k.settime(b, 1 * MS) == 0
    c.go(1 * MS)
    assert k.expirations(b) == 1


def test_settime_old_value_and_reset(k):
    c = Clock()
    t = k.timerfd()
    assert k.settime(t, 10 * MS, 2 * MS, want_old=True) == (0, 0)
    c.go(3 * MS)
    assert k.settime(t, 100 * MS, 0, want_old=True) == (7 * MS, 2 * MS)
    c.go(20 * MS)                                       # would have expired under the old setting
    assert k.expirations(t) == -EAGAIN                  # settime reset the count
    c.go(80 * MS)
    # expired but unread, then re-set: the count is cleared
    assert k.settime(t, 50 * MS, want_old=True) == (0, 0)
    assert k.expirations(t) == -EAGAIN
    # disarm keeps the interval visible (Linux reports it)
    assert k.settime(t, 0, 5 * MS) == 0
    assert k.gettime(t) == (0, 5 * MS)
    c.go(1000 * MS)
    assert k.expirations(t) == -EAGAIN
    assert pt.armed_timers() == 0


def test_old_value_of_expired_interval_timer(k):
    c = Clock()
    t = k.timerfd()
    k.settime(t, 10 * MS, 10 * MS)
    c.go(25 * MS, run=False)
    assert k.settime(t, 0, 0, want_old=True) == (5 * MS, 10 * MS)


def test_settime_errors(k):
    t = k.timerfd()
    good = k.put(struct.pack("<qqqq", 0, 0, 1, 0))
    old = k.alloc(32)
    assert k.sys("timerfd_settime", t, 0, 8, 0) == -EFAULT
    assert k.sys("timerfd_settime", 99, 0, 8, 0) == -EFAULT          # copy first
    assert k.sys("timerfd_settime", 99, 4, good, 0) == -EINVAL       # then flags
    for bad in ((0, 0, 0, 10**9), (0, 10**9, 1, 0), (0, 0, -1, 0), (-1, 0, 1, 0), (0, -1, 1, 0)):
        p = k.put(struct.pack("<qqqq", *bad))
        assert k.sys("timerfd_settime", 99, 0, p, 0) == -EINVAL, bad  # then the values
    assert k.sys("timerfd_settime", 99, 0, good, 0) == -EBADF
    null = k.open("/dev/null", 2)
    assert k.sys("timerfd_settime", null, 0, good, 0) == -EINVAL     # not a timerfd
    assert k.sys("timerfd_settime", t, 3, good, old) == 0            # ABSTIME|CANCEL_ON_SET ok
    assert k.sys("timerfd_settime", t, 0, good, 8) == -EFAULT        # old value: set anyway
    assert k.gettime(t)[0] > 0
    assert k.sys("timerfd_gettime", 99, 8) == -EBADF
    assert k.sys("timerfd_gettime", null, 8) == -EINVAL
    assert k.sys("timerfd_gettime", t, 8) == -EFAULT


def test_read_rules(k):
    c = Clock()
    t = k.timerfd()
    k.settime(t, 1 * MS)
    c.go(1 * MS)
    buf = k.alloc(16)
    assert k.call("read", t, buf, 7) == -EINVAL
    assert k.call("read", t, buf, 0) == -EINVAL
    assert k.call("read", t, 8, 8) == -EFAULT                     # the count is lost (Linux too)
    assert k.call("read", t, buf, 8) == -EAGAIN
    k.settime(t, 1 * MS)
    c.go(1 * MS)
    assert k.call("read", t, buf, 16) == 8
    assert k.get(buf, 8) == struct.pack("<Q", 1)
    assert k.write(t, b"12345678") == -EINVAL
    assert k.lseek(t, 0) == -29                                    # ESPIPE


def test_kernel_timer_wakes(k):
    """Expiry through the kernel timer: the count is there before anyone looks (what
    io_notify waiters then see), and the next period is armed."""
    c = Clock()
    t = k.timerfd()
    ep = k.epoll()
    k.ctl(ep, ADD, t, EPOLLIN | EPOLLONESHOT, 42)
    k.settime(t, 10 * MS, 10 * MS)
    assert pt.armed_timers() == 1 and pt.next_timer() == c.t + 10 * MS
    assert c.go(9 * MS) == 0
    assert c.go(1 * MS) == 1
    assert pt.next_timer() == c.t + 10 * MS
    assert k.wait(ep) == [(EPOLLIN, 42)]
    assert k.wait(ep) == []                                        # one-shot
    assert c.go(35 * MS) == 1                                      # one tick, late
    assert pt.next_timer() == c.t + 5 * MS
    assert k.expirations(t) == 4
    k.close(ep)
    k.close(t)
    assert pt.armed_timers() == 0


def test_many_timerfds_fire_in_order(k):
    c = Clock()
    rng = random.Random(3)
    fds = {}
    for i in range(40):
        fd = k.timerfd()
        d = rng.randrange(1, 200) * MS
        k.settime(fd, d)
        fds[fd] = d
    fired = 0
    for step in range(200):
        fired += c.go(1 * MS)
        for fd, d in fds.items():
            due = (step + 1) * MS >= d
            assert k.poll([(fd, POLLIN)])[1] == [POLLIN if due else 0]
    assert fired == 40 and pt.armed_timers() == 0


# ------------------------------------------------------------------ bare kernel timers

def test_ktimer_order_and_cancel():
    PollKernel()
    pt.timers_new(8)
    pt.timer_arm(0, 300)
    pt.timer_arm(1, 100)
    pt.timer_arm(2, 200)
    pt.timer_arm(3, 100)                       # FIFO among equal deadlines
    pt.timer_arm(4, 500)
    assert pt.next_timer() == 100 and pt.armed_timers() == 5
    pt.timer_cancel(2)
    pt.timer_cancel(2)                         # no-op
    pt.timer_arm(0, 150)                       # re-arm moves
    assert pt.run_timers(99) == 0
    assert pt.run_timers(300) == 3
    assert pt.timers_fired() == [1, 3, 0]
    assert not pt.timer_armed(1) and pt.timer_armed(4)
    assert pt.run_timers(10**9) == 1 and pt.timers_fired() == [4]
    assert pt.next_timer() == 0 and pt.armed_timers() == 0


def test_ktimer_rearm_in_callback_fires_once_per_run():
    PollKernel()
    pt.timers_new(2)
    pt.timer_arm(0, 100, rearm_after=10)       # periodic: re-armed at deadline + 10
    assert pt.run_timers(1000) == 1            # not again in the same run, though due
    assert pt.timers_fired() == [0]
    assert pt.next_timer() == 110
    assert pt.run_timers(1000) == 1 and pt.next_timer() == 120


def test_ktimer_callback_cancels_another_due_timer():
    PollKernel()
    pt.timers_new(3)
    pt.timer_arm(0, 10, cancel_other=1)
    pt.timer_arm(1, 20)
    pt.timer_arm(2, 30)
    assert pt.run_timers(100) == 2
    assert pt.timers_fired() == [0, 2]
    assert pt.armed_timers() == 0


def test_ktimer_random_against_model():
    PollKernel()
    rng = random.Random(11)
    n = 32
    pt.timers_new(n)
    armed = {}
    seq = 0
    now = 0
    for _ in range(3000):
        op = rng.random()
        i = rng.randrange(n)
        if op < 0.5:
            d = now + rng.randrange(0, 100)
            pt.timer_arm(i, d)
            seq += 1
            armed[i] = (d, seq)
        elif op < 0.65:
            pt.timer_cancel(i)
            armed.pop(i, None)
        else:
            now += rng.randrange(0, 40)
            due = sorted((v, j) for j, v in armed.items() if v[0] <= now)
            assert pt.run_timers(now) == len(due)
            assert pt.timers_fired() == [j for _, j in due]
            for _, j in due:
                del armed[j]
        assert pt.armed_timers() == len(armed)
        assert pt.next_timer() == (min(v[0] for v in armed.values()) if armed else 0)
