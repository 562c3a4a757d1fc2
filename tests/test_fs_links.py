"""Hard links (link/linkat) in the VFS: one inode under several names on tmpfs, Linux's
errors in Linux's order (EROFS on the read-only root and /dev, EXDEV across filesystems),
and that link entries and inodes are freed when their last name and user go.  The guest
program tests/guest/links.c compares the same behaviour with Linux."""

from __future__ import annotations

import errno as E

import pytest

from fs_support import AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, Kernel
from tyn.twins import heap_twin as heap
from tyn.twins import sysfs_twin as sysfs

O_RDONLY, O_WRONLY, O_RDWR, O_CREAT = 0, 1, 2, 0o100
O_DIRECTORY, O_PATH = 0o200000, 0o10000000
AT_SYMLINK_FOLLOW = 0x400
BAD_PTR = 0x1000


@pytest.fixture
def k():
    return Kernel()


def link(k, old, new):
    return k.call("link", k.cstr(old), k.cstr(new))


def linkat(k, odfd, old, ndfd, new, flags=0):
    return k.call("linkat", odfd, k.cstr(old), ndfd, k.cstr(new), flags)


def make(k, path, data=b""):
    fd = k.open(path, O_CREAT | O_RDWR, 0o644)
    assert fd >= 0
    if data:
        assert k.write(fd, data) == len(data)
    assert k.close(fd) == 0


# -- one inode, several names

def test_link_shares_the_inode(k):
    make(k, "/tmp/f", b"hello")
    assert link(k, "/tmp/f", "/tmp/g") == 0
    f, g = k.stat("/tmp/f"), k.stat("/tmp/g")
    assert f["ino"] == g["ino"] and f["dev"] == g["dev"]
    assert f["nlink"] == g["nlink"] == 2
    fd = k.open("/tmp/g", O_RDWR)
    assert k.pwrite(fd, b"J", 0) == 1
    assert k.cat("/tmp/f") == b"Jello"
    assert k.call("ftruncate", fd, 2) == 0 and k.stat("/tmp/f")["size"] == 2


def test_getdents_reports_the_inode_for_every_name(k):
    make(k, "/tmp/f")
    assert k.mkdir("/tmp/d") == 0
    assert link(k, "/tmp/f", "/tmp/d/g") == 0
    ino = k.stat("/tmp/f")["ino"]
    fd = k.open("/tmp/d", O_DIRECTORY)
    entries = {name: (ino_, dtype) for ino_, _off, dtype, name in k.getdents(fd)}
    assert entries["g"] == (ino, 8)                    # DT_REG
    assert k.stat("/tmp/d")["nlink"] == 2               # a file's link adds no ".."


def test_unlink_one_name_keeps_the_data(k):
    make(k, "/tmp/f", b"x" * 5000)
    assert link(k, "/tmp/f", "/tmp/g") == 0
    assert k.unlink("/tmp/f") == 0
    assert k.stat("/tmp/f") == -E.ENOENT
    assert k.stat("/tmp/g")["nlink"] == 1 and k.cat("/tmp/g") == b"x" * 5000
    # the first name is gone; a new file may take it, distinct from the old inode
    make(k, "/tmp/f", b"new")
    assert k.stat("/tmp/f")["ino"] != k.stat("/tmp/g")["ino"]
    assert k.cat("/tmp/g") == b"x" * 5000
    assert k.unlink("/tmp/g") == 0 and sysfs.tmpfs_frames() == 1


def test_open_file_keeps_the_inode_after_the_last_name(k):
    make(k, "/tmp/f", b"y" * 9000)
    assert link(k, "/tmp/f", "/tmp/g") == 0
    fd = k.open("/tmp/g", O_RDWR)
    assert k.unlink("/tmp/g") == 0 and k.unlink("/tmp/f") == 0
    assert k.fstat(fd)["nlink"] == 0
    assert k.pread(fd, 3, 8997) == b"yyy" and sysfs.tmpfs_frames() == 3
    # a file without a name cannot get one back (no O_TMPFILE here)
    assert k.call("linkat", fd, k.cstr(""), AT_FDCWD, k.cstr("/tmp/h"), AT_EMPTY_PATH) == -E.ENOENT
    assert k.close(fd) == 0 and sysfs.tmpfs_frames() == 0


