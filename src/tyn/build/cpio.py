"""The "newc" cpio archive format (SVR4, no CRC): a deterministic writer and a strict reader.

Each member is a 110-byte ASCII header -- the magic "070701" and thirteen 8-digit hex
fields -- then the NUL-terminated name padded to a 4-byte boundary, then the data padded
to a 4-byte boundary.  The member named "TRAILER!!!" ends the archive.
"""

from __future__ import annotations

import posixpath
import stat
from dataclasses import dataclass
from typing import BinaryIO, Iterator

NEWC_MAGIC = b"070701"
NEWC_HEADER_SIZE = 110
NEWC_FIELDS = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
               "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check")
NEWC_ALIGN = 4
TRAILER_NAME = "TRAILER!!!"
MAX_NAME = 4096


class CpioError(Exception):
    """A malformed archive; the message names the problem and where it is."""


@dataclass(frozen=True)
class Member:
    name: str          # relative path, no leading "/" ("otp/bin/start.boot")
    mode: int          # st_mode, type bits included
    data: bytes = b""  # file content, or the target of a symlink
    mtime: int = 0

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.mode)

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.mode)


def _pad(n: int) -> int:
    return -n % NEWC_ALIGN


class NewcWriter:
    """Streams members to a binary file; uid/gid are 0 and mtimes as given (0 by default)."""

    def __init__(self, out: BinaryIO):
        self._out = out
        self._ino = 0
        self._names: set[str] = set()
        self.size = 0

    def _emit(self, name: str, mode: int, data: bytes, mtime: int, nlink: int) -> None:
        encoded = name.encode() + b"\0"
        self._ino += 1
        values = dict(ino=self._ino, mode=mode, uid=0, gid=0, nlink=nlink, mtime=mtime,
                      filesize=len(data), devmajor=0, devminor=0, rdevmajor=0, rdevminor=0,
                      namesize=len(encoded), check=0)
        header = NEWC_MAGIC + b"".join(b"%08X" % values[f] for f in NEWC_FIELDS)
        chunk = header + encoded + b"\0" * _pad(NEWC_HEADER_SIZE + len(encoded)) + data + b"\0" * _pad(len(data))
        self._out.write(chunk)
        self.size += len(chunk)

    def add(self, member: Member) -> None:
        name = _check_name(member.name, self.size)
        if name in self._names:
            raise CpioError(f"duplicate member {name!r}")
        if not (member.is_dir or member.is_file or member.is_symlink):
            raise CpioError(f"{name}: only directories, regular files and symlinks are supported")
        self._names.add(name)
        self._emit(name, member.mode, b"" if member.is_dir else member.data, member.mtime,
                   2 if member.is_dir else 1)

    def finish(self) -> None:
        self._ino = -1  # the trailer's ino is 0
        self._emit(TRAILER_NAME, 0, b"", 0, 1)


def _check_name(name: str, offset: int) -> str:
    if not name or name.startswith("/") or len(name) > MAX_NAME:
        raise CpioError(f"bad member name {name!r} at offset {offset}")
    norm = posixpath.normpath(name)
    if norm != name or name == "." or name.split("/")[0] == "..":
        raise CpioError(f"member name {name!r} at offset {offset} is not a normalised relative path")
    return name


def _parse_header(blob: bytes, off: int) -> dict[str, int]:
    header = blob[off:off + NEWC_HEADER_SIZE]
    if len(header) < NEWC_HEADER_SIZE:
        raise CpioError(f"truncated archive: header at offset {off} has {len(header)} of {NEWC_HEADER_SIZE} bytes")
    if header[:6] != NEWC_MAGIC:
        raise CpioError(f"bad magic {header[:6]!r} at offset {off} (not a newc cpio member)")
    fields = {}
    for i, f in enumerate(NEWC_FIELDS):
        raw = header[6 + 8 * i:14 + 8 * i]
        try:
            if not all(c in b"0123456789abcdefABCDEF" for c in raw):
                raise ValueError
            fields[f] = int(raw, 16)
        except ValueError:
            raise CpioError(f"bad {f} field {raw!r} in header at offset {off}") from None
    return fields


def iter_members(blob: bytes, strict: bool = True) -> Iterator[Member]:
    """Yield the members of a newc archive, checking everything: magic, hex fields, bounds,
    padding, names (relative, normalised, unique, parents listed first), file types, and the
    trailer followed by nothing but zero padding."""
    off = 0
    seen: set[str] = set()
    dirs: set[str] = set()
    while True:
        h = _parse_header(blob, off)
        name_start = off + NEWC_HEADER_SIZE
        namesize = h["namesize"]
        if namesize < 2 or namesize > MAX_NAME + 1:
            raise CpioError(f"bad name size {namesize} in header at offset {off}")
        name_end = name_start + namesize
        data_start = name_end + _pad(NEWC_HEADER_SIZE + namesize)
        data_end = data_start + h["filesize"]
        next_off = data_end + _pad(h["filesize"])
        if next_off > len(blob):
            raise CpioError(f"truncated archive: member at offset {off} needs {next_off} bytes, have {len(blob)}")
        raw_name = blob[name_start:name_end]
        if raw_name[-1:] != b"\0" or b"\0" in raw_name[:-1]:
            raise CpioError(f"member name at offset {off} is not NUL-terminated")
        if any(blob[name_end:data_start]) or any(blob[data_end:next_off]):
            raise CpioError(f"non-zero padding in member at offset {off}")
        try:
            name = raw_name[:-1].decode()
        except UnicodeDecodeError:
            raise CpioError(f"member name at offset {off} is not UTF-8") from None
        if name == TRAILER_NAME:
            if any(blob[next_off:]):
                raise CpioError(f"data after the trailer at offset {next_off}")
            return
        if name.startswith("./"):
            name = name[2:]
        _check_name(name, off)
        if name in seen:
            raise CpioError(f"duplicate member {name!r} at offset {off}")
        seen.add(name)
        parent = posixpath.dirname(name)
        if strict and parent and parent not in dirs:
            raise CpioError(f"member {name!r} at offset {off} comes before its directory {parent!r}")
        mode = h["mode"]
        if stat.S_ISDIR(mode):
            if h["filesize"]:
                raise CpioError(f"directory {name!r} at offset {off} has data")
            dirs.add(name)
        elif not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise CpioError(f"member {name!r} at offset {off} has unsupported type (mode {mode:o})")
        yield Member(name, mode, blob[data_start:data_end], h["mtime"])
        off = next_off


def read_members(blob: bytes) -> list[Member]:
    if not blob:
        raise CpioError("empty archive")
    return list(iter_members(blob))
