"""sys/sigqueue: pending signals by state -- nothing pending, a standard signal pending,
real-time instances queued, the RLIMIT_SIGPENDING bound, discarding, a leaving thread's
shared signals -- through the twin (the kernel's own code on the host heap)."""

import pytest

from mm_support import fresh_machine
from tyn.twins import heap_twin as heap
from tyn.twins import pmm_twin as pmm
from tyn.twins import sigqueue_twin as q

SI_USER, SI_QUEUE, SI_TKILL, SI_KERNEL = 0, -1, -6, 0x80
SIGUSR1, SIGUSR2, SIGSEGV = 10, 12, 11
RT = q.SIGRTMIN
EAGAIN = 11


def bit(sig):
    return 1 << (sig - 1)


@pytest.fixture(autouse=True)
def sigqueue():
    ram = 32 << 20
    fresh_machine(ram)
    assert pmm.init([(0, ram)], [(0x100000, 0x100000)]) == pmm.OK
    heap.init()
    q.reset(2)
    yield
    q.reset(2)
    assert q.count() == 0


# ---------------------------------------------------------------- nothing pending

def test_nothing_pending_takes_nothing():
    assert q.take(0) is None and q.pending(0) == 0 and q.count() == 0


def test_a_raise_sets_the_bit_and_holds_its_siginfo():
    assert q.add(0, SIGUSR1, SI_USER, pid=7) == q.ADDED
    assert q.pending(0) == bit(SIGUSR1) and q.count() == 1
    assert q.take(0) == (SIGUSR1, SI_USER, 7, 0)
    assert q.pending(0) == 0 and q.count() == 0


# ---------------------------------------------------------- a standard signal pending

def test_standard_signals_merge_and_keep_the_first_siginfo():
    q.add(0, SIGUSR1, SI_QUEUE, pid=1, value=5)
    assert q.add(0, SIGUSR1, SI_QUEUE, pid=2, value=6) == q.MERGED
    assert q.count() == 1
    assert q.take(0) == (SIGUSR1, SI_QUEUE, 1, 5)
    assert q.take(0) is None


def test_one_instance_per_class():
    q.add(0, SIGUSR1, SI_TKILL, pid=1, cls=q.PRIVATE)
    q.add(0, SIGUSR1, SI_USER, pid=2, cls=q.SHARED)
    assert q.take(0) == (SIGUSR1, SI_TKILL, 1, 0)      # the thread's own first
    assert q.pending(0) == bit(SIGUSR1)
    assert q.take(0) == (SIGUSR1, SI_USER, 2, 0)
    assert q.pending(0) == 0


def test_thread_directed_before_process_directed_then_lowest_then_faults_first():
    q.add(0, SIGUSR1, SI_USER, cls=q.SHARED)
    q.add(0, SIGUSR2, SI_TKILL, cls=q.PRIVATE)
    q.add(0, SIGSEGV, 1, cls=q.PRIVATE)                 # SEGV_MAPERR
    q.add(0, 3, SI_TKILL, cls=q.PRIVATE)
    assert [q.take(0)[0] for _ in range(4)] == [SIGSEGV, 3, SIGUSR2, SIGUSR1]


def test_take_respects_the_wanted_set():
    q.add(0, SIGUSR1, SI_USER)
    assert q.take(0, wanted=bit(SIGUSR2)) is None
    assert q.take(0, wanted=bit(SIGUSR1))[0] == SIGUSR1


# ------------------------------------------------------- real-time instances queued

def test_real_time_instances_queue_in_order_with_their_values():
    for v in (1, 2, 3):
        assert q.add(0, RT + 1, SI_QUEUE, value=v) == q.ADDED
    q.add(0, RT, SI_QUEUE, value=10)
    assert q.count() == 4
    assert [q.take(0)[::3] for _ in range(4)] == [(RT, 10), (RT + 1, 1), (RT + 1, 2), (RT + 1, 3)]
    assert q.pending(0) == 0 and q.count() == 0


