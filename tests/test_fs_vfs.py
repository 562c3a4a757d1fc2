"""The file syscalls over the cpio root, /tmp (tmpfs), /dev and the console: semantics and
every errno path, with user pointers checked (a pointer outside the user window: EFAULT)."""

from __future__ import annotations

import errno as E
import os
import struct

import pytest

from fs_support import AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, BIG, Kernel, D, F, L
from tyn.twins import machine
from tyn.twins import sysfs_twin as sysfs

O_RDONLY, O_WRONLY, O_RDWR = 0, 1, 2
O_CREAT, O_EXCL, O_TRUNC, O_APPEND = 0o100, 0o200, 0o1000, 0o2000
O_NONBLOCK, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH = 0o4000, 0o200000, 0o400000, 0o2000000, 0o10000000
O_LARGEFILE = 0o100000
BAD_PTR = 0x1000          # never inside the user window


@pytest.fixture
def k():
    return Kernel()


def test_boot_state(k):
    assert k.mount_rc == 0
    assert k.getcwd() == "/"
    # fds 0-2 are the console
    for fd in range(3):
        s = k.fstat(fd)
        assert s["mode"] == 0o020620 and s["rdev"] == (5 << 8) | 1
    assert k.open("/etc/hosts") == 3


def test_read_files_from_archive(k):
    assert k.cat("/etc/hosts") == b"127.0.0.1 localhost\n"
    assert k.cat("/etc/big") == BIG
    assert k.cat("//etc///./hosts") == b"127.0.0.1 localhost\n"
    assert k.cat("/otp/../etc/hosts") == b"127.0.0.1 localhost\n"
    assert k.cat("/../../etc/hosts") == b"127.0.0.1 localhost\n"     # ".." at the root stays there
    fd = k.open("/etc/big")
    assert k.pread(fd, 10, 9995) == BIG[9995:]
    assert k.pread(fd, 10, 20000) == b""
    assert k.lseek(fd, -5, 2) == 9995 and k.read(fd, 100) == BIG[-5:]
    assert k.lseek(fd, 1 << 40, 0) == 1 << 40 and k.read(fd, 10) == b""
    assert k.lseek(fd, -1, 0) == -E.EINVAL
    assert k.lseek(fd, 0, 5) == -E.EINVAL
    assert k.lseek(fd, 9999, 3) == 9999 and k.lseek(fd, 10000, 3) == -E.ENXIO    # SEEK_DATA
    assert k.lseek(fd, 5, 4) == 10000                                             # SEEK_HOLE


def test_relative_paths_and_cwd(k):
    assert k.chdir("/etc") == 0 and k.getcwd() == "/etc"
    assert k.cat("hosts") == b"127.0.0.1 localhost\n"
    assert k.cat("../etc/./hostname") == b"tyn.local\n"
    assert k.chdir("..") == 0 and k.getcwd() == "/"
    assert k.chdir("/etc/hosts") == -E.ENOTDIR
    assert k.chdir("/nope") == -E.ENOENT
    assert k.chdir("/tmp") == 0 and k.getcwd() == "/tmp"
    assert k.chdir("..") == 0 and k.getcwd() == "/"      # out of the tmpfs mount
    fd = k.open("/app/ebin", O_DIRECTORY)
    assert k.call("fchdir", fd) == 0 and k.getcwd() == "/app/ebin"
    assert k.call("fchdir", k.open("/etc/hosts")) == -E.ENOTDIR
    assert k.call("fchdir", 99) == -E.EBADF


def test_getcwd_erange_and_efault(k):
    k.chdir("/app/ebin")
    assert k.getcwd(10) == "/app/ebin"
    assert k.getcwd(9) == -E.ERANGE
    assert k.getcwd(0) == -E.ERANGE
    assert k.call("getcwd", BAD_PTR, 100) == -E.EFAULT


def test_getcwd_of_removed_directory(k):
    assert k.mkdir("/tmp/d") == 0 and k.chdir("/tmp/d") == 0
    assert k.rmdir("/tmp/d") == 0
    assert k.getcwd() == -E.ENOENT
    assert k.open("x", O_CREAT | O_WRONLY) == -E.ENOENT
    fd = k.open(".", O_DIRECTORY)
    assert fd >= 0 and k.getdents(fd) == -E.ENOENT


