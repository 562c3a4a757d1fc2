"""tyn.run and the terminal: it owns it while QEMU runs (stdin relayed through a pipe, so
QEMU never changes it) and gives it back as it found it on every exit path: the guest's
exit, Ctrl-C (non-interactive), Ctrl-] x (interactive).  The interactive escape itself."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pexpect
import pytest

from guest import musl
from test_guest_abi import boot_image, musl_ok  # noqa: F401  (fixture)
from tyn import qemu
from tyn.run import ESCAPE, _Escape

REPO = Path(__file__).resolve().parents[1]
# Runs tyn.run in this process's terminal and says whether it got the terminal back unchanged.
WRAPPER = """
import sys, termios
from tyn import run
before = termios.tcgetattr(0)
rc = run.main(sys.argv[1:])
print("terminal restored:", termios.tcgetattr(0) == before, flush=True)
sys.exit(rc)
"""
PROGRAM = r"""
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    char c;
    printf("waiting\n");
    fflush(stdout);
    if (read(0, &c, 1) == 1 && c == 'e')
        return 3;
    return 4;
}
"""


@pytest.fixture(scope="module")
def waiting_image(musl_ok, kernel_build_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("term")
    src = d / "waiting.c"
    src.write_text(PROGRAM)
    return boot_image(musl.build(src), kernel_build_dir, d / "waiting.elf")


def run_wrapped(image: Path, *opts: str) -> pexpect.spawn:
    child = pexpect.spawn(sys.executable, ["-c", WRAPPER, str(image), "--accel", "tcg", *opts], cwd=REPO,
                          encoding="utf-8", codec_errors="replace", timeout=90)
    child.logfile_read = io.StringIO()
    child.expect("waiting")
    return child


def outcome(child: pexpect.spawn) -> tuple[int, bool]:
    child.expect(r"terminal restored: (True|False)")
    restored = child.match.group(1) == "True"
    child.expect(pexpect.EOF)
    child.wait()
    return child.exitstatus, restored


def test_guest_exit_restores_the_terminal(waiting_image):
    c = run_wrapped(waiting_image)
    c.send("e\r")
    assert outcome(c) == (3, True)


def test_ctrl_c_stops_a_non_interactive_run_and_restores_the_terminal(waiting_image):
    c = run_wrapped(waiting_image)
    c.sendintr()
    assert outcome(c) == (qemu.EXIT_INTERRUPTED, True)


def test_ctrl_c_of_an_interactive_run_is_the_guests(waiting_image):
    """Raw terminal: Ctrl-C is a byte for the guest, whose tty makes it SIGINT: the program
    (no handler) ends with 128 + 2, and tyn.run passes that status on."""
    c = run_wrapped(waiting_image, "--interactive")
    c.send("\x03")
    status, restored = outcome(c)
    assert (status, restored) == (128 + 2, True)
    log = c.logfile_read.getvalue()
    assert "^C" in log and "interrupted" not in log and "QEMU stopped" not in log   # the guest's echo


def test_escape_stops_an_interactive_run_and_restores_the_terminal(waiting_image):
    c = run_wrapped(waiting_image, "--interactive")
    c.send(chr(ESCAPE) + "x")
    c.expect_exact("Ctrl-] x: QEMU stopped")
    assert outcome(c) == (qemu.EXIT_INTERRUPTED, True)


def test_escape_filter():
    e = _Escape()
    assert e.filter(b"ab\x1d\x1dc") == b"ab\x1dc" and not e.quit        # Ctrl-] Ctrl-]: one Ctrl-]
    assert e.filter(b"\x1d") == b"" and e.filter(b"zq") == b"q" and not e.quit   # unknown command dropped
    assert e.filter(b"k\x1d") == b"k" and e.filter(b"x rest") == b"" and e.quit
