"""drivers/serial + lib/kprint + arch/power on the simulated UART and isa-debug-exit."""
import pytest
from hypothesis import given, strategies as st

from tyn.twins import console_twin as console, machine


@pytest.fixture(autouse=True)
def fresh():
    machine.reset()
    assert console.init()


@given(st.integers(min_value=-2**63, max_value=2**63 - 1))
def test_decimal(v):
    console.put_dec(v)
    assert machine.console() == str(v).encode()


@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(min_value=1, max_value=16))
def test_hex(v, digits):
    console.put_hex(v, digits)
    assert machine.console() == ("0x" + format(v, "x").rjust(digits, "0")).encode()


def test_strings_are_raw_bytes():
    console.puts(b"line one\nline two\n")
    assert machine.console() == b"line one\nline two\n"


def test_uart_input():
    assert console.getc() == -1
    machine.feed_uart(b"ok")
    assert (console.getc(), console.getc(), console.getc()) == (ord("o"), ord("k"), -1)


@pytest.mark.parametrize("status,port_value", [(0, 0), (3, 3), (125, 125), (127, 127), (126, 126),
                                               (200, 126), (-1, 126)])
def test_exit_status_through_debug_exit(status, port_value):
    assert console.exit(status)            # halts afterwards: no isa-debug-exit on the host
    assert machine.exit_status() == port_value
    if status not in (port_value, 127):
        assert f"tyn: exit status {status}".encode() in machine.console()
