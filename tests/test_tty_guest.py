"""The console tty in the guest against Linux's n_tty: tests/guest/tty/termios.c runs on
the host in a pty and as init on Tyn's serial console (tyn.run --interactive: the keys
reach the guest raw), both typed the same keys after each "READY" cue; the terminal
transcripts (echoes, erasures, ^C, results) must be identical.  Also the console under a
non-interactive run: Ctrl-C still stops tyn.run, as before."""

from __future__ import annotations

import re
from pathlib import Path

import pexpect
import pytest

from guest import musl
from test_guest_abi import boot_image, musl_ok  # noqa: F401  (fixture)
from tyn.build import image

PROGRAM = Path(__file__).resolve().parent / "guest" / "tty" / "termios.c"
DIMENSIONS = (50, 250)          # harness.Boot's pty: tyn.run passes it on as tty_cols/rows
KEYS = [                        # (cue, keys typed after it)
    ("canon", b"ab\x7fc\r"),
    ("eof", b"xy\x04"),
    ("eof-empty", b"\x04"),
    ("kill-werase", b"junk\x15one two\x17three\r"),
    ("typeahead", b"l1\rl2\r"),
    ("noecho", b"secret\r"),
    ("raw", b"\x03q\r\x7f\x1c"),
    ("min0-time0", b""),
    ("min0-time3", b""),
    ("sigint", b"lost"),        # (its echo awaited, then ^C: Linux drops echoes still queued
    (None, b"\x03"),            # in the batch that holds the signal character)
    ("sigquit", b"\x1c"),
    ("after-signals", b"kept\r"),
]


def drive(expect, send) -> None:
    for cue, keys in KEYS:
        expect(f"READY {cue}\r\n" if cue else "lost")
        if keys:
            send(keys)
    expect("R: done")


def transcript(text: str) -> str:
    start = text.index("R: isatty")
    return text[start:text.index("R: done", start) + len("R: done")]


def linux_transcript(exe: Path) -> str:
    child = pexpect.spawn(str(exe), env=dict(image.INIT_ENV), dimensions=DIMENSIONS,
                          encoding="utf-8", codec_errors="replace", timeout=20)
    seen = []
    child.logfile_read = type("L", (), {"write": lambda self, s: seen.append(s), "flush": lambda self: None})()
    drive(lambda m: child.expect_exact(m), lambda b: child.send(b.decode("latin-1")))
    child.expect(pexpect.EOF)
    child.wait()
    assert child.exitstatus == 0
    return transcript("".join(seen))


@pytest.fixture(scope="module")
def termios_exe(musl_ok):
    return musl.build(PROGRAM)


def test_termios_program_runs_on_linux(termios_exe):
    out = linux_transcript(termios_exe)
    assert "R: isatty 1 1 1" in out and "R: canon 3 [61630a]" in out   # the program sees a real tty


def test_console_tty_matches_linux_n_tty(termios_exe, kernel_build_dir, boot, tmp_path):
    expected = linux_transcript(termios_exe)
    img = boot_image(termios_exe, kernel_build_dir, tmp_path / "termios.elf")
    vm = boot(img, accel="tcg", timeout=90, args=["--interactive"])
    drive(lambda m: vm.expect(m), lambda b: vm.child.send(b.decode("latin-1")))
    vm.expect_exit(0)
    got = transcript(vm._raw.getvalue())
    assert got == expected, f"guest transcript differs from Linux's:\n--- linux\n{expected!r}\n--- tyn\n{got!r}"
    # what the comparison covers, spelled out
    assert "ab\b \bc\r\nR: canon 3 [61630a]" in got
    assert "lost^C" in got and "R: sigint -1 EINTR" in got and "R: got_int 1 got_quit 0" in got
    assert "^\\R: sigquit -1 EINTR" in got and "R: got_int 1 got_quit 1" in got
    assert "secret" not in got and "R: raw 5 [03710d7f1c]" in got


def test_tyn_run_passes_the_terminal_size(termios_exe, kernel_build_dir, boot, tmp_path):
    """tyn.run passes its terminal's size on the kernel command line (the tty's TIOCGWINSZ is
    covered by tests/test_tty.py); no terminal, no size."""
    import subprocess, sys
    img = boot_image(termios_exe, kernel_build_dir, tmp_path / "termios.elf")
    r = subprocess.run([sys.executable, "-m", "tyn.run", str(img), "--dry-run"], capture_output=True, text=True)
    assert r.returncode == 0 and "tty_cols" not in r.stdout          # not a terminal: no size
    vm = boot(img, accel="tcg", timeout=90, args=["--dry-run"])
    vm.expect(re.compile(r"tty_cols=250 tty_rows=50"))
