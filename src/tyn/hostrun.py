"""python -m tyn.hostrun FILE [-- ARGS]: the Linux reference run of a Tyn image.

The very beam.smp and root filesystem of FILE (a boot image or a bare rootfs cpio) run on
the host's Linux kernel: the cpio is unpacked into a temporary directory R and init is
started as the Tyn kernel starts it -- argv from /etc/tyn/argv with ARGS appended, the
environment from /etc/tyn/env, the node name from /etc/hostname (in a private UTS
namespace), the working directory at the root.  Guest paths become R-prefixed host
paths: each argument, environment value or PATH-like component that is an absolute path
into the rootfs's top-level directories is rewritten, and ERL_INET_ETC_DIR points at
R/etc.  The exit status is beam.smp's.  docs/IMAGE.md lists the remaining differences.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from tyn.build import erts, rootfs
from tyn.build.cpio import NEWC_MAGIC, CpioError, read_members

ELF_MAGIC = b"\x7fELF"
PT_LOAD = 1


class HostrunError(Exception):
    pass


def extract_cpio(blob: bytes, name: str) -> bytes:
    """The rootfs cpio inside a boot image (an ELF32 PT_LOAD segment that starts with the newc
    magic), or the whole file if it is a cpio."""
    if blob.startswith(NEWC_MAGIC):
        return blob
    if not blob.startswith(ELF_MAGIC):
        raise HostrunError(f"{name} is neither a Tyn boot image (ELF) nor a newc cpio")
    if len(blob) < 52:
        raise HostrunError(f"{name}: truncated ELF header")
    ei_class = blob[4]
    if ei_class == 1:
        phoff, = struct.unpack_from("<I", blob, 28)
        phentsize, phnum = struct.unpack_from("<HH", blob, 42)
        fmt, fields = "<IIIIIIII", ("type", "offset", "vaddr", "paddr", "filesz", "memsz", "flags", "align")
    elif ei_class == 2 and len(blob) >= 64:
        phoff, = struct.unpack_from("<Q", blob, 32)
        phentsize, phnum = struct.unpack_from("<HH", blob, 54)
        fmt, fields = "<IIQQQQQQ", ("type", "flags", "offset", "vaddr", "paddr", "filesz", "memsz", "align")
    else:
        raise HostrunError(f"{name}: unknown ELF class {ei_class}")
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + struct.calcsize(fmt) > len(blob):
            raise HostrunError(f"{name}: truncated program header table")
        ph = dict(zip(fields, struct.unpack_from(fmt, blob, at)))
        seg = blob[ph["offset"]:ph["offset"] + ph["filesz"]]
        if ph["type"] == PT_LOAD and seg.startswith(NEWC_MAGIC):
            if len(seg) < ph["filesz"]:
                raise HostrunError(f"{name}: truncated image: rootfs segment ends past the end of the file")
            return seg
    raise HostrunError(f"{name}: boot image has no root filesystem segment")


def unpack(cpio: bytes, dest: Path) -> None:
    """Unpack a validated cpio below `dest`, refusing to write through symlinks."""
    root = dest.resolve()
    for m in read_members(cpio):
        target = root / m.name
        parent = target.parent.resolve()
        if parent != root and root not in parent.parents:
            raise CpioError(f"member {m.name!r} escapes the root through a symlink")
        if m.is_dir:
            target.mkdir(mode=0o755, exist_ok=True)
        elif m.is_symlink:
            os.symlink(m.data.decode(), target)
        else:
            target.write_bytes(m.data)
            os.chmod(target, stat.S_IMODE(m.mode))


def translate(value: str, root: Path, tops: set[str]) -> str:
    """Rewrite a guest path (or a ':'-separated list of them) to its place below root."""
    def one(p: str) -> str:
        if p.startswith("/") and p.split("/")[1] in tops:
            return str(root) + p
        return p
    if ":" in value and all(part.startswith("/") for part in value.split(":") if part):
        return ":".join(one(p) for p in value.split(":"))
    return one(value)


def prepare(image: Path, extra: list[str]) -> tuple[Path, list[str], dict[str, str], str]:
    try:
        blob = image.read_bytes()
    except OSError as e:
        raise HostrunError(f"cannot read {image}: {e.strerror}") from None
    cpio = extract_cpio(blob, str(image))
    root = Path(tempfile.mkdtemp(prefix="tyn-hostrun-"))
    try:
        unpack(cpio, root)
        for need in (rootfs.ARGV_FILE, rootfs.ENV_FILE):
            if not (root / need[1:]).is_file():
                raise HostrunError(f"{image}: rootfs has no {need}")
        argv = rootfs.decode_argv((root / rootfs.ARGV_FILE[1:]).read_bytes()) + list(extra)
        env = rootfs.decode_env((root / rootfs.ENV_FILE[1:]).read_bytes())
        hostname_file = root / rootfs.HOSTNAME_FILE[1:]
        hostname = hostname_file.read_text().strip() if hostname_file.exists() else erts.GUEST_HOSTNAME
        if not argv or not argv[0].startswith("/") or not (root / argv[0][1:]).is_file():
            raise HostrunError(f"{image}: {rootfs.ARGV_FILE} does not start with an executable in the rootfs")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    tops = {p.name for p in root.iterdir()}
    argv = [translate(a, root, tops) for a in argv]
    env = {k: translate(v, root, tops) for k, v in env.items()}
    if Path(argv[0]).name.startswith("beam"):      # not for --init images (no BEAM)
        env["ERL_INET_ETC_DIR"] = str(root / "etc")
    return root, argv, env, hostname


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM when hostrun dies, so no beam.smp outlives it."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def run(image: Path, extra: list[str], keep: bool = False) -> int:
    root, argv, env, hostname = prepare(image, extra)
    try:
        cmd = erts.uts_prefix(hostname) + argv
        if len(cmd) == len(argv):
            print(f"tyn.hostrun: warning: no unshare; node name stays {os.uname().nodename!r}", file=sys.stderr)
        proc = subprocess.Popen(cmd, env=env, cwd=root, preexec_fn=_die_with_parent)
        forward = lambda sig, _frame: proc.send_signal(sig)
        # On a terminal, Ctrl-C reaches beam.smp from the terminal itself (it is in the
        # foreground group, as under a shell): forwarding it too would make it two.
        on_int = (lambda sig, _frame: None) if os.isatty(0) else forward
        old = {signal.SIGINT: signal.signal(signal.SIGINT, on_int),
               signal.SIGTERM: signal.signal(signal.SIGTERM, forward)}
        try:
            rc = proc.wait()
        finally:
            for s, h in old.items():
                signal.signal(s, h)
        return rc if rc >= 0 else 128 - rc
    finally:
        if keep:
            print(f"tyn.hostrun: rootfs kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    keep = "--keep" in argv
    argv = [a for a in argv if a != "--keep"]
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m tyn.hostrun [--keep] FILE [-- ARGS]", file=sys.stderr)
        return 2
    try:
        return run(Path(argv[0]), extra, keep)
    except (HostrunError, CpioError, rootfs.RootfsError) as e:
        print(f"tyn.hostrun: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"tyn.hostrun: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
