"""lib/cmdline: the kernel command line parser, on the host."""
import pytest
from hypothesis import given, strategies as st

from tyn.twins import cmdline_twin as cmdline, machine


@pytest.fixture(autouse=True)
def fresh_machine():
    machine.reset()


def test_keys_values_and_bare_keys():
    assert cmdline.parse(b"hz=250 quiet  loglevel=3\t") == 3
    assert cmdline.get(b"hz") == b"250"
    assert cmdline.get(b"quiet") == b""
    assert cmdline.get(b"loglevel") == b"3"
    assert cmdline.get(b"missing") is None


def test_quoted_values_keep_spaces_and_later_equals():
    cmdline.parse(b'args="-eval io:format(x) -s" path=/a=b')
    assert cmdline.get(b"args") == b"-eval io:format(x) -s"
    assert cmdline.get(b"path") == b"/a=b"


def test_last_occurrence_wins():
    cmdline.parse(b"hz=100 hz=300")
    assert cmdline.get(b"hz") == b"300"


def test_init_args_after_double_dash():
    cmdline.parse(b"hz=100 -- -eval 'halt(3).' --x")
    assert cmdline.init_args() == b"-eval 'halt(3).' --x"
    assert cmdline.count() == 1
    cmdline.parse(b"hz=100 --notadash")
    assert cmdline.init_args() == b""
    assert cmdline.get(b"--notadash") == b""


def test_unknown_keys_are_reported_by_name():
    cmdline.parse(b"hz=100 tpyo=1 other")
    cmdline.get(b"hz")
    assert cmdline.report_unknown() == 2
    out = machine.console()
    assert b"unknown kernel command line key 'tpyo'" in out
    assert b"unknown kernel command line key 'other'" in out
    assert b"'hz'" not in out


@pytest.mark.parametrize("text,value", [(b"0", 0), (b"42", 42), (b"0x1F", 31), (b"0xff", 255),
                                        (b"18446744073709551615", 2**64 - 1)])
def test_numbers(text, value):
    assert cmdline.parse_u64(text) == value


@pytest.mark.parametrize("text", [b"", b"0x", b"12a", b"-1", b"18446744073709551616", b"0xg"])
def test_bad_numbers(text):
    assert cmdline.parse_u64(text) is None


def test_malformed_number_value_is_reported():
    cmdline.parse(b"hz=fast")
    assert cmdline.get_u64(b"hz") is None
    assert b"hz=fast is not a number" in machine.console()


def test_overlong_line_is_truncated_and_said():
    assert cmdline.parse(b"a=1 " * 2000) == -1
    assert b"too long" in machine.console()


def test_too_many_parameters_is_said():
    assert cmdline.parse(b" ".join(b"k%d" % i for i in range(100))) == -1
    assert cmdline.count() == 64


token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.,/:", min_size=1, max_size=12)


@given(st.lists(st.tuples(token, token), min_size=0, max_size=20))
def test_round_trip_against_a_model(pairs):
    text = " ".join(f"{k}={v}" for k, v in pairs).encode()
    cmdline.parse(text)
    model = {}
    for k, v in pairs:
        model[k] = v
    for k, v in model.items():
        assert cmdline.get(k.encode()) == v.encode()
    assert cmdline.count() == len(pairs)
