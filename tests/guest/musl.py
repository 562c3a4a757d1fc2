"""Build static musl programs for the tests, cached by content.

    exe = musl.build(Path("tests/guest/files.c"))         # musl-gcc -static -O2
    exe = musl.build(src, static_pie=True)                  # a static-PIE (rcrt1.o, ET_DYN)

Binaries go to ${TYN_CACHE:-~/.cache/tyn}/guest-bin/<stem>-<key>, where the key hashes the
source, every header next to it, the flags and the compiler's version: an edited .c (or
common.h) gets a new binary, an unchanged one is reused across sessions.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

GUEST_DIR = Path(__file__).resolve().parent
CFLAGS = ["-static", "-O2", "-Wall", "-Werror", "-std=gnu11", "-pthread"]
MUSL_LIB = Path("/usr/lib/x86_64-linux-musl")


class BuildError(Exception):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("TYN_CACHE", Path.home() / ".cache" / "tyn")) / "guest-bin"


def available() -> str | None:
    """None if musl-gcc works, else why not."""
    if shutil.which("musl-gcc") is None:
        return "musl-gcc not installed (apt-get install musl-tools)"
    return None


def _compiler_version() -> str:
    return subprocess.run(["musl-gcc", "--version"], capture_output=True, text=True).stdout


def _key(src: Path, flags: list[str]) -> str:
    h = hashlib.sha256()
    h.update(" ".join(flags).encode() + b"\0" + _compiler_version().encode() + b"\0")
    h.update(src.read_bytes())
    for hdr in sorted(src.parent.glob("*.h")):
        h.update(hdr.name.encode() + b"\0" + hdr.read_bytes())
    return h.hexdigest()[:16]


def build(src: Path, static_pie: bool = False, extra_flags: list[str] | None = None) -> Path:
    src = Path(src).resolve()
    flags = list(CFLAGS) + list(extra_flags or [])
    if static_pie:
        flags.append("static-pie")
    out = cache_dir() / f"{src.stem}{'-pie' if static_pie else ''}-{_key(src, flags)}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        if static_pie:
            # musl-gcc's specs link crt1.o (not self-relocating): link rcrt1.o by hand.
            obj = tmp + ".o"
            cc = ["musl-gcc", "-fPIE", *[f for f in flags if f not in ("-static", "static-pie")],
                  "-c", str(src), "-o", obj]
            libgcc = subprocess.run(["gcc", "-print-libgcc-file-name"], capture_output=True,
                                    text=True).stdout.strip()
            ld = ["gcc", "-static-pie", "-nostdlib", "-nostartfiles", "-o", tmp,
                  str(MUSL_LIB / "rcrt1.o"), str(MUSL_LIB / "crti.o"), obj, f"-L{MUSL_LIB}", "-lc",
                  libgcc, str(MUSL_LIB / "crtn.o")]
            steps = [cc, ld]
        else:
            steps = [["musl-gcc", *flags, str(src), "-o", tmp]]
        for cmd in steps:
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise BuildError(f"{' '.join(cmd)}:\n{r.stderr}")
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    finally:
        for f in (tmp, tmp + ".o"):
            if os.path.exists(f):
                os.unlink(f)
    return out
