"""Strip .beam files to the chunks the runtime reads, as `beam_lib:strip/1` and `mix release` do.

A .beam file is an IFF container (erts/emulator/beam/beam_file.c, `read_beam_chunks`):

    "FOR1"  u32 big-endian: length of the rest of the file
    "BEAM"
    chunk*  4-byte id, u32 big-endian data length, data, zero padding to 4 bytes

or the whole of that gzip-compressed (the code loader, `erlang:prepare_loading/2`, gunzips a
module that does not start with "FOR1").

Kept: the chunks beam_file.c's loader reads (`KEPT_CHUNKS`).  Dropped: everything else, above
all `Dbgi` (debug_info: the abstract code, for cover/debugger/xref), `Docs` (EEP 48 docs, for
the shell's h/1) and Elixir's `ExCk` (its compiler's type checker), and `LocT`, which the
loader reads only for JIT assembly dumps (+JDdump).  Unlike beam_lib, `Attr` and `CInf` stay:
they are what `Mod:module_info(attributes | compile)` returns, and code does ask (behaviour
checks, `-vsn`, Elixir's `__info__/1`); together they are 5 % of a stripped module.

Why our own stripper rather than beam_lib on the host beam.smp: the format is a flat list of
chunks, so stripping is a few lines of Python with no Erlang VM to start per build, it handles
any .beam the image carries (OTP, Elixir, a release's, `--add`ed ones) the same way, and a
malformed file is reported with its name instead of a crash report.  The host beam checks the
result in the tests (beam_lib reads it, the code loader loads it).

Optionally (`compress=True`, the image's `--beams gz`) the stripped module is gzip-compressed,
as beam_lib:strip does: a smaller image, but the loader then gunzips every module it loads.

Results are cached by the SHA-256 of the input (content-addressed, so OTP's, Elixir's and a
release's modules share one cache), under `${TYN_CACHE:-~/.cache/tyn}/beam-strip/<version>/`.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import tempfile
import zlib
from pathlib import Path

from tyn.build import erts

IFF_FORM = b"FOR1"
BEAM_FORM_TYPE = b"BEAM"
GZIP_MAGIC = b"\x1f\x8b"
CHUNK_HEADER = struct.Struct(">4sI")
FORM_HEADER = struct.Struct(">4sI4s")
IFF_ALIGN = 4

# The chunks erts/emulator/beam/beam_file.c (beamfile_read) reads, minus LocT (read only with
# +JDdump).  Code, StrT, ImpT and ExpT are mandatory (beam_lib's mandatory_chunks/0).
KEPT_CHUNKS = (b"AtU8", b"Atom", b"Code", b"StrT", b"ImpT", b"ExpT", b"FunT", b"LitT",
               b"Attr", b"CInf", b"Line", b"Type", b"Meta")
MANDATORY_CHUNKS = (b"Code", b"StrT", b"ImpT", b"ExpT")
# gzip's own default: beam_lib's zlib:gzip/1 uses it too.  mtime 0 keeps the output
# reproducible.
GZIP_LEVEL = 6
# Bump when the output for a given input changes (kept chunks, compression).
STRIPPER_VERSION = "1"


class BeamError(Exception):
    """A .beam file that is not a well-formed BEAM IFF file; the message is one line."""


def parse_chunks(data: bytes, name: str = ".beam file") -> list[tuple[bytes, bytes]]:
    """The (id, data) chunks of an uncompressed .beam file, in file order."""
    if len(data) < FORM_HEADER.size:
        raise BeamError(f"{name}: truncated ({len(data)} bytes)")
    form, length, form_type = FORM_HEADER.unpack_from(data)
    if form != IFF_FORM or form_type != BEAM_FORM_TYPE:
        raise BeamError(f"{name}: not a BEAM file (no FOR1/BEAM header)")
    end = 8 + length
    if end > len(data):
        raise BeamError(f"{name}: truncated (header says {end} bytes, file has {len(data)})")
    chunks, pos = [], FORM_HEADER.size
    while pos < end:
        if pos + CHUNK_HEADER.size > end:
            raise BeamError(f"{name}: truncated chunk header at offset {pos}")
        cid, size = CHUNK_HEADER.unpack_from(data, pos)
        start = pos + CHUNK_HEADER.size
        if start + size > end:
            raise BeamError(f"{name}: chunk {cid!r} at offset {pos} runs past the end of the file")
        chunks.append((cid, data[start:start + size]))
        pos = start + _padded(size)
    return chunks


def emit_beam(chunks: list[tuple[bytes, bytes]]) -> bytes:
    """An uncompressed .beam file holding `chunks` in the order given."""
    body = b"".join(CHUNK_HEADER.pack(cid, len(d)) + d + bytes(_padded(len(d)) - len(d))
                    for cid, d in chunks)
    return IFF_FORM + struct.pack(">I", len(BEAM_FORM_TYPE) + len(body)) + BEAM_FORM_TYPE + body


def _padded(n: int) -> int:
    return (n + IFF_ALIGN - 1) & ~(IFF_ALIGN - 1)


def decompress(data: bytes, name: str = ".beam file") -> bytes:
    """A .beam file's IFF bytes, gunzipped if it was compressed."""
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise BeamError(f"{name}: compressed, but not valid gzip ({e})") from None


def strip(data: bytes, name: str = ".beam file", compress: bool = False) -> bytes:
    """`data` (a .beam file, compressed or not) with only KEPT_CHUNKS, in their file order."""
    chunks = parse_chunks(decompress(data, name), name)
    ids = {cid for cid, _ in chunks}
    missing = [c.decode() for c in MANDATORY_CHUNKS if c not in ids]
    if missing:
        raise BeamError(f"{name}: lacks the mandatory chunk(s) {', '.join(missing)}")
    out = emit_beam([(cid, d) for cid, d in chunks if cid in KEPT_CHUNKS])
    return gzip.compress(out, compresslevel=GZIP_LEVEL, mtime=0) if compress else out


def cache_dir() -> Path:
    return erts.cache_root() / "beam-strip" / f"v{STRIPPER_VERSION}"


def stripped_path(host: Path, compress: bool = False) -> Path:
    """The cached stripped copy of the .beam file `host` (made on a miss, written atomically)."""
    try:
        data = host.read_bytes()
    except OSError as e:
        raise BeamError(f"{host}: {e.strerror}") from None
    key = hashlib.sha256(data).hexdigest() + ("-gz" if compress else "")
    out = cache_dir() / key[:2] / f"{key}.beam"
    if out.exists():
        return out
    stripped = strip(data, str(host), compress)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(stripped)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)       # concurrent builds write the same bytes: last rename wins
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return out