def test_names_and_inodes_are_freed(k):
    make(k, "/tmp/base", b"z")
    before = heap.stats()
    make(k, "/tmp/f", b"data")
    for i in range(20):
        assert link(k, "/tmp/f", f"/tmp/l{i}") == 0
    assert k.stat("/tmp/f")["nlink"] == 21
    assert k.unlink("/tmp/f") == 0                      # the inode's own first name first
    for i in range(20):
        assert k.unlink(f"/tmp/l{i}") == 0
    assert sysfs.tmpfs_frames() == 1
    after = heap.stats()
    assert after == before
    assert heap.check() == 0


def test_rename_between_names_of_one_file(k):
    make(k, "/tmp/a", b"A")
    make(k, "/tmp/o", b"O")
    assert link(k, "/tmp/a", "/tmp/b") == 0
    assert k.rename("/tmp/a", "/tmp/b") == 0           # same file: nothing happens
    assert k.stat("/tmp/a")["nlink"] == 2 and k.stat("/tmp/b")["nlink"] == 2
    assert k.rename("/tmp/b", "/tmp/c") == 0           # a link entry moves
    assert k.stat("/tmp/b") == -E.ENOENT and k.stat("/tmp/c")["ino"] == k.stat("/tmp/a")["ino"]
    fd = k.open("/tmp/o")
    assert k.rename("/tmp/c", "/tmp/o") == 0           # over another file, which keeps its fd
    assert k.fstat(fd)["nlink"] == 0 and k.pread(fd, 1, 0) == b"O"
    assert k.stat("/tmp/o")["ino"] == k.stat("/tmp/a")["ino"] and k.stat("/tmp/a")["nlink"] == 2
    assert k.mkdir("/tmp/d") == 0
    assert k.rename("/tmp/o", "/tmp/d/o") == 0
    assert k.unlink("/tmp/a") == 0
    assert k.cat("/tmp/d/o") == b"A" and k.stat("/tmp/d/o")["nlink"] == 1
    assert k.rename("/tmp/d/o", "/tmp/a") == 0 and k.cat("/tmp/a") == b"A"


def test_rename_over_a_directory_name_of_a_link(k):
    make(k, "/tmp/f")
    assert link(k, "/tmp/f", "/tmp/g") == 0
    assert k.mkdir("/tmp/d") == 0
    assert k.rename("/tmp/g", "/tmp/d") == -E.EISDIR
    assert k.rename("/tmp/d", "/tmp/g") == -E.ENOTDIR
    assert k.rmdir("/tmp/g") == -E.ENOTDIR
    assert k.call("unlinkat", AT_FDCWD, k.cstr("/tmp/g"), AT_REMOVEDIR) == -E.ENOTDIR


def test_symlinks_linked_and_followed(k):
    make(k, "/tmp/f")
    assert k.symlink("f", "/tmp/s") == 0
    assert link(k, "/tmp/s", "/tmp/s2") == 0                 # the symlink itself
    assert k.lstat("/tmp/s2")["mode"] & 0o170000 == 0o120000
    assert k.lstat("/tmp/s")["nlink"] == 2
    assert k.readlink("/tmp/s2") == b"f"
    assert k.cat("/tmp/s2") == b""                            # a link to a symlink still resolves
    assert linkat(k, AT_FDCWD, "/tmp/s", AT_FDCWD, "/tmp/s3", AT_SYMLINK_FOLLOW) == 0
    assert k.stat("/tmp/s3")["ino"] == k.stat("/tmp/f")["ino"]
    assert k.symlink("/tmp/nope", "/tmp/dl") == 0
    assert linkat(k, AT_FDCWD, "/tmp/dl", AT_FDCWD, "/tmp/x", AT_SYMLINK_FOLLOW) == -E.ENOENT
    assert set(k.listdir("/tmp")) == {".", "..", "f", "s", "s2", "s3", "dl"}


# -- errors, in Linux's order

