"""fs/cpiofs: the in-place newc parser against tyn.build.cpio's writer and reader, implicit
parents, and every kind of corrupt or truncated archive (an error code and one console
line, never a crash)."""

from __future__ import annotations

import errno
import stat

import pytest
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

from fs_support import D, F, L, archive
from tyn.build.cpio import NEWC_HEADER_SIZE, read_members
from tyn.twins import cpiofs_twin as cpiofs
from tyn.twins import machine
from mm_support import fresh_machine
from tyn.twins import heap_twin as heap
from tyn.twins import pmm_twin as pmm


@pytest.fixture(autouse=True)
def mm():
    fresh_machine(16 << 20)
    assert pmm.init([(0, 16 << 20)], [(0x100000, 0x100000)]) == pmm.OK
    heap.init()


def parse(blob, size=None):
    machine.console()
    return cpiofs.parse(blob, size)


def header(name: bytes, mode=0o100644, size=0, namesize=None, magic=b"070701", **over):
    fields = dict(ino=1, mode=mode, uid=0, gid=0, nlink=1, mtime=0, filesize=size, devmajor=0, devminor=0,
                  rdevmajor=0, rdevminor=0, namesize=len(name) + 1 if namesize is None else namesize, check=0)
    fields.update(over)
    order = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor",
             "rdevmajor", "rdevminor", "namesize", "check")
    return magic + b"".join(b"%08X" % fields[f] for f in order)


def member(name: bytes, data=b"", mode=0o100644, **over):
    h = header(name, mode, len(data), **over) + name + b"\0"
    h += b"\0" * (-len(h) % 4)
    return h + data + b"\0" * (-len(data) % 4)


TRAILER = member(b"TRAILER!!!", mode=0)


def test_matches_python_reader():
    members = [D("a"), D("a/b", 0o700, mtime=12345), F("a/b/c", b"data" * 100, 0o600), L("a/l", "b/c"),
               F("top", b""), F("x" * 255, b"long name")]
    blob = archive(members)
    rc, err, _, tree = parse(blob)
    assert rc == 0 and err == ""
    for m in read_members(blob):
        info = tree[m.name]
        assert info["mode"] == m.mode, m.name
        assert info["mtime"] == m.mtime
        if not m.is_dir:
            assert info["data"] == m.data
            assert blob[info["offset"]:info["offset"] + len(m.data)] == m.data     # in place
    assert tree["a"]["nlink"] == 3 and tree[""]["nlink"] == 3
    assert len({i["ino"] for i in tree.values()}) == len(tree)


names_st = st.lists(st.lists(st.sampled_from(["a", "b", "c", "dd"]), min_size=1, max_size=4).map("/".join),
                    max_size=12, unique=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names_st, st.data())
def test_random_trees(names, data):
    # A consistent tree: every prefix of a file path is a directory.
    dirs = set()
    files = {}
    for n in names:
        parts = n.split("/")
        if any("/".join(parts[:i]) in files for i in range(1, len(parts) + 1)):
            continue
        if any(x.startswith(n + "/") for x in dirs | set(files)):
            continue
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
        files[n] = data.draw(st.binary(max_size=40))
    listed = sorted(d for d in dirs if data.draw(st.booleans()))          # others stay implicit
    members = [D(d) for d in listed] + [F(n, b) for n, b in sorted(files.items())]
    blob = b""
    for m in members:
        blob += member(m.name.encode(), m.data, m.mode)
    blob += TRAILER
    rc, err, _, tree = parse(blob)
    assert rc == 0, err
    assert set(tree) == {""} | dirs | set(files)
    for d in dirs:
        assert stat.S_ISDIR(tree[d]["mode"])
    for n, b in files.items():
        assert tree[n]["data"] == b


def test_implicit_parents_and_dot_prefix():
    blob = member(b"./x/y/z", b"deep") + member(b"x", mode=0o040700) + member(b".", mode=0o040711) + TRAILER
    rc, err, _, tree = parse(blob)
    assert rc == 0, err
    assert tree["x/y/z"]["data"] == b"deep"
    assert tree["x"]["mode"] == 0o040700           # listed after its child: mode applied
    assert tree["x/y"]["mode"] == 0o040755         # implicit
    assert tree[""]["mode"] == 0o040711


