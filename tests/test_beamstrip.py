"""tyn.build.beamstrip: the .beam chunk stripper, checked against the host beam.smp's own
beam_lib and code loader, its errors, and its cache."""

import gzip
import struct
import subprocess
import sys

import pytest

from tyn.build import beamstrip, erts
from test_image_support import REPO, build_image

MODULE = r"""
-module(strip_me).
-moduledoc "A module with docs, attributes and debug_info.".
-export([double/1, fail/0]).
-vsn(42).
-my_attribute(kept).
-doc "Twice X.".
double(X) -> 2 * X.
fail() -> erlang:error(on_purpose).
"""

# Loads the stripped binary from TYN_BEAM, calls it, and asks beam_lib and module_info
# what is left.
CHECK_STRIPPED = r"""
{ok, Bin} = file:read_file(os:getenv("TYN_BEAM")),
{module, strip_me} = code:load_binary(strip_me, "strip_me.beam", Bin),
Line = try strip_me:fail() catch error:on_purpose:St -> proplists:get_value(line, element(4, hd(St))) end,
io:format("double ~p~n", [strip_me:double(21)]),
io:format("attr ~w ~w~n", [proplists:get_value(my_attribute, strip_me:module_info(attributes)),
                           proplists:get_value(vsn, strip_me:module_info(attributes))]),
io:format("line ~p~n", [Line]),
io:format("debug_info ~p~n", [element(1, beam_lib:chunks(Bin, [debug_info]))]),
io:format("docs ~p~n", [element(1, beam_lib:chunks(Bin, ["Docs"]))]),
halt().
"""


@pytest.fixture(scope="module")
def host_beam():
    return erts.HostBeam(erts.ensure_erts())


@pytest.fixture(scope="module")
def compiled(host_beam, tmp_path_factory):
    d = tmp_path_factory.mktemp("strip")
    src = d / "strip_me.erl"
    src.write_text(MODULE)
    return erts.compile_erlang(host_beam, src, d)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TYN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_parse_then_emit_is_the_identity(compiled):
    data = compiled.read_bytes()
    assert beamstrip.emit_beam(beamstrip.parse_chunks(data)) == data


def test_strip_keeps_only_what_the_loader_reads(compiled):
    full = [cid for cid, _ in beamstrip.parse_chunks(compiled.read_bytes())]
    assert b"Dbgi" in full and b"Docs" in full and b"LocT" in full
    stripped = beamstrip.strip(compiled.read_bytes())
    kept = [cid for cid, _ in beamstrip.parse_chunks(stripped)]
    assert kept == [c for c in full if c in beamstrip.KEPT_CHUNKS]
    assert b"Attr" in kept and b"Line" in kept and b"Dbgi" not in kept and b"Docs" not in kept
    assert len(stripped) < compiled.stat().st_size


def test_compressed_output_is_gzip_of_the_stripped_module(compiled):
    data = compiled.read_bytes()
    gz = beamstrip.strip(data, compress=True)
    assert gz[:2] == beamstrip.GZIP_MAGIC
    assert gzip.decompress(gz) == beamstrip.strip(data)
    assert beamstrip.strip(gz) == beamstrip.strip(data)                  # input may be gzip'd
    assert beamstrip.strip(data, compress=True) == gz                    # reproducible


@pytest.mark.parametrize("compress", [True, False])
def test_host_beam_loads_and_runs_the_stripped_module(host_beam, compiled, tmp_path, compress):
    out = tmp_path / "strip_me.beam"
    out.write_bytes(beamstrip.strip(compiled.read_bytes(), compress=compress))
    p = host_beam.eval(CHECK_STRIPPED, env={"TYN_BEAM": str(out)})
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines() == ["double 42", "attr [kept] [42]", "line 9", "debug_info error", "docs error"]


def _chunk(cid: bytes, data: bytes) -> bytes:
    return struct.pack(">4sI", cid, len(data)) + data + bytes(-len(data) % 4)


def _form(body: bytes) -> bytes:
    return b"FOR1" + struct.pack(">I", 4 + len(body)) + b"BEAM" + body


MINIMAL = b"".join(_chunk(c, b"x") for c in (b"Code", b"StrT", b"ImpT", b"ExpT"))


@pytest.mark.parametrize("data,message", [
    (b"", "truncated"),
    (b"FOR1\0\0\0\4BEAX", "not a BEAM file"),
    (b"ELF\0" + bytes(20), "not a BEAM file"),
    (_form(MINIMAL)[:-3], "truncated (header says"),
    (_form(MINIMAL + b"Dbgi"), "truncated chunk header"),
    (_form(MINIMAL + struct.pack(">4sI", b"Dbgi", 1000) + b"abcd"), "runs past the end"),
    (_form(_chunk(b"Code", b"x")), "lacks the mandatory chunk(s) StrT, ImpT, ExpT"),
    (b"\x1f\x8b garbage", "not valid gzip"),
])
def test_malformed_beam_files_are_named_errors(data, message):
    with pytest.raises(beamstrip.BeamError) as e:
        beamstrip.strip(data, "bad.beam")
    assert str(e.value).startswith("bad.beam: ") and message in str(e.value)
    assert "\n" not in str(e.value)


def test_minimal_beam_strips_to_its_mandatory_chunks():
    data = _form(MINIMAL + _chunk(b"Docs", b"docs"))
    assert beamstrip.strip(data) == _form(MINIMAL)


def test_cache_hit_does_not_strip_again(compiled, cache, monkeypatch):
    first = beamstrip.stripped_path(compiled)
    assert first.is_relative_to(cache) and first.read_bytes() == beamstrip.strip(compiled.read_bytes())
    monkeypatch.setattr(beamstrip, "strip", lambda *a, **k: pytest.fail("stripped again"))
    assert beamstrip.stripped_path(compiled) == first
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]      # no temp files left


def test_cache_keys_compression_apart(compiled, cache):
    assert beamstrip.stripped_path(compiled) != beamstrip.stripped_path(compiled, compress=True)
    assert beamstrip.stripped_path(compiled).read_bytes()[:4] == b"FOR1"
    assert beamstrip.stripped_path(compiled, compress=True).read_bytes()[:2] == beamstrip.GZIP_MAGIC


def test_image_with_a_corrupt_beam_fails_cleanly(tmp_path):
    ebin = tmp_path / "ebin"
    ebin.mkdir()
    (ebin / "broken.beam").write_bytes(b"FOR1" + struct.pack(">I", 4 + 8 + 256) + b"BEAMCode\0\0\1\0")
    out = tmp_path / "img.cpio"
    p = build_image("-o", out, "--format", "cpio", "--eval", "halt().", "--add", f"{ebin}:/app/ebin", check=False)
    assert p.returncode != 0 and not out.exists()
    lines = [line for line in p.stderr.strip().splitlines() if not line.startswith("[erts-build]")]
    assert len(lines) == 1 and "broken.beam" in lines[0] and "truncated" in lines[0], p.stderr
    assert not list(tmp_path.glob(".img.cpio*"))


def test_full_image_copies_a_corrupt_beam_as_is(tmp_path):
    """--beams full carries .beam files untouched (the packages are verified; debug images)."""
    ebin = tmp_path / "ebin"
    ebin.mkdir()
    (ebin / "odd.beam").write_bytes(b"not a beam")
    out = tmp_path / "img.cpio"
    build_image("-o", out, "--format", "cpio", "--beams", "full", "--eval", "halt().", "--add", f"{ebin}:/app/ebin")
    from test_image_support import rootfs_of
    assert rootfs_of(out)["app/ebin/odd.beam"].data == b"not a beam"
