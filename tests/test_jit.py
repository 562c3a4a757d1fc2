"""BeamAsm (the `--jit` ERTS flavour) in the guest: its code memory is the dual mapping.

asmjit (erts/emulator/asmjit/core/virtmem.cpp) asks for memfd_create("vmem", MFD_CLOEXEC),
ftruncates it and maps it MAP_SHARED twice, read+execute and read+write; only when that
fails does ERTS fall back to single-mapped RWX memory.  The trace of a JIT hello boot
(strace=1) must show the dual mapping and no RWX mapping at all.  The exercise program
under JIT is in test_erlang_exercise.py (the `jit` image)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HELLO = "Hello from OTP 27 on Tyn!"
EVAL = 'io:format("Hello from OTP 27 on Tyn!~n"), halt().'
TRACE = re.compile(r"tyn: strace \[\d+:\d+\] (\w+)\(([^)]*)\) = (-?\d+)")
PROT_RX, PROT_RW, PROT_RWX = 0x5, 0x3, 0x7
MAP_SHARED = 0x1
MFD_CLOEXEC = 0x1


@pytest.fixture(scope="module")
def jit_hello(tmp_path_factory, kernel_build_dir) -> Path:
    out = tmp_path_factory.mktemp("jit") / "hello-jit.img"
    p = subprocess.run([sys.executable, "-m", "tyn.build", "image", "--jit", "--eval", EVAL, "-o", str(out)],
                       capture_output=True, text=True, cwd=REPO)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


def calls(log: str) -> list[tuple[str, list[int], int]]:
    out = []
    for name, args, result in TRACE.findall(log):
        out.append((name, [int(a, 16) for a in args.split(", ")], int(result)))
    return out


def test_jit_code_is_dual_mapped(jit_hello, tmp_path):
    # Straight to a file, not through the pty harness: the trace is ~0.5 MB of console.
    log_file = tmp_path / "console.log"
    with open(log_file, "wb") as out:
        r = subprocess.run([sys.executable, "-m", "tyn.run", str(jit_hello), "--accel", "tcg",
                            "--append", "strace=1"], stdin=subprocess.DEVNULL, stdout=out,
                           stderr=subprocess.STDOUT, cwd=REPO, timeout=300)
    log = log_file.read_text(errors="replace")
    assert r.returncode == 0 and HELLO in log, log[-3000:]
    trace = calls(log)
    # asmjit's hardened-runtime probe maps one RWX page and unmaps it at once; the
    # single-mapped fallback would keep a whole RWX block.
    for i, (name, args, at) in enumerate(trace):
        if name == "mmap" and args[2] == PROT_RWX:
            assert args[1] == 4096 and at > 0, f"single-mapped RWX code memory: {args}"
            assert trace[i + 1][0] == "munmap" and trace[i + 1][1][0] == at, "RWX page kept"
    # The allocator's block: memfd_create -> ftruncate(fd, size) -> mmap RX + mmap RW, shared.
    blocks = 0
    for i, (name, args, fd) in enumerate(trace):
        if name != "memfd_create" or fd < 0:
            continue
        assert args[1] == MFD_CLOEXEC
        follow = trace[i + 1:i + 4]
        names = [n for n, _, _ in follow]
        if names != ["ftruncate", "mmap", "mmap"]:
            continue                                   # asmjit's one-page probe (mmap, munmap)
        (_, ft, ft_rc), (_, rx, rx_at), (_, rw, rw_at) = follow
        assert ft[0] == fd and ft_rc == 0
        assert rx[1] == rw[1] == ft[1]                 # both views cover the whole file
        assert (rx[2], rx[3]) == (PROT_RX, MAP_SHARED) and (rw[2], rw[3]) == (PROT_RW, MAP_SHARED)
        assert rx_at > 0 and rw_at > 0 and rx_at != rw_at
        blocks += 1
    assert blocks >= 1, "no dual-mapped code block in the trace"