def test_symlinks(k):
    assert k.cat("/bin/beam.smp") == b"\x7fELF...."
    assert k.cat("/abs_hosts") == b"127.0.0.1 localhost\n"
    assert k.cat("/up/hosts") == b"127.0.0.1 localhost\n"
    assert k.cat("/etc/self/self/self/hosts") == b"127.0.0.1 localhost\n"
    assert k.readlink("/abs_hosts") == b"/etc/hosts"
    assert k.readlink("/abs_hosts", 4) == b"/etc"
    assert k.readlink("/etc/hosts") == -E.EINVAL
    assert k.readlink("/abs_hosts", 0) == -E.EINVAL
    assert k.call("readlink", k.cstr("/abs_hosts"), BAD_PTR, 100) == -E.EFAULT
    assert k.open("/loop1") == -E.ELOOP
    assert k.stat("/loop1") == -E.ELOOP
    assert k.lstat("/loop1")["mode"] == 0o120777
    assert k.lstat("/loop1")["size"] == 5
    assert k.open("/abs_hosts", O_NOFOLLOW) == -E.ELOOP
    assert k.open("/abs_hosts", O_PATH | O_NOFOLLOW) >= 0
    assert k.open("/bin/", O_DIRECTORY) >= 0
    assert k.stat("/abs_hosts/") == -E.ENOTDIR
    assert k.stat("/etc/hosts/") == -E.ENOTDIR
    assert k.stat("/etc/hosts/x") == -E.ENOTDIR


def test_elook_after_40_links():
    chain = [D("tmp")] + [L(f"l{i}", f"l{i + 1}") for i in range(45)] + [F("l45", b"end")]
    k = Kernel(chain)
    assert k.cat("/l6") == b"end"        # 39 links
    assert k.cat("/l5") == b"end"        # 40 links
    assert k.open("/l4") == -E.ELOOP     # 41 links


def test_dangling_symlink_creates_target(k):
    fd = k.open("/dangling", O_CREAT | O_WRONLY, 0o644)
    assert fd >= 0 and k.write(fd, b"via link") == 8
    assert k.cat("/tmp/created") == b"via link"
    assert k.open("/dangling", O_CREAT | O_EXCL | O_WRONLY) == -E.EEXIST


def test_enametoolong(k):
    assert k.open("/" + "a" * 4095) == -E.ENAMETOOLONG      # 4096 bytes + NUL > PATH_MAX
    assert k.open("/" + "a" * 4094) == -E.ENAMETOOLONG      # component > NAME_MAX
    assert k.open("/tmp/" + "a" * 256, O_CREAT) == -E.ENAMETOOLONG
    assert k.open("/tmp/" + "a" * 255, O_CREAT | O_WRONLY) >= 0
    deep = "/tmp/" + "/".join(["."] * 2045) + "/"           # 4095 bytes: fine
    assert len(deep) == 4095 and k.stat(deep)["mode"] & 0o170000 == 0o040000
    assert k.stat(deep + "/") == -E.ENAMETOOLONG


def test_efault_paths(k):
    for name, args in [("open", (BAD_PTR, 0, 0)), ("stat", (BAD_PTR, k.alloc(144))), ("chdir", (BAD_PTR,)),
                       ("mkdir", (BAD_PTR, 0o755)), ("unlink", (BAD_PTR,)), ("rmdir", (BAD_PTR,)),
                       ("access", (BAD_PTR, 0)), ("rename", (BAD_PTR, k.cstr("/tmp/x"))),
                       ("truncate", (BAD_PTR, 0)), ("readlink", (BAD_PTR, k.alloc(10), 10))]:
        assert k.call(name, *args) == -E.EFAULT, name
    fd = k.open("/etc/hosts")
    assert k.call("read", fd, BAD_PTR, 5) == -E.EFAULT
    assert k.call("fstat", fd, BAD_PTR) == -E.EFAULT
    assert k.call("stat", k.cstr("/etc/hosts"), BAD_PTR) == -E.EFAULT
    assert k.call("getdents64", k.open("/etc"), BAD_PTR, 4096) == -E.EFAULT
    wfd = k.open("/tmp/f", O_CREAT | O_RDWR)
    assert k.call("write", wfd, BAD_PTR, 5) == -E.EFAULT
    assert k.call("write", 1, BAD_PTR, 5) == -E.EFAULT
    assert k.call("readv", fd, BAD_PTR, 1) == -E.EFAULT
    # a buffer running off the end of the window: the pages before the fault are copied
    end = k.base + (1 << 20)
    expect = (end & ~4095) - (end - 4096)
    assert k.call("read", k.open("/etc/big"), end - 4096, 8192) == expect
    assert k.get(end - 4096, expect) == BIG[:expect]