def test_errors(k):
    make(k, "/tmp/f")
    assert k.mkdir("/tmp/d") == 0
    assert link(k, "/tmp/f", "/tmp/d") == -E.EEXIST
    assert link(k, "/tmp/f", "/tmp/d/.") == -E.EEXIST
    assert link(k, "/tmp/f", "/tmp/d/..") == -E.EEXIST
    assert link(k, "/tmp/f", "/") == -E.EEXIST
    assert link(k, "/tmp/nope", "/tmp/x") == -E.ENOENT
    assert link(k, "/tmp/f/", "/tmp/x") == -E.ENOTDIR
    assert link(k, "/tmp/f", "/tmp/x/") == -E.ENOENT
    assert link(k, "/tmp/f", "/tmp/f/") == -E.EEXIST
    assert link(k, "/tmp/f", "/tmp/nodir/x") == -E.ENOENT
    assert link(k, "/tmp/d", "/tmp/d2") == -E.EPERM
    assert link(k, "/tmp/nope", "/tmp/nodir/x") == -E.ENOENT         # the old name first
    assert k.call("link", BAD_PTR, k.cstr("/tmp/x")) == -E.EFAULT
    assert k.call("link", k.cstr("/tmp/f"), BAD_PTR) == -E.EFAULT
    assert k.call("link", k.cstr("/tmp/nope"), BAD_PTR) == -E.ENOENT
    assert link(k, "", "/tmp/x") == -E.ENOENT
    assert linkat(k, AT_FDCWD, "/tmp/f", AT_FDCWD, "/tmp/x", 1) == -E.EINVAL
    assert linkat(k, 99, "f", AT_FDCWD, "/tmp/x") == -E.EBADF
    assert linkat(k, AT_FDCWD, "/tmp/nope", 99, "x") == -E.ENOENT
    assert linkat(k, AT_FDCWD, "/tmp/f", 99, "x") == -E.EBADF
    assert k.stat("/tmp/x") == -E.ENOENT and k.stat("/tmp/f")["nlink"] == 1


def test_read_only_root_and_other_filesystems(k):
    make(k, "/tmp/f")
    assert link(k, "/etc/hosts", "/etc/hosts2") == -E.EROFS
    assert link(k, "/tmp/f", "/etc/f") == -E.EROFS                 # EROFS before EXDEV
    assert link(k, "/etc/hosts", "/etc/hostname") == -E.EEXIST     # EEXIST before EROFS
    assert link(k, "/etc/hosts", "/etc/x/") == -E.ENOENT           # trailing slash before EROFS
    assert link(k, "/etc/hosts", "/tmp/hosts") == -E.EXDEV
    assert link(k, "/etc", "/tmp/etc") == -E.EXDEV                 # EXDEV before EPERM
    assert link(k, "/dev/null", "/tmp/null") == -E.EXDEV
    assert link(k, "/tmp/f", "/dev/f") == -E.EROFS
    # the console (fd 0) has a node outside every filesystem
    assert k.call("linkat", 0, k.cstr(""), AT_FDCWD, k.cstr("/tmp/c"), AT_EMPTY_PATH) == -E.EXDEV


def test_removed_directory(k):
    make(k, "/tmp/f")
    assert k.mkdir("/tmp/r") == 0
    dfd = k.open("/tmp/r", O_DIRECTORY)
    assert k.rmdir("/tmp/r") == 0
    assert linkat(k, AT_FDCWD, "/tmp/f", dfd, "x") == -E.ENOENT
    assert k.stat("/tmp/f")["nlink"] == 1


def test_at_empty_path_and_dirfds(k):
    make(k, "/tmp/f", b"kept")
    fd = k.open("/tmp/f")
    assert k.call("linkat", fd, k.cstr(""), AT_FDCWD, k.cstr("/tmp/g"), 0) == -E.ENOENT
    assert k.call("linkat", fd, k.cstr(""), AT_FDCWD, k.cstr("/tmp/g"), AT_EMPTY_PATH) == 0
    assert k.cat("/tmp/g") == b"kept" and k.stat("/tmp/f")["nlink"] == 2
    pfd = k.open("/tmp/f", O_PATH)
    assert k.call("linkat", pfd, k.cstr(""), AT_FDCWD, k.cstr("/tmp/h"), AT_EMPTY_PATH) == 0
    dfd = k.open("/tmp", O_DIRECTORY)
    assert k.call("linkat", dfd, k.cstr(""), AT_FDCWD, k.cstr("/tmp/i"), AT_EMPTY_PATH) == -E.EPERM
    assert linkat(k, dfd, "f", dfd, "rel") == 0 and k.stat("/tmp/rel")["nlink"] == 4
    assert linkat(k, fd, "f", AT_FDCWD, "/tmp/j") == -E.ENOTDIR
    assert k.chdir("/tmp") == 0
    assert link(k, "f", "cwdrel") == 0 and k.stat("/tmp/cwdrel")["nlink"] == 5
    assert k.call("linkat", AT_FDCWD, k.cstr(""), AT_FDCWD, k.cstr("k"), AT_EMPTY_PATH) == -E.EPERM
    assert k.call("linkat", 99, k.cstr(""), AT_FDCWD, k.cstr("k"), AT_EMPTY_PATH) == -E.EBADF
