"""The Erlang shell and IEx on the console (`tyn.build image --shell`), driven through a
terminal by pexpect: in the guest (`tyn.run`, which hands the terminal over raw) and under
hostrun (the same image's beam.smp on Linux, in a pty) -- the same keys, the same
expectations.  Line editing, history and Tab completion need ERTS built with termcap
(erts-build/config.sh) and a TERM the image's terminal library knows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

REPO = Path(__file__).resolve().parents[1]
LEFT, UP = "\x1b[D", "\x1b[A"
CTRL_A, CTRL_C, CTRL_E, CTRL_G, CTRL_R = "\x01", "\x03", "\x05", "\x07", "\x12"
BOOT_TIMEOUT = 180
ANSI = r"(?:\x1b\[[0-9;]*m)*"


def shown(text: str) -> re.Pattern:
    """text as IEx prints it: any colour codes (SGR) around and inside it."""
    return re.compile(ANSI + "".join(re.escape(ch) + ANSI for ch in text))


def build_image(out: Path, *opts: str) -> Path:
    r = subprocess.run([sys.executable, "-m", "tyn.build", "image", "--shell", *opts, "-o", str(out)],
                       capture_output=True, text=True, cwd=REPO, timeout=900)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def erlang_shell_image(tmp_path_factory) -> Path:
    return build_image(tmp_path_factory.mktemp("shell") / "shell.img")


@pytest.fixture(scope="module")
def iex_image(tmp_path_factory) -> Path:
    return build_image(tmp_path_factory.mktemp("iex") / "iex.img", "--elixir")


def start(where: str, image: Path) -> pexpect.spawn:
    argv = (["-m", "tyn.run", str(image), "--accel", "tcg"] if where == "guest"
            else ["-m", "tyn.hostrun", str(image)])
    child = pexpect.spawn(sys.executable, argv, cwd=REPO, dimensions=(24, 80), encoding="utf-8",
                          codec_errors="replace", timeout=60)
    child.logfile_read = sys.stdout
    return child


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF, timeout=60)
    child.wait()
    return child.exitstatus


@pytest.mark.parametrize("where", ["guest", "hostrun"])
def test_erlang_shell(where, erlang_shell_image):
    c = start(where, erlang_shell_image)
    c.expect("Eshell V", timeout=BOOT_TIMEOUT)
    c.expect("1> ")
    c.send("1 + 2.\r")                                   # an expression
    c.expect("\r\n3\r\n")
    c.expect("2> ")
    c.send("10 + 1." + LEFT + "0\r")                     # edited: the cursor moved left, 0 inserted
    c.expect("\r\n20\r\n")
    c.expect("3> ")
    c.send(UP)                                           # history: the last line again
    c.expect_exact("3> 10 + 10.")
    c.send("\r")
    c.expect("\r\n20\r\n")
    c.expect("4> ")
    c.send("lists:rev\t")                                # Tab completes the function name
    c.expect_exact("lists:reverse(")
    c.send("[1,2]).\r")
    c.expect_exact("[2,1]")
    c.expect("5> ")
    c.send("2 * 3." + CTRL_A)                            # Ctrl-A: to the start of the line
    c.expect_exact("\b" * len("2 * 3."))
    c.send("1 + " + CTRL_E + "\r")                       # ... insert, Ctrl-E: to its end
    c.expect("\r\n7\r\n")
    c.expect("6> ")
    c.send(CTRL_R)                                       # Ctrl-R: search the history
    c.expect_exact("search:")
    c.send("10 +")
    c.expect_exact("10 + 10.")
    c.send("\r")                                         # take the match, then run it
    c.expect(r"\d> 10 \+ 10\.")
    c.send("\r")
    c.expect("\r\n20\r\n")
    c.expect("7> ")
    c.send(CTRL_G)                                       # Ctrl-G: the user switch menu, then back
    c.expect_exact("User switch command")
    c.expect_exact(" --> ")
    c.send("c\r")
    c.expect(r"\d> ")
    c.send(CTRL_C)                                       # the break menu, then continue
    c.expect_exact("BREAK: (a)bort")
    c.send("c\r")
    c.send("6 * 7.\r")
    c.expect("\r\n42\r\n")
    c.send("q().\r")                                     # halts the VM: exit 0
    assert finish(c) == 0


@pytest.mark.parametrize("where", ["guest", "hostrun"])
def test_iex(where, iex_image):
    c = start(where, iex_image)
    c.expect_exact("iex(1)> ", timeout=BOOT_TIMEOUT)
    c.send("1 + 2\r")
    c.expect(shown("\r\n3\r\n"))
    c.expect_exact("iex(2)> ")
    c.send("10 + 1" + LEFT + "0\r")                      # 10 + 01 ... the cursor moved left: 10 + 01 = 11
    c.expect(shown("\r\n11\r\n"))
    c.expect_exact("iex(3)> ")
    c.send(UP)
    c.expect_exact("iex(3)> 10 + 01")
    c.send("\r")
    c.expect(shown("\r\n11\r\n"))
    c.expect_exact("iex(4)> ")
    c.send("Enum.rev\t")
    c.expect_exact("Enum.reverse")
    c.send("([1, 2])\r")
    c.expect(shown("[2, 1]"))
    c.expect_exact("iex(5)> ")
    c.send(CTRL_C)
    c.expect_exact("BREAK: (a)bort")
    c.send("c\r")
    c.send("6 * 7\r")
    c.expect(shown("\r\n42\r\n"))
    c.send(":init.stop()\r")                             # init:stop(): exit 0
    assert finish(c) == 0


# ------------------------------------------------------------------ what --shell puts in the image

def _config(cpio: Path):
    from test_image_support import init_config, rootfs_of
    members = rootfs_of(cpio)
    argv, env = init_config(members)
    console = members.get("etc/tyn/console")
    return argv, env, console.data if console else None


def test_shell_image_configuration(tmp_path):
    from test_image_support import build_image as image_cli
    image_cli("-o", tmp_path / "plain.cpio", "--format", "cpio")
    argv, env, console = _config(tmp_path / "plain.cpio")
    assert "-noshell" in argv and console is None and "TERM" not in env         # unchanged
    image_cli("-o", tmp_path / "sh.cpio", "--format", "cpio", "--shell")
    argv, env, console = _config(tmp_path / "sh.cpio")
    assert "-noshell" not in argv and "-noinput" not in argv and "tyn_demo" not in argv
    assert env["TERM"] == "xterm-256color" and console == b"interactive\n"
    image_cli("-o", tmp_path / "iex.cpio", "--format", "cpio", "--shell", "--elixir")
    argv, env, console = _config(tmp_path / "iex.cpio")
    assert argv[argv.index("-user") + 1] == "elixir" and argv[-3:] == ["-extra", "--no-halt", "+iex"]
    assert console == b"interactive\n"


def test_release_image_can_ask_for_the_shell(tmp_path):
    from test_image_support import build_image as image_cli, make_tiny_release
    rel = make_tiny_release(tmp_path / "rel")
    image_cli("-o", tmp_path / "rel.cpio", "--format", "cpio", "--release", rel, "--shell")
    argv, env, console = _config(tmp_path / "rel.cpio")
    assert "-noshell" not in argv and "-noinput" not in argv and console == b"interactive\n"
    assert argv[argv.index("-boot") + 1].endswith("/start")


def test_shell_and_init_do_not_mix(tmp_path):
    from test_image_support import build_image as image_cli
    p = image_cli("-o", tmp_path / "x.img", "--init", sys.executable, "--shell", check=False)
    assert p.returncode != 0 and "--shell" in p.stderr.strip().splitlines()[-1]