def test_empty_path(k):
    assert k.open("") == -E.ENOENT
    assert k.stat("") == -E.ENOENT
    fd = k.open("/etc/hosts")
    s = k.fstatat(fd, "", AT_EMPTY_PATH)
    assert s["size"] == 20
    assert k.fstatat(AT_FDCWD, "", AT_EMPTY_PATH)["ino"] == k.stat("/")["ino"]
    assert k.fstatat(fd, "x", 0x4000) == -E.EINVAL


def test_readonly_root(k):
    for flags in (O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_WRONLY | O_CREAT):
        assert k.open("/etc/hosts", flags) == -E.EROFS, flags
    assert k.open("/etc/new", O_CREAT | O_WRONLY) == -E.EROFS
    assert k.open("/etc/hosts", O_CREAT | O_RDONLY) >= 0              # exists: no write needed
    assert k.open("/etc/hosts", O_CREAT | O_EXCL) == -E.EEXIST
    assert k.mkdir("/etc") == -E.EEXIST
    assert k.mkdir("/newdir") == -E.EROFS
    assert k.rmdir("/etc") == -E.EROFS
    assert k.rmdir("/nonexistent") == -E.EROFS
    assert k.unlink("/etc/hosts") == -E.EROFS
    assert k.rename("/etc/hosts", "/etc/h2") == -E.EROFS
    assert k.rename("/etc/hosts", "/tmp/h") == -E.EXDEV
    assert k.truncate("/etc/hosts", 0) == -E.EROFS
    assert k.truncate("/etc", 0) == -E.EISDIR
    assert k.symlink("x", "/etc/l") == -E.EROFS
    assert k.access("/etc/hosts", 2) == -E.EROFS
    assert k.access("/etc/hosts", 4) == 0
    assert k.access("/dev/null", 6) == 0
    assert k.call("ftruncate", k.open("/etc/hosts"), 0) == -E.EINVAL


def test_access_modes(k):
    assert k.access("/otp/bin/beam.smp", 1) == 0
    assert k.access("/etc/hosts", 1) == -E.EACCES       # root still needs an x bit on files
    assert k.access("/etc", 1) == 0
    assert k.access("/app/notes.txt", 4) == 0           # mode 0600: root reads anyway
    assert k.access("/nope", 0) == -E.ENOENT
    assert k.access("/etc/hosts", 8) == -E.EINVAL
    assert k.call("faccessat2", AT_FDCWD, k.cstr("/loop1"), 0, AT_SYMLINK_NOFOLLOW) == 0
    assert k.call("faccessat2", AT_FDCWD, k.cstr("/loop1"), 0, 0) == -E.ELOOP
    assert k.call("faccessat2", AT_FDCWD, k.cstr("/etc"), 0, 0x8) == -E.EINVAL


def test_open_flag_errors(k):
    assert k.open("/etc", O_WRONLY) == -E.EISDIR
    assert k.open("/etc", O_RDONLY | O_CREAT) == -E.EISDIR
    assert k.open("/etc/hosts", O_DIRECTORY) == -E.ENOTDIR
    assert k.open("/tmp/x", O_CREAT | O_DIRECTORY) == -E.EINVAL
    assert k.open("/nope/x", O_CREAT) == -E.ENOENT
    assert k.open("/etc/hosts/x", O_CREAT) == -E.ENOTDIR
    O_TMPFILE = 0o20200000
    assert k.open("/tmp/x", O_TMPFILE | O_RDWR) == -E.ENOENT           # the directory is missing
    assert k.open("/etc", O_TMPFILE | O_RDWR) == -E.EROFS              # the read-only root
    assert k.open("/tmp", O_TMPFILE) == -E.EINVAL                      # no write access asked
    assert k.open("/tmp", O_TMPFILE | O_RDWR) >= 0                     # tmpfs: an unnamed file
    fd = k.open("/etc")
    assert k.read(fd, 10) == -E.EISDIR
    assert k.write(fd, b"x") == -E.EBADF
    fd = k.open("/etc/hosts", O_PATH)
    assert k.read(fd, 1) == -E.EBADF and k.fstat(fd)["size"] == 20
    assert k.call("fcntl", fd, 3, 0) & O_PATH


