"""lib/spinlock on the host: mutual exclusion between threads (each a simulated CPU),
interrupt state, and the test build's checks (recursion, rank order, bad release)."""

import threading

import pytest

from tyn.twins import machine
from tyn.twins import spinlock_twin as sl


@pytest.fixture(autouse=True)
def fresh():
    machine.reset()
    sl.forget_held()
    sl.use_cpu(0)
    sl.set_interrupts(True)
    sl.init(0, b"outer", 10)
    sl.init(1, b"inner", 20)
    sl.init(2, b"same-rank", 20)
    machine.console()
    yield
    machine.reset()


def test_acquire_release_and_holder():
    assert not sl.acquire(0)
    assert sl.held(0) and sl.holder(0) == 0 and sl.held_count() == 1
    assert not sl.release(0)
    assert not sl.held(0) and sl.holder(0) == -1 and sl.held_count() == 0


def test_interrupts_off_while_held_and_restored():
    sl.acquire(0)
    assert not sl.interrupts_enabled()
    sl.release(0)
    assert sl.interrupts_enabled()


def test_release_keeps_interrupts_off_if_they_were_off():
    sl.set_interrupts(False)
    sl.acquire(0)
    sl.release(0)
    assert not sl.interrupts_enabled()


def test_nesting_in_rank_order_and_out_of_order_release():
    assert not sl.acquire(0)
    assert not sl.acquire(1)
    assert sl.held_count() == 2
    assert not sl.release(0)            # releases may come in any order
    assert not sl.release(1)
    assert sl.held_count() == 0
    assert sl.interrupts_enabled()


def test_try_acquire_fails_while_another_cpu_holds_it():
    sl.use_cpu(1)
    assert sl.try_acquire(0)
    sl.use_cpu(0)
    sl.set_interrupts(True)             # the simulation has one interrupt flag for all CPUs
    assert not sl.held(0)
    assert not sl.try_acquire(0)
    assert sl.interrupts_enabled()      # a failed attempt leaves interrupts as they were
    sl.use_cpu(1)
    assert not sl.release(0)
    sl.use_cpu(0)
    assert sl.try_acquire(0)
    sl.release(0)


def test_recursive_acquisition_panics_with_a_report():
    sl.acquire(0)
    assert sl.acquire(0)                # halted: panic
    out = machine.console().decode()
    assert 'recursive acquisition of "outer" (rank 10) on CPU 0' in out
    assert 'CPU 0 holds: "outer" (rank 10)' in out
    assert "panic" in out.lower()


def test_taking_a_lower_rank_while_holding_a_higher_one_panics():
    sl.acquire(1)
    assert sl.acquire(0)
    out = machine.console().decode()
    assert 'lock order violation taking "outer" (rank 10) on CPU 0' in out
    assert 'holds: "inner" (rank 20)' in out


def test_equal_ranks_never_nest():
    sl.acquire(1)
    assert sl.acquire(2)
    assert 'lock order violation taking "same-rank"' in machine.console().decode()


def test_order_is_per_cpu():
    sl.acquire(1)                       # CPU 0 holds inner ...
    sl.use_cpu(1)
    assert sl.held_count() == 0
    assert sl.try_acquire(0)            # ... which does not restrict CPU 1
    assert not sl.release(0)
    sl.use_cpu(0)
    assert not sl.release(1)


def test_release_of_a_lock_not_held_panics():
    assert sl.release(0)
    assert 'release of a lock not held: "outer"' in machine.console().decode()


def test_release_by_another_cpu_panics():
    sl.acquire(0)
    sl.use_cpu(1)
    assert sl.release(0)
    assert "on CPU 1" in machine.console().decode()


def test_mutual_exclusion_between_threads():
    rounds, cpus = 20000, 4
    sl.reset_counter()
    threads = [threading.Thread(target=sl.hammer, args=(0, rounds, cpu)) for cpu in range(1, cpus + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sl.count() == rounds * cpus
    assert not sl.held(0) and sl.holder(0) == -1
