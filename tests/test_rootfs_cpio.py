"""The newc cpio writer and strict reader, the init-config encodings, vm.args parsing."""

import io
import os
import stat

import pytest
from hypothesis import given, settings, strategies as st

from tyn.build import release, rootfs
from tyn.build.cpio import (NEWC_HEADER_SIZE, CpioError, Member, NewcWriter, read_members)


def archive(members):
    buf = io.BytesIO()
    w = NewcWriter(buf)
    for m in members:
        w.add(m)
    w.finish()
    return buf.getvalue()


SAMPLE = [
    Member("etc", stat.S_IFDIR | 0o755),
    Member("etc/hosts", stat.S_IFREG | 0o644, b"127.0.0.1 localhost\n"),
    Member("etc/link", stat.S_IFLNK | 0o777, b"hosts"),
    Member("otp", stat.S_IFDIR | 0o755),
    Member("otp/beam", stat.S_IFREG | 0o755, bytes(range(256)) * 3 + b"x"),
]


def test_roundtrip_and_alignment():
    blob = archive(SAMPLE)
    assert len(blob) % 4 == 0
    assert blob.startswith(b"070701")
    assert read_members(blob) == SAMPLE


def test_cpio_tool_agrees(tmp_path):
    """GNU cpio reads what we write."""
    import shutil, subprocess
    if not shutil.which("cpio"):
        pytest.skip("GNU cpio is not installed")
    (tmp_path / "a.cpio").write_bytes(archive(SAMPLE))
    out = subprocess.run(["cpio", "-it", "--quiet"], stdin=open(tmp_path / "a.cpio", "rb"),
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [m.name for m in SAMPLE]


def test_deterministic():
    assert archive(SAMPLE) == archive(SAMPLE)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text("abcxyz_.-", min_size=1, max_size=12).filter(lambda s: s not in (".", "..")),
                          st.binary(max_size=300)), unique_by=lambda t: t[0], max_size=8))
def test_roundtrip_property(files):
    members = [Member("d", stat.S_IFDIR | 0o755)] + [Member(f"d/{n}", stat.S_IFREG | 0o644, d) for n, d in files]
    assert read_members(archive(members)) == members


@pytest.mark.parametrize("cut", [0, 1, 50, NEWC_HEADER_SIZE, NEWC_HEADER_SIZE + 3, 200, -40, -1])
def test_truncated_is_rejected(cut):
    blob = archive(SAMPLE)
    with pytest.raises(CpioError, match="truncated|empty|bad magic"):
        read_members(blob[:cut] if cut else b"")


def test_corruptions_are_rejected():
    blob = archive(SAMPLE)
    cases = {
        "bad magic": b"070702" + blob[6:],
        "bad ino field": blob[:6] + b"zzzzzzzz" + blob[14:],
        "data after the trailer": blob + b"junk",
        "non-zero padding": None,
    }
    # a padding byte: the name "etc\0" (4 bytes) after the 110-byte header needs 2 pad bytes
    b = bytearray(blob); b[NEWC_HEADER_SIZE + 4] = 1
    cases["non-zero padding"] = bytes(b)
    for msg, bad in cases.items():
        with pytest.raises(CpioError, match=msg):
            read_members(bad)
    no_trailer = blob[:blob.index(b"TRAILER!!!") - NEWC_HEADER_SIZE]
    with pytest.raises(CpioError, match="truncated"):
        read_members(no_trailer)


@pytest.mark.parametrize("name", ["../evil", "/abs", "a/../../b", "./"])
def test_bad_names_are_rejected(name):
    with pytest.raises(CpioError):
        archive([Member(name, stat.S_IFREG | 0o644, b"x")])


def test_reader_rejects_hostile_archives():
    # Hand-made: the writer refuses these, so patch names of the same length in place.
    blob = archive([Member("ab", stat.S_IFREG | 0o644, b"x")])
    with pytest.raises(CpioError, match="normalised"):
        read_members(blob.replace(b"ab\0", b"..\0"))
    dup = archive([Member("aa", stat.S_IFREG | 0o644, b"1"), Member("ab", stat.S_IFREG | 0o644, b"2")])
    with pytest.raises(CpioError, match="duplicate"):
        read_members(dup.replace(b"ab\0", b"aa\0"))
    with pytest.raises(CpioError, match="before its directory"):
        read_members(_orphan())