def test_tmpfs_files(k):
    fd = k.open("/tmp/f", O_CREAT | O_RDWR, 0o666)
    assert k.fstat(fd)["mode"] == 0o100644          # umask 022
    assert k.pwrite(fd, b"end", 100000) == 3        # hole
    assert k.fstat(fd)["size"] == 100003
    assert k.pread(fd, 6, 99998) == b"\0\0end"
    assert k.pread(fd, 4, 4096) == b"\0" * 4
    assert k.fstat(fd)["blocks"] == 8              # one page allocated
    assert k.call("ftruncate", fd, 99999) == 0
    assert k.pread(fd, 10, 99995) == b"\0\0\0\0"
    assert k.call("ftruncate", fd, 100003) == 0
    assert k.pread(fd, 10, 99995) == b"\0" * 8     # shrunk-away bytes stay zero
    assert k.call("ftruncate", fd, -1) == -E.EINVAL
    afd = k.open("/tmp/f", O_WRONLY | O_APPEND)
    assert k.write(afd, b"++") == 2 and k.fstat(fd)["size"] == 100005
    assert k.pwrite(afd, b"!", 0) == 1 and k.fstat(fd)["size"] == 100006     # Linux: pwrite appends
    assert k.open("/tmp/f", O_WRONLY | O_TRUNC) >= 0 and k.fstat(fd)["size"] == 0
    assert k.lseek(1, 0, 0) == -E.ESPIPE


def test_unlinked_file_stays_readable_until_closed(k):
    fd = k.open("/tmp/f", O_CREAT | O_RDWR)
    assert k.write(fd, b"x" * 20000) == 20000
    used = sysfs.tmpfs_frames()
    assert used == 5
    fd2 = k.call("dup", fd)
    assert k.unlink("/tmp/f") == 0
    assert k.stat("/tmp/f") == -E.ENOENT
    assert k.fstat(fd)["nlink"] == 0
    assert k.pread(fd, 3, 19997) == b"xxx"
    assert k.close(fd) == 0 and sysfs.tmpfs_frames() == used
    assert k.pread(fd2, 1, 0) == b"x"
    assert k.close(fd2) == 0 and sysfs.tmpfs_frames() == 0


def test_directories(k):
    assert k.mkdir("/tmp/d", 0o777) == 0
    assert k.stat("/tmp/d")["mode"] == 0o40755 and k.stat("/tmp")["nlink"] == 3
    assert k.mkdir("/tmp/d") == -E.EEXIST
    assert k.mkdir("/tmp/d/e/f") == -E.ENOENT
    assert k.open("/tmp/d/file", O_CREAT) >= 0
    assert k.rmdir("/tmp/d") == -E.ENOTEMPTY
    assert k.rmdir("/tmp/d/file") == -E.ENOTDIR
    assert k.rmdir("/tmp/d/.") == -E.EINVAL
    assert k.rmdir("/tmp/d/..") == -E.ENOTEMPTY
    assert k.rmdir("/") == -E.EBUSY
    assert k.unlink("/tmp/d") == -E.EISDIR
    assert k.unlink("/tmp/d/file/") == -E.ENOTDIR
    assert k.call("unlinkat", AT_FDCWD, k.cstr("/tmp/d/file"), 1) == -E.EINVAL
    assert k.call("unlinkat", AT_FDCWD, k.cstr("/tmp/d/file"), 0) == 0
    assert k.call("unlinkat", AT_FDCWD, k.cstr("/tmp/d"), AT_REMOVEDIR) == 0
    assert k.stat("/tmp")["nlink"] == 2


