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


def test_erts_has_termcap_with_compiled_in_terminals(erts_dir):
    """The shell's line editing needs prim_tty's termcap NIFs: ERTS is linked with a static
    libtinfo whose terminal descriptions are built in (no terminfo database in images)."""
    m = erts.manifest(erts_dir)
    assert "--with-termcap" in m["configure_flags"] and "libtinfo" in m["ncurses"]
    syms = subprocess.run(["nm", str(erts_dir / "debug/beam.smp")], capture_output=True, text=True).stdout
    assert " T tgetent" in syms and " T tgetstr" in syms
    data = (erts_dir / "bin/beam.smp").read_bytes()
    assert b"xterm-256color" in data and b"vt100" in data


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


# ----------------------------------------------------- the source, by the index

LIB = SCRIPT.parent / "lib.sh"
SHOWSRC = """Package: erlang
Version: 1:27.3.4.1+dfsg-1+deb13u9
Files:
 8e316a9e63f5c4167ba34596b146ab35 47613664 erlang_27.3.4.1+dfsg.orig.tar.xz
Checksums-Sha256:
 {sum} 47613664 erlang_27.3.4.1+dfsg.orig.tar.xz
 76b96c8601ac571542e872145f108b0c3d11c47d4e563e31a71807e5dd9213c7 197088 erlang_27.3.4.1+dfsg-1+deb13u9.debian.tar.xz

Package: erlang
Version: 1:25.2.3+dfsg-1
Checksums-Sha256:
 1111111111111111111111111111111111111111111111111111111111111111 1 erlang_25.2.3+dfsg.orig.tar.xz
"""


def lib_call(snippet: str, stdin: str = "", **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f". '{LIB}'; {snippet}"], input=stdin, capture_output=True,
                          text=True, env=dict(os.environ, **env))


def test_index_lookup_keys_on_the_tarball_not_the_debian_revision():
    """A new Debian revision (deb13u9 here) listing the same orig tarball is found by name."""
    index = SHOWSRC.format(sum="0834643ef1e17886d5e334a39527d8429bcf50613b86d59d4757466f32984b7e")
    p = lib_call('s=$(cat); index_sha256 "$ORIG_TARBALL" <<<"$s"; index_versions_listing "$ORIG_TARBALL" <<<"$s"', index)
    assert p.stdout.split() == ["0834643ef1e17886d5e334a39527d8429bcf50613b86d59d4757466f32984b7e",
                                "1:27.3.4.1+dfsg-1+deb13u9"]
    p = lib_call('echo "$ORIG_SHA256"')
    assert p.stdout.strip() == "0834643ef1e17886d5e334a39527d8429bcf50613b86d59d4757466f32984b7e"


def _fake_apt_cache(tmp_path: Path, showsrc: str) -> dict:
    """PATH with an apt-cache whose `showsrc` prints `showsrc` (everything else is the real one)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (tmp_path / "showsrc.txt").write_text(showsrc)
    real = shutil.which("apt-cache")
    (bindir / "apt-cache").write_text(
        f'#!/bin/sh\n[ "$1" = showsrc ] && exec cat "{tmp_path}/showsrc.txt"\nexec {real} "$@"\n')
    (bindir / "apt-cache").chmod(0o755)
    return {"PATH": f"{bindir}:{os.environ['PATH']}"}


@pytest.mark.parametrize("showsrc,message", [
    (SHOWSRC.replace("erlang_27.3.4.1+dfsg.orig.tar.xz", "erlang_27.3.4.2+dfsg.orig.tar.xz").format(sum="ab" * 32),
     "erlang_27.3.4.1+dfsg.orig.tar.xz: apt's signed Sources index has no SHA-256 for it"),
    (SHOWSRC.format(sum="ab" * 32),
     "erlang_27.3.4.1+dfsg.orig.tar.xz: apt's Sources index lists SHA-256 " + "ab" * 32),
])
def test_tarball_missing_from_or_contradicting_the_index_is_one_line(tmp_path, erts_dir, showsrc, message):
    cache = tmp_path / "cache"
    env = dict(os.environ, TYN_CACHE=str(cache), **_fake_apt_cache(tmp_path, showsrc))
    p = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env)
    assert p.returncode != 0
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("erts-build: " + message), p.stderr[-1500:]
    otp = cache / erts_dir.parent.name
    assert not list(otp.glob("erts-*")), "a half-built ERTS was left behind"
    assert not (otp / "src" / "erlang_27.3.4.1+dfsg.orig.tar.xz").exists()


# ----------------------------------------------------- priv/ symlinks of packages

def test_dangling_priv_link_names_the_link(tmp_path):
    """A priv/ symlink that no dependency provides stops fetch-beams with a line naming it."""
    root = tmp_path / "unpacked"
    priv = root / "usr/lib/erlang/lib/foo-1.0/priv"
    priv.mkdir(parents=True)
    (priv / "inside.txt").write_text("ok")
    (priv / "fine.js").symlink_to("inside.txt")
    (priv / "gone.js").symlink_to("../../../../../share/javascript/nowhere/gone.js")
    p = lib_call(f'DEBS={tmp_path}/debs; link_providers() {{ :; }}; '
                 f'resolve_priv_links erlang-foo 1:1.0-1 "{root}"')
    assert p.returncode != 0
    assert p.stderr.strip().splitlines()[-1] == (
        "erts-build: erlang-foo 1:1.0-1: usr/lib/erlang/lib/foo-1.0/priv/gone.js is a dangling symlink to "
        "../../../../../share/javascript/nowhere/gone.js, which none of its dependencies () provides")
    assert (priv / "fine.js").is_symlink()      # links inside the package are left alone


def test_common_test_priv_links_carry_their_targets(erts_dir):
    """erlang-common-test's jquery links are replaced by the files of libjs-jquery(-tablesorter)."""
    erts.ensure_debian_packages(["erlang-common-test"])
    priv = next((erts_dir / "otp" / "lib").glob("common_test-*/priv"))
    for name, marker in (("jquery-latest.js", b"jQuery"), ("jquery.tablesorter.min.js", b"tablesorter")):
        f = priv / name
        assert f.is_file() and not f.is_symlink(), name
        assert marker in f.read_bytes()[:4096], name