GOOD = member(b"etc", mode=0o040755) + member(b"etc/hosts", b"127.0.0.1\n") + TRAILER


@pytest.mark.parametrize("blob, message", [
    (b"", "empty archive"),
    (b"070702" + GOOD[6:], "bad magic"),
    (GOOD[:6] + b"0000000G" + GOOD[14:], "bad hex field"),
    (member(b"a", namesize=1) + TRAILER, "bad name size"),
    (header(b"a", namesize=0x2000) + b"a\0", "bad name size"),
    (member(b"ab", namesize=2) + TRAILER, "not NUL-terminated"),
    (member(b"a\0b") + TRAILER, "embedded NUL"),
    (member(b"/abs") + TRAILER, "bad member name"),
    (member(b"a/../b") + TRAILER, "not a normalised"),
    (member(b"a//b") + TRAILER, "not a normalised"),
    (member(b"a/") + TRAILER, "not a normalised"),
    (member(b"a/./b") + TRAILER, "not a normalised"),
    (member(b"..") + TRAILER, "not a normalised"),
    (member(b"x" * 256) + TRAILER, "not a normalised"),
    (member(b"a") + member(b"a") + TRAILER, "duplicate member"),
    (member(b"a", mode=0o040755) + member(b"a", mode=0o040755) + TRAILER, "duplicate member"),
    (member(b"a") + member(b"a/b") + TRAILER, "parent is not a directory"),
    (member(b"a/b") + member(b"a") + TRAILER, "duplicate member"),
    (member(b"d", b"x", mode=0o040755) + TRAILER, "directory member has data"),
    (member(b"dev", mode=0o020644) + TRAILER, "unsupported member type"),
    (member(b"fifo", mode=0o010644) + TRAILER, "unsupported member type"),
    (member(b"l", b"", mode=0o120777) + TRAILER, "bad symlink target length"),
    (member(b"l", b"a\0b", mode=0o120777) + TRAILER, "symlink target has a NUL"),
    (member(b"f", b"abc")[:-1] + b"X" + TRAILER, "non-zero padding"),
    (GOOD + b"\0\0\0\1", "data after the trailer"),
    (GOOD[:-len(TRAILER)], "truncated archive"),
    (member(b"f", b"abc", filesize=0x7FFFFFFF) + TRAILER, "truncated archive"),
    (header(b"a", size=0xFFFFFFFF, namesize=0xFFF) + b"a\0", "truncated archive"),
])
def test_corrupt_archives(blob, message):
    rc, err, offset, tree = parse(blob)
    assert rc == -errno.EINVAL
    assert message in err
    console = machine.console()
    assert console.startswith(b"tyn: cpiofs: ") and console.endswith(b"\n") and console.count(b"\n") == 1
    assert f"at offset {offset}".encode() in console


def test_every_truncation_is_an_error():
    blob = archive([D("a"), F("a/f", b"x" * 37), L("a/l", "f")])
    assert parse(blob)[0] == 0
    for n in range(len(blob) - 1):
        # exactly n bytes: the parser must stop at the end of its buffer
        rc, err, _, _ = parse(blob, n)
        assert rc == -errno.EINVAL, (n, err)


def test_trailing_zero_padding_is_fine():
    assert parse(GOOD + b"\0" * 512)[0] == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_corruption_never_crashes(data):
    blob = bytearray(archive([D("a"), F("a/f", b"payload" * 5), L("l", "a/f"), F("b", b"")]))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.sampled_from([0, 0x30, 0x37, 0x46, 0x2F, 0x2E, 0xFF, ord("Z")]))
    cut = data.draw(st.integers(0, len(blob)))
    rc, err, offset, tree = parse(bytes(blob[:cut]))
    assert rc in (0, -errno.EINVAL)
    if rc:
        assert err and offset <= cut
