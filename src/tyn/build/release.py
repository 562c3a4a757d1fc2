"""OTP releases as `rebar3 release` (relx) and `mix release` lay them out, and vm.args.

    DIR/lib/<app>-<vsn>/ebin/...
    DIR/releases/start_erl.data            "<erts vsn> <release vsn>" (optional)
    DIR/releases/<vsn>/start.boot          the boot script (external term format)
    DIR/releases/<vsn>/<name>.rel          {release, {Name, Vsn}, {erts, ErtsVsn}, Apps}
    DIR/releases/<vsn>/sys.config          optional
    DIR/releases/<vsn>/vm.args             optional
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

EXTERNAL_TERM_FORMAT_VERSION = 131   # first byte of term_to_binary output, e.g. a .boot file
_REL = re.compile(r"\{\s*release\s*,\s*\{\s*\"([^\"]*)\"\s*,\s*\"([^\"]*)\"\s*\}\s*,\s*"
                  r"\{\s*erts\s*,\s*\"([^\"]*)\"\s*\}\s*,\s*\[(.*)\]\s*\}\s*\.", re.S)
_REL_APP = re.compile(r"\{\s*'?([a-z][A-Za-z0-9_]*)'?\s*,\s*\"([^\"]*)\"")


class ReleaseError(Exception):
    pass


@dataclass
class Release:
    root: Path
    name: str
    vsn: str
    erts_vsn: str
    apps: list[tuple[str, str]]
    boot: Path
    sys_config: Path | None
    vm_args: Path | None
    lib_dirs: list[Path] = field(default_factory=list)


def otp_major_of_erts(erts_vsn: str) -> int | None:
    """OTP major release of an ERTS version: erts 13 -> OTP 25, 14 -> 26, 15 -> 27, 16 -> 28."""
    try:
        return int(erts_vsn.split(".")[0]) + 12
    except ValueError:
        return None


def load_release(root: Path, erts_vsn: str, otp_apps: dict[str, str]) -> Release:
    """Validate the release at `root` for this ERTS; `otp_apps` maps name -> vsn of the OTP
    applications the image can supply when the release does not ship them."""
    root = Path(root)
    if not root.exists():
        raise ReleaseError(f"release directory {root} does not exist")
    if not root.is_dir():
        raise ReleaseError(f"release path {root} is not a directory")
    rels = root / "releases"
    if not rels.is_dir():
        raise ReleaseError(f"malformed release {root}: no releases/ directory")
    if not (root / "lib").is_dir():
        raise ReleaseError(f"malformed release {root}: no lib/ directory")

    start_erl = rels / "start_erl.data"
    data_erts = None
    if start_erl.exists():
        words = start_erl.read_text(errors="replace").split()
        if len(words) != 2:
            raise ReleaseError(f"malformed release {root}: releases/start_erl.data is not '<erts vsn> <release vsn>'")
        data_erts, vsn = words
    else:
        candidates = sorted(p.parent.name for p in rels.glob("*/start.boot"))
        if len(candidates) != 1:
            raise ReleaseError(f"malformed release {root}: no releases/start_erl.data and "
                               f"{len(candidates)} releases/*/start.boot")
        vsn = candidates[0]
    vdir = rels / vsn
    boot = vdir / "start.boot"
    if not boot.is_file():
        raise ReleaseError(f"malformed release {root}: no releases/{vsn}/start.boot")
    head = boot.read_bytes()[:1]
    if head != bytes([EXTERNAL_TERM_FORMAT_VERSION]):
        raise ReleaseError(f"malformed release {root}: releases/{vsn}/start.boot is not a boot file")

    rel_files = sorted(vdir.glob("*.rel"))
    name, rel_erts, apps = root.name, data_erts, []
    if rel_files:
        text = re.sub(r"%[^\n]*", "", rel_files[0].read_text(errors="replace"))
        m = _REL.search(text)
        if not m:
            raise ReleaseError(f"malformed release {root}: cannot read {rel_files[0].relative_to(root)}")
        name, rel_vsn, rel_erts, body = m.groups()
        apps = _REL_APP.findall(body)
        if rel_vsn != vsn:
            raise ReleaseError(f"malformed release {root}: {rel_files[0].name} is version {rel_vsn}, "
                               f"directory is releases/{vsn}")
    if rel_erts is None:
        raise ReleaseError(f"malformed release {root}: neither releases/start_erl.data nor releases/{vsn}/*.rel"
                           " names the ERTS version")
    want, got = otp_major_of_erts(erts_vsn), otp_major_of_erts(rel_erts)
    if got != want:
        raise ReleaseError(f"release {root} was built for OTP {got} (erts {rel_erts}); this image runs "
                           f"OTP {want} (erts {erts_vsn})")

    lib_dirs = []
    for app, app_vsn in apps:
        d = root / "lib" / f"{app}-{app_vsn}"
        if (d / "ebin").is_dir():
            lib_dirs.append(d)
        elif otp_apps.get(app) != app_vsn:
            have = f" (this OTP has {app}-{otp_apps[app]})" if app in otp_apps else ""
            raise ReleaseError(f"release {root} needs {app}-{app_vsn}, which is neither in its lib/ nor in "
                               f"this OTP{have}")
    if not apps:
        lib_dirs = sorted(d for d in (root / "lib").iterdir() if (d / "ebin").is_dir())
    sys_config = vdir / "sys.config"
    vm_args = vdir / "vm.args"
    return Release(root, name, vsn, rel_erts, apps, boot, sys_config if sys_config.is_file() else None,
                   vm_args if vm_args.is_file() else None, lib_dirs)


def read_args_file(path: Path, depth: int = 0) -> list[str]:
    """Split a vm.args / -args_file file as erlexec does: whitespace separates arguments,
    '#' starts a comment to the end of the line, '\\' escapes the next character, and a
    nested `-args_file F` is expanded in place."""
    if depth > 10:
        raise ReleaseError(f"{path}: -args_file nested too deeply")
    try:
        text = path.read_text()
    except OSError as e:
        raise ReleaseError(f"cannot read args file {path}: {e.strerror}") from None
    args, cur, have, i = [], [], False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i + 1]); have = True; i += 2; continue
        if c == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        if c.isspace():
            if have:
                args.append("".join(cur)); cur, have = [], False
        else:
            cur.append(c); have = True
        i += 1
    if have:
        args.append("".join(cur))
    out = []
    it = iter(args)
    for a in it:
        if a == "-args_file":
            nested = next(it, None)
            if nested is None:
                raise ReleaseError(f"{path}: -args_file without a file name")
            out += read_args_file((path.parent / nested) if not nested.startswith("/") else Path(nested), depth + 1)
        else:
            out.append(a)
    return out


def split_vm_args(args: list[str]) -> tuple[list[str], list[str], dict[str, str]]:
    """(emulator flags, init arguments, environment) from erl-style arguments: `+F v...`
    becomes the emulator flag `-F v...` (placed before `--`), `-env VAR VALUE` sets the
    environment, everything from `-extra` on is kept as is."""
    emu, init, env = [], [], {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-extra":
            init += args[i:]
            break
        if a == "-env" and i + 2 < len(args) + 0:
            env[args[i + 1]] = args[i + 2]
            i += 3
            continue
        if a.startswith("+") and len(a) > 1:
            emu.append("-" + a[1:])
            i += 1
            while i < len(args) and not args[i].startswith(("+", "-")):
                emu.append(args[i]); i += 1
            continue
        init.append(a)
        i += 1
    return emu, init, env