def test_getdents(k):
    names = k.listdir("/etc")
    assert names == [".", "..", "hosts", "hostname", "big", "self"]
    fd = k.open("/etc", O_DIRECTORY)
    ents = k.getdents(fd)
    kinds = {n: t for _, _, t, n in ents}
    assert kinds == {".": 4, "..": 4, "hosts": 8, "hostname": 8, "big": 8, "self": 10}
    assert {n: i for i, _, _, n in ents}["hosts"] == k.stat("/etc/hosts")["ino"]
    assert k.getdents(fd) == []
    # resume through a small buffer: one record per call
    fd = k.open("/etc", O_DIRECTORY)
    got = []
    while (ents := k.getdents(fd, 32)):
        assert len(ents) == 1
        got += [e[3] for e in ents]
    assert got == names
    fd = k.open("/etc", O_DIRECTORY)
    assert k.getdents(fd, 10) == -E.EINVAL
    assert k.getdents(k.open("/etc/hosts"), 4096) == -E.ENOTDIR
    assert k.getdents(99, 4096) == -E.EBADF
    # d_off of an entry resumes after it
    fd = k.open("/etc", O_DIRECTORY)
    ents = k.getdents(fd)
    k.lseek(fd, ents[2][1], 0)
    assert [e[3] for e in k.getdents(fd)] == names[3:]
    # /tmp lists the tmpfs root; ".." from there is the cpio root
    assert k.listdir("/tmp") == [".", ".."]
    assert k.getdents(k.open("/tmp"))[1][0] == k.stat("/")["ino"]
    # entries removed while listing are skipped, not repeated
    for n in "abcdef":
        k.open(f"/tmp/{n}", O_CREAT)
    fd = k.open("/tmp", O_DIRECTORY)
    first = k.getdents(fd, 24 * 4)
    k.unlink("/tmp/e")
    rest = k.getdents(fd)
    names = [e[3] for e in first + rest]
    assert sorted(names) == [".", "..", "a", "b", "c", "d", "f"]


def test_stat_layout(k):
    machine.console()
    s = k.stat("/otp/bin/beam.smp")
    assert s["mode"] == 0o100755 and s["size"] == 8 and s["nlink"] == 1 and s["dev"] == 1
    assert s["blksize"] == 4096 and s["uid"] == 0 and s["gid"] == 0
    assert k.stat("/etc")["nlink"] == 2 and k.stat("/")["nlink"] == 7       # app etc otp tmp dev
    assert k.stat("/tmp")["dev"] != k.stat("/")["dev"]
    assert k.stat("/dev/null")["rdev"] == (1 << 8) | 3
    sysfs.use_fixed_clock()
    fd = k.open("/tmp/t", O_CREAT | O_WRONLY)
    s = k.fstat(fd)
    assert (s["mtime"], s["mtime_nsec"], s["ctime"]) == (1700000000, 123456789, 1700000000)


def test_statx(k):
    buf = k.alloc(256)
    assert k.call("statx", AT_FDCWD, k.cstr("/etc/big"), 0, 0x7ff, buf) == 0
    raw = k.get(buf, 256)
    mask, blksize = struct.unpack_from("<II", raw, 0)
    nlink, uid, gid, mode = struct.unpack_from("<IIIH", raw, 0x10)
    ino, size = struct.unpack_from("<QQ", raw, 0x20)
    dev_major, dev_minor = struct.unpack_from("<II", raw, 0x88)
    assert mask & 0x7ff == 0x7ff and blksize == 4096 and mode == 0o100644 and size == 10000
    assert ino == k.stat("/etc/big")["ino"] and (dev_major, dev_minor) == (0, 1) and nlink == 1
    assert k.call("statx", AT_FDCWD, k.cstr("/etc/big"), 0, 0x80000000, buf) == -E.EINVAL
    assert k.call("statx", AT_FDCWD, k.cstr("/etc/big"), 0x6000, 0, buf) == -E.EINVAL
    assert k.call("statx", AT_FDCWD, k.cstr("/nope"), 0, 0x7ff, buf) == -E.ENOENT
    assert k.call("statx", AT_FDCWD, k.cstr("/loop1"), AT_SYMLINK_NOFOLLOW, 0x7ff, buf) == 0
    fd = k.open("/etc/hosts")
    assert k.call("statx", fd, 0, AT_EMPTY_PATH, 0x7ff, buf) == 0
    assert struct.unpack_from("<Q", k.get(buf, 256), 0x28)[0] == 20