def test_the_bit_stays_while_instances_remain():
    q.add(0, RT, SI_QUEUE, value=1)
    q.add(0, RT, SI_QUEUE, value=2)
    q.take(0)
    assert q.pending(0) == bit(RT)
    q.take(0)
    assert q.pending(0) == 0


# ------------------------------------------------------------ at the limit

def test_sigqueue_past_the_limit_is_eagain():
    assert q.add(0, RT, SI_QUEUE, limit=2) == q.ADDED
    assert q.add(0, RT, SI_QUEUE, limit=2) == q.ADDED
    assert q.add(0, RT, SI_QUEUE, limit=2) == -EAGAIN
    assert q.add(0, RT, SI_TKILL, limit=2, cls=q.PRIVATE) == -EAGAIN
    assert q.count() == 2


def test_kill_past_the_limit_stays_pending_without_its_siginfo():
    q.add(0, RT, SI_QUEUE, limit=1)
    assert q.add(0, RT + 1, SI_USER, pid=9, limit=1) == q.ADDED
    assert q.add(0, RT + 2, SI_KERNEL, limit=1) == q.ADDED
    assert q.count() == 1
    q.take(0)
    assert q.take(0) == (RT + 1, SI_USER, 0, 0)         # SI_USER from nobody
    assert q.take(0) == (RT + 2, SI_USER, 0, 0)


def test_standard_signals_count_and_only_kill_and_the_kernel_override_the_limit():
    q.add(0, RT, SI_QUEUE, limit=1)
    assert q.add(0, SIGUSR1, SI_USER, pid=4, limit=1) == q.ADDED     # si_code >= 0: held anyway
    assert q.add(0, SIGUSR2, SI_QUEUE, pid=5, limit=1) == q.ADDED    # held only below the limit
    assert q.count() == 2
    assert q.take(0) == (SIGUSR1, SI_USER, 4, 0)
    assert q.take(0) == (SIGUSR2, SI_USER, 0, 0)


# ------------------------------------------------------------- discard, release

def test_discard_drops_every_instance_in_both_classes():
    q.add(0, RT, SI_QUEUE, value=1)
    q.add(0, RT, SI_QUEUE, value=2, cls=q.PRIVATE)
    q.add(0, RT + 1, SI_QUEUE, value=3)
    q.add(0, SIGUSR1, SI_USER, cls=q.PRIVATE)
    q.discard(0, RT)
    q.discard(0, SIGUSR1)
    assert q.pending(0) == bit(RT + 1) and q.count() == 1
    assert q.take(0)[::3] == (RT + 1, 3)


def test_release_frees_everything():
    for v in range(5):
        q.add(1, RT, SI_QUEUE, value=v)
    q.add(1, SIGUSR1, SI_USER)
    q.release(1)
    assert q.count() == 0 and q.pending(1) == 0


# ----------------------------------------------------- a leaving thread's shared signals

def test_shared_signals_move_private_ones_stay():
    q.add(0, RT, SI_QUEUE, value=1)
    q.add(0, RT, SI_QUEUE, value=2, cls=q.PRIVATE)
    q.add(0, SIGUSR1, SI_USER, pid=3)
    q.add(1, RT, SI_QUEUE, value=0)
    assert q.move_shared(0, 1) == bit(RT) | bit(SIGUSR1)
    assert q.pending(0) == bit(RT)
    assert q.take(0)[::3] == (RT, 2)
    assert [q.take(1) for _ in range(3)] == [(SIGUSR1, SI_USER, 3, 0), (RT, SI_QUEUE, 0, 0), (RT, SI_QUEUE, 0, 1)]
    assert q.count() == 0


def test_a_moved_standard_signal_merges_with_one_already_there():
    q.add(0, SIGUSR1, SI_USER, pid=1)
    q.add(1, SIGUSR1, SI_USER, pid=2)
    q.move_shared(0, 1)
    assert q.count() == 1 and q.take(1) == (SIGUSR1, SI_USER, 2, 0) and q.take(1) is None
