"""The Linux-ABI differential suite: tests/guest/*.c on Linux (the reference) and on Tyn.

Each program is a static musl binary (tests/guest/musl.py builds and caches it) that prints
deterministic results of syscalls, error paths included.  Three runs of the same binary:

  reference   run directly on the host (env = the image's INIT_ENV, stdin /dev/null)
  hostrun     `tyn.build image --init BIN` and `python -m tyn.hostrun IMAGE`: the image's
              own rootfs on Linux -- must print exactly the reference output
  guest       the same boot image under `python -m tyn.run`: the program is the guest's
              init -- must print exactly the reference output (xfail until the syscall
              layer lands; TYN_GUEST_ABI=1 runs it anyway)

Adding a program: drop NAME.c next to the others (include "common.h"; print relations,
never addresses/times/pids); it is picked up by every test here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from guest import musl
from tyn.build import image, rootfs

GUEST_DIR = Path(__file__).resolve().parent / "guest"
PROGRAMS = sorted(p.stem for p in GUEST_DIR.glob("*.c"))
REPO = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 120


@pytest.fixture(scope="session")
def musl_ok():
    why = musl.available()
    if why:
        pytest.skip(why)


_built: dict[str, Path] = {}
_reference: dict[str, str] = {}


def program(name: str) -> Path:
    if name not in _built:
        _built[name] = musl.build(GUEST_DIR / f"{name}.c")
    return _built[name]


def run_reference(exe: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe)], env=dict(image.INIT_ENV), cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=RUN_TIMEOUT)


def reference(name: str, tmp_path: Path) -> str:
    if name not in _reference:
        r = run_reference(program(name), tmp_path)
        assert r.returncode == 0, f"{name} failed on Linux ({r.returncode}): {r.stderr.decode()[-2000:]}"
        _reference[name] = r.stdout.decode()
    return _reference[name]


def init_rootfs(exe: Path, out: Path) -> Path:
    """The --init image's root filesystem (what `tyn.build image --init` writes)."""
    image.compose_init(exe, []).write(out)
    return out


def boot_image(exe: Path, kernel_build_dir: Path, out: Path) -> Path:
    """A bootable --init image, with the session's kernel build (incremental)."""
    import harness
    from tyn.build import bootimage, kernel
    cpio = init_rootfs(exe, out.with_suffix(".cpio"))
    try:
        elf = harness.build_kernel(kernel_build_dir)       # shared build dir, file-locked
    except (kernel.BuildError, SystemExit) as e:
        pytest.fail(f"kernel build failed: {e}", pytrace=False)
    bootimage.write_boot_image(elf, cpio, out)
    return out


def hostrun(img: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tyn.hostrun", str(img)], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=RUN_TIMEOUT, cwd=REPO)


def guest_stdout(console: str) -> str:
    """The program's output from the serial console: kernel lines (the `Tyn ... booting`
    banner and every `tyn: ...` line) dropped, CR LF -> LF."""
    out = []
    for line in console.replace("\r\n", "\n").splitlines(keepends=True):
        if line.startswith("tyn: ") or (line.startswith("Tyn ") and "booting" in line):
            continue
        out.append(line)
    return "".join(out)


def run_guest(img: Path, accel: str = "tcg", smp: int = 1) -> tuple[int, str, str]:
    """Boot img under tyn.run; (exit status, program stdout, raw console + stderr).

    TCG by default: these programs test Linux semantics, and the PVM-based nested KVM of
    our build machines makes page-table-heavy programs (threads) very slow.
    TYN_GUEST_ACCEL=kvm runs them there instead."""
    accel = os.environ.get("TYN_GUEST_ACCEL", accel)
    r = subprocess.run([sys.executable, "-m", "tyn.run", str(img), "--accel", accel, "--smp", str(smp)],
                       stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=RUN_TIMEOUT, cwd=REPO)
    console = r.stdout.decode(errors="replace")
    return r.returncode, guest_stdout(console), console + r.stderr.decode(errors="replace")


# ------------------------------------------------------------------ reference

@pytest.mark.parametrize("name", PROGRAMS)
def test_reference(musl_ok, name, tmp_path):
    """On Linux: exit 0, output non-empty, and the same on a second run (deterministic)."""
    out = reference(name, tmp_path)
    assert out.strip()
    again = run_reference(program(name), tmp_path)
    assert again.returncode == 0 and again.stdout.decode() == out, f"{name}: output is not deterministic"


@pytest.mark.parametrize("name", PROGRAMS)
def test_hostrun_matches_reference(musl_ok, name, tmp_path):
    img = init_rootfs(program(name), tmp_path / f"{name}.cpio")
    r = hostrun(img)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert r.stdout.decode() == reference(name, tmp_path)


# Programs whose guest output still differs from Linux, and why.
KNOWN_GAPS: dict[str, str] = {}     # program name -> why Tyn differs (none today)


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[n], strict=False,
                                            run=os.environ.get("TYN_GUEST_ABI", "") not in ("", "0")))
    if n in KNOWN_GAPS else n
    for n in PROGRAMS])