def test_openat_dirfd(k):
    d = k.open("/etc", O_DIRECTORY)
    assert k.openat(d, "hosts") >= 0
    assert k.openat(d, "/app/notes.txt") >= 0          # absolute: dirfd ignored
    assert k.openat(99, "hosts") == -E.EBADF
    assert k.openat(99, "/etc/hosts") >= 0
    assert k.openat(k.open("/etc/hosts"), "x") == -E.ENOTDIR
    t = k.open("/tmp", O_DIRECTORY)
    assert k.call("mkdirat", t, k.cstr("sub"), 0o700) == 0
    assert k.call("renameat", t, k.cstr("sub"), d, k.cstr("sub")) == -E.EXDEV
    assert k.call("renameat2", t, k.cstr("sub"), t, k.cstr("sub2"), 2) == -E.EINVAL   # RENAME_EXCHANGE
    assert k.call("renameat2", t, k.cstr("sub"), t, k.cstr("sub2"), 0) == 0
    assert k.call("symlinkat", k.cstr("sub2"), t, k.cstr("ln")) == 0
    buf = k.alloc(64)
    assert k.call("readlinkat", t, k.cstr("ln"), buf, 64) == 4 and k.get(buf, 4) == b"sub2"


def test_readv_writev(k):
    fd = k.open("/tmp/v", O_CREAT | O_RDWR)
    a, b = k.put(b"hello "), k.put(b"world")
    assert k.call("writev", fd, k.iov([(a, 6), (b, 5)]), 2) == 11
    assert k.call("pwritev", fd, k.iov([(b, 5)]), 1, 20) == 5
    x, y = k.alloc(4), k.alloc(100)
    assert k.call("preadv", fd, k.iov([(x, 4), (y, 100)]), 2, 0) == 25
    assert k.get(x, 4) == b"hell" and k.get(y, 21) == b"o world" + b"\0" * 9 + b"world"
    k.lseek(fd, 0)
    assert k.call("readv", fd, k.iov([(x, 4)]), 1) == 4 and k.lseek(fd, 0, 1) == 4
    assert k.call("readv", fd, k.iov([(x, 4)]), 1025) == -E.EINVAL
    assert k.call("readv", fd, k.iov([(x, 4)]), 0) == 0
    assert k.call("readv", fd, k.iov([(x, 1 << 63)]), 1) == -E.EINVAL
    assert k.call("writev", 1, k.iov([(a, 6), (b, 5)]), 2) == 11
    assert machine.console().endswith(b"hello world")
    assert k.call("preadv", 1, k.iov([(x, 4)]), 1, 0) == -E.ESPIPE


def test_console(k):
    machine.console()
    assert k.write(1, b"line one\n") == 9 and k.write(2, b"err\n") == 4
    assert machine.console_raw() == b"line one\r\nerr\r\n"      # the tty's ONLCR
    assert k.call("ioctl", 1, 0x5401, k.alloc(64)) == 0             # TCGETS: a tty (tests/test_tty.py)
    assert k.lseek(0, 0, 0) == -E.ESPIPE
    assert k.pread(0, 1, 0) == -E.ESPIPE
    assert k.call("fcntl", 0, 4, O_NONBLOCK) == 0
    assert k.read(0, 10) == -E.EAGAIN
    machine.feed_uart(b"typed\n")
    assert k.read(0, 3) == b"typ" and k.read(0, 10) == b"ed\n"       # one line, canonical mode
    assert k.call("fcntl", 0, 3, 0) == O_RDWR | O_LARGEFILE | O_NONBLOCK


def test_ioctl(k):
    fd = k.open("/etc/hosts")
    arg = k.alloc(4)
    assert k.call("ioctl", fd, 0x5401, arg) == -E.ENOTTY
    k.lseek(fd, 5)
    assert k.call("ioctl", fd, 0x541B, arg) == 0 and struct.unpack("<i", k.get(arg, 4))[0] == 15   # FIONREAD
    sysfs.user_write(arg, struct.pack("<i", 1))
    assert k.call("ioctl", fd, 0x5421, arg) == 0 and k.call("fcntl", fd, 3, 0) & O_NONBLOCK       # FIONBIO
    assert k.call("ioctl", fd, 0x5451, 0) == 0 and k.call("fcntl", fd, 1, 0) == 1                  # FIOCLEX
    assert k.call("ioctl", fd, 0x5450, 0) == 0 and k.call("fcntl", fd, 1, 0) == 0                  # FIONCLEX
    assert k.call("ioctl", 77, 0x5401, arg) == -E.EBADF


