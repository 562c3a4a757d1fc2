"""erts-build/: the cached static-musl ERTS (hit, miss, reproducibility, checksum failures)."""

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tyn.build import erts

SCRIPT = erts.BUILD_SCRIPT


@pytest.fixture(scope="module")
def erts_dir():
    return erts.ensure_erts()


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_cache_hit_takes_seconds(erts_dir):
    t0 = time.monotonic()
    p = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=True)
    assert time.monotonic() - t0 < 5
    assert Path(p.stdout.strip()) == erts_dir
    assert "cache hit" in p.stderr


def test_manifest_and_binaries(erts_dir):
    m = erts.manifest(erts_dir)
    assert m["otp_version"] == "27.3.4.1" and m["erts_version"] == "15.2.7"
    assert "--disable-jit" in m["configure_flags"] and "no patches" in m["source"]
    for exe in ("bin/beam.smp", "bin/erl_child_setup", "debug/beam.smp"):
        headers = subprocess.run(["readelf", "-lS", str(erts_dir / exe)], capture_output=True, text=True).stdout
        assert "INTERP" not in headers, f"{exe} is dynamically linked"
    assert ".symtab" not in subprocess.run(["readelf", "-S", str(erts_dir / "bin/beam.smp")],
                                           capture_output=True, text=True).stdout
    assert sha256(erts_dir / "bin/beam.smp") == m["beam.smp_sha256"]
    assert 6 << 20 < (erts_dir / "bin/beam.smp").stat().st_size < 12 << 20


def test_beam_trees_match_otp_version(erts_dir):
    lib = erts_dir / "otp" / "lib"
    for app in ("kernel-10.2.7.1", "stdlib-6.2.2.1", "compiler-8.6.1", "sasl-4.2.2", "inets-9.3.2"):
        assert (lib / app / "ebin").is_dir(), app
    assert (erts_dir / "otp/releases/27/OTP_VERSION").read_text().strip() == "27.3.4.1"
    assert (erts_dir / "elixir/lib/elixir/ebin/elixir.app").read_text().count('"1.18.3"') == 1


def test_key_depends_on_flags():
    plain = subprocess.run(["bash", str(SCRIPT), "--print-key"], capture_output=True, text=True, check=True).stdout
    jit = subprocess.run(["bash", str(SCRIPT), "--print-key"], capture_output=True, text=True, check=True,
                         env=dict(os.environ, TYN_ERTS_JIT="1")).stdout
    assert plain.startswith("emu-") and jit.startswith("jit-") and plain != jit


def _seeded_cache(tmp_path: Path, erts_dir: Path) -> Path:
    """A fresh cache root holding only the already verified source (no network needed)."""
    src = erts_dir.parent / "src"
    cache = tmp_path / "cache"
    otp = cache / erts_dir.parent.name
    (otp / "src").mkdir(parents=True)
    for f in src.iterdir():
        if f.suffix in (".dsc", ".xz", ".gz"):
            shutil.copy(f, otp / "src" / f.name)
    return cache


def test_cache_miss_rebuilds_identically(tmp_path, erts_dir):
    """A cold build (a new cache root) shows progress and reproduces the cached beam.smp bit for bit."""
    cache = _seeded_cache(tmp_path, erts_dir)
    p = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=dict(os.environ, TYN_CACHE=str(cache)))
    assert p.returncode == 0, p.stderr[-2000:]
    assert "cache miss" in p.stderr and "make emulator done in" in p.stderr
    out = Path(p.stdout.strip())
    assert out.name == erts_dir.name
    assert sha256(out / "bin/beam.smp") == sha256(erts_dir / "bin/beam.smp")
    assert sha256(out / "bin/erl_child_setup") == sha256(erts_dir / "bin/erl_child_setup")
    assert not list(Path("/var/tmp").glob(f"tyn-erts-build-*-{out.name[5:]}")), "build tree left behind"


def test_corrupt_tarball_is_refused(tmp_path, erts_dir):
    cache = _seeded_cache(tmp_path, erts_dir)
    tarball = next((cache / erts_dir.parent.name / "src").glob("*.orig.tar.xz"))
    data = bytearray(tarball.read_bytes()); data[1000] ^= 0xFF; tarball.write_bytes(bytes(data))
    p = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=dict(os.environ, TYN_CACHE=str(cache)))
    assert p.returncode != 0
    assert "SHA-256 does not match" in p.stderr.strip().splitlines()[-1]
    assert not tarball.exists()
