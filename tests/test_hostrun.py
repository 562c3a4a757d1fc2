"""python -m tyn.hostrun: the image's own beam.smp and rootfs on the host's Linux kernel."""

import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_image_support import REPO, build_image, make_tiny_release

DEMO_PORT = 5555


def hostrun(image, *extra, timeout=60):
    args = [sys.executable, "-m", "tyn.hostrun", str(image)] + (["--", *extra] if extra else [])
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def demo_cpio(tmp_path_factory):
    out = tmp_path_factory.mktemp("hr") / "demo.cpio"
    build_image("-o", out, "--format", "cpio")
    return out


def _start(image):
    proc = subprocess.Popen([sys.executable, "-m", "tyn.hostrun", str(image)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=REPO)
    line = proc.stdout.readline()
    return proc, line


def _talk(payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", DEMO_PORT), timeout=5) as s:
        s.settimeout(5)
        got = b""
        while b"\n" not in got:
            got += s.recv(100)
        s.sendall(payload)
        echo = b""
        while len(echo) < len(payload):
            echo += s.recv(100)
        return got + echo


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_demo_echo_server_answers_nc(demo_cpio):
    proc, line = _start(demo_cpio)
    try:
        assert line.startswith("tyn-demo: listening on 5555"), line
        nc = subprocess.run(["nc", "-q", "1", "127.0.0.1", str(DEMO_PORT)], input="ping\n",
                            capture_output=True, text=True, timeout=10)
        assert nc.stdout == "Hello from OTP 27 on Tyn!\nping\n"
        assert _talk(b"second client\n") == b"Hello from OTP 27 on Tyn!\nsecond client\n"
    finally:
        _stop(proc)


def test_boot_image_runs_the_same(tmp_path):
    """The multiboot image (kernel + rootfs) runs exactly like the bare rootfs."""
    out = tmp_path / "demo.img"
    p = build_image("-o", out, check=False)
    if p.returncode != 0 and "initfs_descriptor" in p.stderr:
        pytest.skip("the kernel does not embed a root filesystem yet")
    assert p.returncode == 0, p.stderr
    proc, line = _start(out)
    try:
        assert line.startswith("tyn-demo: listening on 5555"), line
        assert _talk(b"x\n") == b"Hello from OTP 27 on Tyn!\nx\n"
    finally:
        _stop(proc)


def test_elixir_version(tmp_path):
    out = tmp_path / "ex.cpio"
    build_image("-o", out, "--format", "cpio", "--elixir", "--eval",
                "'Elixir.IO':puts('Elixir.System':version()), halt().")
    p = hostrun(out)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1.18.3\n"


def test_eval_and_appended_arguments(tmp_path):
    out = tmp_path / "ev.cpio"
    build_image("-o", out, "--format", "cpio", "--eval", 'io:format("first~n").')
    p = hostrun(out, "-eval", 'io:format("second ~s ~s~n", [net_adm:localhost(), code:root_dir() -- code:root_dir()]), halt(3).')
    assert p.stdout == "first\nsecond tyn.local \n"
    assert p.returncode == 3


def test_guest_view_of_files(tmp_path):
    """The BEAM reads the rootfs's /etc files and its own tree, not the host's."""
    out = tmp_path / "g.cpio"
    (tmp_path / "hello.txt").write_text("from the rootfs")
    code = ('{ok, B} = file:read_file(filename:join(code:root_dir(), "../data/hello.txt")), '
            'io:format("~s|~p|~s~n", [B, inet_db:res_option(domain), filename:basename(code:root_dir())]), halt().')
    build_image("-o", out, "--format", "cpio", "--add", f"{tmp_path / 'hello.txt'}:/data/hello.txt", "--eval", code)
    p = hostrun(out)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "from the rootfs|\"local\"|otp\n"


def test_release_runs(tmp_path):
    rel = make_tiny_release(tmp_path / "rel")
    out = tmp_path / "rel.cpio"
    build_image("-o", out, "--format", "cpio", "--release", rel)
    p = hostrun(out)
    assert p.returncode == 0, p.stderr
    assert 'tiny: up greeting="from sys.config" flag={ok,[["hello"]]} async=7' in p.stdout


def _one_line_error(p):
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_truncated_and_corrupt_cpio(tmp_path, demo_cpio):
    blob = demo_cpio.read_bytes()
    second = blob.index(b"070701", 1)
    cases = {"truncated": blob[: len(blob) // 2], "bad magic": blob[:second] + b"X" + blob[second + 1:],
             "neither": b"hello world", "empty": b""}
    for name, data in cases.items():
        f = tmp_path / f"{name}.cpio"
        f.write_bytes(data)
        err = _one_line_error(hostrun(f))
        assert err.startswith("tyn.hostrun: "), err
    assert "truncated" in _one_line_error(hostrun(tmp_path / "truncated.cpio"))
    assert "bad magic" in _one_line_error(hostrun(tmp_path / "bad magic.cpio"))
    assert "neither" in _one_line_error(hostrun(tmp_path / "neither.cpio"))


def test_missing_file():
    err = _one_line_error(hostrun("/nonexistent/image"))
    assert "No such file" in err


def _elf32_with(segment: bytes) -> bytes:
    """A minimal ELF32 with one PT_LOAD segment holding `segment` (as a boot image does)."""
    ehdr = struct.pack("<4sBBBB8sHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, b"", 2, 3, 1, 0x100000, 52, 0, 0,
                       52, 32, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 4096, 0x200000, 0x200000, len(segment), len(segment), 4, 4096)
    return (ehdr + phdr).ljust(4096, b"\0") + segment


def test_rootfs_found_inside_an_elf(tmp_path, demo_cpio):
    from tyn.hostrun import HostrunError, extract_cpio
    blob = demo_cpio.read_bytes()
    assert extract_cpio(_elf32_with(blob), "x") == blob
    with pytest.raises(HostrunError, match="truncated"):
        extract_cpio(_elf32_with(blob)[:-100], "x")
    with pytest.raises(HostrunError, match="no root filesystem"):
        extract_cpio(_elf32_with(b"\0" * 64), "x")