def test_dev_nodes(k):
    n = k.open("/dev/null", O_RDWR)
    assert k.read(n, 100) == b"" and k.write(n, b"gone") == 4 and k.lseek(n, 5, 0) == 0
    z = k.open("/dev/zero")
    assert k.read(z, 5000) == b"\0" * 5000
    sysfs.use_counter_random()
    u = k.open("/dev/urandom")
    assert k.read(u, 300) == bytes(i & 0xFF for i in range(300))
    assert k.cat("/dev/nope") == -E.ENOENT
    assert k.open("/dev/newfile", O_CREAT) == -E.EROFS
    assert k.open("/proc/self/maps") == -E.ENOENT
    assert k.open("/sys/devices/system/cpu") == -E.ENOENT
    assert k.listdir("/dev") == [".", "..", "null", "zero", "random", "urandom", "console", "tty"]
    c = k.open("/dev/console", O_WRONLY)
    machine.console()
    assert k.write(c, b"hi") == 2 and machine.console() == b"hi"


def test_default_random_is_not_constant(k):
    u = k.open("/dev/urandom")
    a, b = k.read(u, 64), k.read(u, 64)
    assert a != b and len(set(a)) > 10


def test_rename_semantics(k):
    for p in ("/tmp/d", "/tmp/d/sub", "/tmp/e"):
        assert k.mkdir(p) == 0
    assert k.open("/tmp/f", O_CREAT) >= 0
    assert k.rename("/tmp/d", "/tmp/d/sub/x") == -E.EINVAL
    assert k.rename("/tmp/d/sub", "/tmp/d") == -E.ENOTEMPTY
    assert k.rename("/tmp/f", "/tmp/d") == -E.EISDIR
    assert k.rename("/tmp/d", "/tmp/f") == -E.ENOTDIR
    assert k.rename("/tmp/e", "/tmp/d") == -E.ENOTEMPTY
    assert k.rename("/tmp/d/sub", "/tmp/e") == 0               # over an empty directory
    assert k.listdir("/tmp/d") == [".", ".."]
    assert k.rename("/tmp/f", "/tmp/f") == 0
    assert k.rename("/tmp/nope", "/tmp/x") == -E.ENOENT
    assert k.rename("/tmp/f/", "/tmp/g") == -E.ENOTDIR
    assert k.rename("/tmp/.", "/tmp/x") == -E.EBUSY
    assert k.rename("/tmp", "/tmp2") == -E.EROFS
    fd = k.open("/tmp/g", O_CREAT | O_RDWR)
    k.write(fd, b"old")
    assert k.rename("/tmp/f", "/tmp/g") == 0                   # replaces; the open file lives on
    assert k.pread(fd, 3, 0) == b"old" and k.fstat(fd)["nlink"] == 0
    assert k.call("renameat2", AT_FDCWD, k.cstr("/tmp/e"), AT_FDCWD, k.cstr("/tmp/d"), 1) == -E.EEXIST
    k.chdir("/tmp/e")
    assert k.rename("/tmp/e", "/tmp/moved") == 0 and k.getcwd() == "/tmp/moved"


def test_umask(k):
    assert k.call("umask", 0o077) == 0o022
    assert k.call("umask", 0o1777) == 0o077
    assert k.call("umask", 0o022) == 0o777
    k.call("umask", 0o027)
    k.mkdir("/tmp/m", 0o777)
    assert k.stat("/tmp/m")["mode"] == 0o40750
    assert k.call("creat", k.cstr("/tmp/c"), 0o666) >= 0
    assert k.stat("/tmp/c")["mode"] == 0o100640


def test_empty_and_missing_archive():
    k = Kernel(members=None)
    assert k.mount_rc == 0
    assert k.listdir("/") == [".", "..", "tmp", "dev"]
    assert k.open("/tmp/x", O_CREAT | O_WRONLY) >= 0


def test_corrupt_archive_leaves_vfs_unmounted():
    k = Kernel(raw=b"070701" + b"0" * 50)
    assert k.mount_rc == -E.EINVAL
    assert b"cpiofs: truncated archive" in machine.console()


def test_tmp_not_a_directory():
    k = Kernel([F("tmp", b"file"), D("etc")])
    assert k.mount_rc == 0
    assert b"tmpfs not mounted" in machine.console()
    assert k.cat("/tmp") == b"file"