# Every program on one CPU and on two (TCG runs them really in parallel); four is slow-marked.
@pytest.mark.parametrize("smp", [1, 2, pytest.param(4, marks=pytest.mark.slow)])
def test_guest_matches_reference(musl_ok, name, smp, tmp_path, kernel_build_dir):
    img = boot_image(program(name), kernel_build_dir, tmp_path / f"{name}.elf")
    status, out, raw = run_guest(img, smp=smp)
    ref = reference(name, tmp_path)
    if out != ref:       # the first differing line and the console's tail make the report useful
        a, b = ref.splitlines(), out.splitlines()
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        pytest.fail(f"{name} (--smp {smp}): guest output differs from Linux at line {first + 1}: "
                    f"Linux {a[first] if first < len(a) else '<end>'!r}, "
                    f"Tyn {b[first] if first < len(b) else '<end>'!r}; exit status {status}; "
                    f"console tail:\n{raw[-3000:]}", pytrace=False)
    assert status == 0


# ------------------------------------------------------- the image plumbing

def test_boot_image_runs_under_hostrun(musl_ok, tmp_path, kernel_build_dir):
    """The very boot image the guest test boots carries the program as /init: hostrun
    (which takes boot images too) prints the reference output from it."""
    name = "system" if "system" in PROGRAMS else PROGRAMS[0]
    img = boot_image(program(name), kernel_build_dir, tmp_path / "g.elf")
    r = hostrun(img)
    assert r.returncode == 0 and r.stdout.decode() == reference(name, tmp_path)


def test_init_rootfs_layout(musl_ok, tmp_path):
    from tyn.build.cpio import read_members
    exe = program(PROGRAMS[0])
    members = {m.name: m for m in read_members(init_rootfs(exe, tmp_path / "r.cpio").read_bytes())}
    assert members["init"].data == exe.read_bytes() and members["init"].mode & 0o111
    assert rootfs.decode_argv(members["etc/tyn/argv"].data) == ["/init"]
    assert rootfs.decode_env(members["etc/tyn/env"].data) == image.INIT_ENV
    assert members["tmp"].is_dir and "etc/hostname" in members
    assert not any(n.startswith("otp") for n in members)


def _image_cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "tyn.build", "image", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def test_image_cli_init_cpio_and_args(musl_ok, tmp_path):
    src = tmp_path / "echoargs.c"
    src.write_text('#include <stdio.h>\nint main(int c, char **v) {\n'
                   '  for (int i = 1; i < c; i++) printf("[%s]\\n", v[i]);\n  return c - 1; }\n')
    exe = musl.build(src)
    out = tmp_path / "e.cpio"
    r = _image_cli("-o", out, "--format", "cpio", "--init", exe)
    assert r.returncode == 0, r.stderr
    h = subprocess.run([sys.executable, "-m", "tyn.hostrun", str(out), "--", "a b", "-x"],
                       capture_output=True, text=True, timeout=60, cwd=REPO)
    assert (h.returncode, h.stdout) == (2, "[a b]\n[-x]\n")


@pytest.mark.parametrize("extra, message", [
    (["--eval", "ok"], "--init cannot be combined with --eval"),
    (["--elixir"], "--init cannot be combined with --elixir"),
    (["--jit"], "--init cannot be combined with --jit"),
    (["--add", "{exe}:/init"], "/init is the --init executable"),
])
def test_image_cli_init_refusals(musl_ok, tmp_path, extra, message):
    exe = program(PROGRAMS[0])
    out = tmp_path / "x.cpio"
    r = _image_cli("-o", out, "--format", "cpio", "--init", exe, *[e.format(exe=exe) for e in extra])
    assert r.returncode == 1 and message in r.stderr and not out.exists()


def test_image_cli_init_rejects_non_static(tmp_path):
    out = tmp_path / "x.cpio"
    for bad, message in [("/bin/sh", "dynamically linked"), (__file__, "not an ELF"),
                         (tmp_path / "missing", "No such file"), (tmp_path, "is a directory")]:
        r = _image_cli("-o", out, "--format", "cpio", "--init", bad)
        assert r.returncode == 1 and message in r.stderr, (bad, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()
