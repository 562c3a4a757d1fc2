"""The Tyn root filesystem: layout, init configuration, and a deterministic cpio (newc) writer.

Layout (docs/IMAGE.md has the full description):

    /otp/erts-<vsn>/bin/beam.smp, erl_child_setup   stripped static binaries
    /otp/lib/<app>-<vsn>/{ebin,priv}                OTP (and Elixir) applications
    /otp/bin/*.boot, /otp/releases/...              boot scripts, release data
    /app/...                                        the application (demo, added files)
    /etc/hosts, /etc/resolv.conf, /etc/hostname
    /etc/tyn/argv                                   init's argv, one argument per line
    /etc/tyn/env                                    init's environment, KEY=VALUE per line
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from tyn.build.cpio import Member, NewcWriter

OTP_ROOT = "/otp"
APP_ROOT = "/app"
TYN_ETC = "/etc/tyn"
ARGV_FILE = f"{TYN_ETC}/argv"
ENV_FILE = f"{TYN_ETC}/env"
CONSOLE_FILE = f"{TYN_ETC}/console"   # "interactive": the console is a terminal the guest drives (tyn.run)
HOSTNAME_FILE = "/etc/hostname"
DIR_MODE = stat.S_IFDIR | 0o755
FILE_MODE = stat.S_IFREG | 0o644
EXEC_MODE = stat.S_IFREG | 0o755
LINK_MODE = stat.S_IFLNK | 0o777
# Native code cannot be loaded by a static beam.smp (musl's dlopen is a stub).
SKIPPED_SUFFIXES = (".so", ".a", ".o", ".dll")
BEAM_SUFFIX = ".beam"


class RootfsError(Exception):
    pass


def encode_argv(argv: list[str]) -> bytes:
    """One argument per line; '\\' is written '\\\\' and a newline '\\n'."""
    return b"".join(a.replace("\\", "\\\\").replace("\n", "\\n").encode() + b"\n" for a in argv)


def decode_argv(blob: bytes) -> list[str]:
    out = []
    for line in blob.decode().split("\n")[:-1]:
        arg, i = [], 0
        while i < len(line):
            if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in "\\n":
                arg.append("\n" if line[i + 1] == "n" else "\\")
                i += 2
            else:
                arg.append(line[i])
                i += 1
        out.append("".join(arg))
    return out


def encode_env(env: dict[str, str]) -> bytes:
    for k, v in env.items():
        if not k or "=" in k or "\n" in k or "\n" in v:
            raise RootfsError(f"environment entry {k!r} cannot be written to {ENV_FILE}")
    return b"".join(f"{k}={v}\n".encode() for k, v in env.items())


def decode_env(blob: bytes) -> dict[str, str]:
    return dict(line.split("=", 1) for line in blob.decode().splitlines() if "=" in line)


@dataclass
class _Entry:
    mode: int
    data: bytes | None = None
    host: Path | None = None


class Rootfs:
    """A file tree to be written as a cpio; guest paths are absolute ("/otp/bin/x").

    `beam_filter`, when given, maps each host .beam file added to the host file the image
    carries instead (tyn.build.beamstrip's stripped copy)."""

    def __init__(self, beam_filter: Callable[[Path], Path] | None = None):
        self.entries: dict[str, _Entry] = {}
        self.parts: dict[str, int] = {}     # size accounting: part name -> bytes of file data
        self.apps: dict[str, int] = {}      # application dir name -> bytes of file data
        self.beam_filter = beam_filter

    @staticmethod
    def _key(guest: str) -> str:
        p = PurePosixPath(guest)
        if not p.is_absolute() or ".." in p.parts or str(p) == "/":
            raise RootfsError(f"guest path {guest!r} must be absolute, below / and without '..'")
        return str(p)[1:]

    def _parents(self, key: str) -> None:
        parent = PurePosixPath(key).parent
        while str(parent) != ".":
            e = self.entries.get(str(parent))
            if e is not None and not stat.S_ISDIR(e.mode):
                raise RootfsError(f"/{parent} is a file, cannot hold /{key}")
            self.entries.setdefault(str(parent), _Entry(DIR_MODE))
            parent = parent.parent

    def _account(self, part: str, n: int) -> None:
        self.parts[part] = self.parts.get(part, 0) + n

    def add_dir(self, guest: str) -> None:
        key = self._key(guest)
        self._parents(key)
        self.entries.setdefault(key, _Entry(DIR_MODE))

    def add_bytes(self, guest: str, data: bytes, part: str = "etc", mode: int = FILE_MODE) -> None:
        key = self._key(guest)
        self._parents(key)
        old = self.entries.get(key)
        if old is not None and stat.S_ISDIR(old.mode):
            raise RootfsError(f"/{key} is a directory")
        self.entries[key] = _Entry(mode, data=data)
        self._account(part, len(data))

    def add_file(self, guest: str, host: Path, part: str, app: str | None = None) -> None:
        key = self._key(guest)
        self._parents(key)
        mode = EXEC_MODE if host.stat().st_mode & 0o111 else FILE_MODE
        if self.beam_filter is not None and guest.endswith(BEAM_SUFFIX):
            host = self.beam_filter(host)
        self.entries[key] = _Entry(mode, host=host)
        size = host.stat().st_size
        self._account(part, size)
        if app is not None:
            self.apps[app] = self.apps.get(app, 0) + size

    def add_tree(self, guest: str, host: Path, part: str, skip_native: bool = True,
                 app: str | None = None) -> None:
        """Copy a host directory (following symlinks inside it) to `guest`; `app` names the
        application the files are accounted to."""
        if not host.is_dir():
            raise RootfsError(f"{host} is not a directory")
        self.add_dir(guest)
        for dirpath, dirnames, filenames in os.walk(host, followlinks=True):
            dirnames.sort()
            rel = Path(dirpath).relative_to(host)
            gdir = guest if str(rel) == "." else f"{guest}/{rel.as_posix()}"
            self.add_dir(gdir)
            for f in sorted(filenames):
                if skip_native and f.endswith(SKIPPED_SUFFIXES):
                    continue
                hp = Path(dirpath) / f
                if hp.is_symlink() and not hp.exists():
                    raise RootfsError(f"{hp}: dangling symlink to {os.readlink(hp)} "
                                      "(an image carries what a link points to, or fails)")
                if hp.is_file():
                    self.add_file(f"{gdir}/{f}", hp, part, app)

    def exists(self, guest: str) -> bool:
        return self._key(guest) in self.entries

    def members(self):
        for key in sorted(self.entries):
            e = self.entries[key]
            data = e.data if e.data is not None else (e.host.read_bytes() if e.host else b"")
            yield Member(key, e.mode, data)

    def write(self, out: Path) -> int:
        """Write the cpio atomically (temp file in the same directory, then rename); no partial
        file remains on error.  Returns its size."""
        out = Path(out)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                w = NewcWriter(f)
                for m in self.members():
                    w.add(m)
                w.finish()
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, out)
            return w.size
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise


def is_no_space(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)