def _orphan():
    """An archive whose member's directory is never listed."""
    buf = io.BytesIO(); w = NewcWriter(buf)
    w.add(Member("q", stat.S_IFDIR | 0o755)); w.add(Member("q/f", stat.S_IFREG | 0o644, b"1")); w.finish()
    return buf.getvalue().replace(b"q\x00070701", b"r\x00070701", 1)


def test_argv_encoding_roundtrip():
    argv = ["/otp/erts/bin/beam.smp", "--", "-eval", "io:format(\"a\\nb\"),\nhalt().", "back\\slash", ""]
    assert rootfs.decode_argv(rootfs.encode_argv(argv)) == argv
    assert rootfs.encode_argv(["a b", "x"]) == b"a b\nx\n"


def test_env_encoding():
    env = {"BINDIR": "/otp/erts-15.2.7/bin", "X": "a=b"}
    assert rootfs.decode_env(rootfs.encode_env(env)) == env
    with pytest.raises(rootfs.RootfsError):
        rootfs.encode_env({"A": "multi\nline"})


def test_rootfs_write_is_atomic_and_sorted(tmp_path):
    fs = rootfs.Rootfs()
    fs.add_bytes("/z/file", b"1")
    fs.add_bytes("/a/b/c", b"2")
    out = tmp_path / "r.cpio"
    fs.write(out)
    names = [m.name for m in read_members(out.read_bytes())]
    assert names == ["a", "a/b", "a/b/c", "z", "z/file"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    with pytest.raises(rootfs.RootfsError):
        fs.add_bytes("/a/b/c/d", b"file as dir")
    with pytest.raises(rootfs.RootfsError):
        fs.add_bytes("relative", b"")
    fs.entries["a/b/c"].data = None
    fs.entries["a/b/c"].host = tmp_path / "vanished"
    with pytest.raises(OSError):
        fs.write(tmp_path / "r2.cpio")
    assert sorted(os.listdir(tmp_path)) == ["r.cpio"]


def test_vm_args_parsing(tmp_path):
    (tmp_path / "more.args").write_text("-extra_flag 1\n")
    (tmp_path / "vm.args").write_text(
        "## comment\n-name foo@host   # trailing comment\n+A 7\n+sbt db\n-setcookie a\\ b\n"
        "-args_file more.args\n+K true\n-env TZ UTC\n-mode interactive\n")
    args = release.read_args_file(tmp_path / "vm.args")
    assert args == ["-name", "foo@host", "+A", "7", "+sbt", "db", "-setcookie", "a b",
                    "-extra_flag", "1", "+K", "true", "-env", "TZ", "UTC", "-mode", "interactive"]
    emu, init, env = release.split_vm_args(args)
    assert emu == ["-A", "7", "-sbt", "db", "-K", "true"]
    assert init == ["-name", "foo@host", "-setcookie", "a b", "-extra_flag", "1", "-mode", "interactive"]
    assert env == {"TZ": "UTC"}


def test_otp_major_of_erts():
    assert release.otp_major_of_erts("15.2.7") == 27
    assert release.otp_major_of_erts("14.2.5") == 26
    assert release.otp_major_of_erts("junk") is None


def test_dangling_symlink_in_a_tree_fails_naming_it(tmp_path):
    """An image carries what a link points to or fails: never a silent drop."""
    from tyn.build.rootfs import Rootfs, RootfsError
    tree = tmp_path / "app" / "priv"
    tree.mkdir(parents=True)
    (tree / "real.txt").write_text("x")
    (tree / "ok.txt").symlink_to("real.txt")
    (tree / "gone.js").symlink_to("/nonexistent/gone.js")
    fs = Rootfs()
    with pytest.raises(RootfsError, match=r"priv/gone.js: dangling symlink to /nonexistent/gone.js"):
        fs.add_tree("/app", tmp_path / "app", "app")
