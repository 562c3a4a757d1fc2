"""python -m tyn.build image: one bootable Tyn image (kernel + beam.smp + root filesystem).

    python -m tyn.build image -o FILE                      the demo echo server (port 5555)
    python -m tyn.build image -o FILE --eval EXPR          run Erlang expressions
    python -m tyn.build image -o FILE --release DIR        an OTP release (rebar3/mix)
    python -m tyn.build image -o FILE --shell              the Erlang shell on the console
        (--elixir --shell: IEx; with --release or --eval: the shell after them)
        [--elixir] [--otp-app NAME]... [--add HOST:GUEST]... [--format boot|cpio]
        [--beams stripped|gz|full]
    python -m tyn.build image -o FILE --init HOSTPATH      a static executable as /init, no BEAM
        [--add HOST:GUEST]... [--format boot|cpio]
    BEAM images with --sname NAME or --name NAME[@HOST] [--cookie C]: a distributed node;
    the image carries OTP's epmd and starts it as erlexec would (see tyn_epmd.erl).
    A release whose vm.args names the node (-sname/-name) is distributed the same way,
    with its -setcookie (or its releases/COOKIE); -start_epmd false: no epmd, as on Linux.
    --sname/--name/--cookie on the command line win over the release's vm.args.
    Any of them with --busybox: /bin/sh and the basic tools (Debian's busybox-static), so
    os:cmd/1 and open_port({spawn, ...}) have a shell.

Every error is one line on stderr with a non-zero exit, and leaves no output file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import stat
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tyn.build import beamstrip, erts, layout, otp, release, rootfs
from tyn.build.rootfs import APP_ROOT, ARGV_FILE, CONSOLE_FILE, ENV_FILE, HOSTNAME_FILE, OTP_ROOT, Rootfs

DEMO_SRC = Path(__file__).resolve().parents[1] / "demo" / "tyn_demo.erl"
DEMO_MODULE = "tyn_demo"
DEMO_PORT = 5555
# Distributed images: the module that starts the image's epmd before OTP's erl_epmd
# registers the node (beam.smp runs without erlexec, which does that step on Linux).
EPMD_LAUNCHER_SRC = Path(__file__).resolve().parents[1] / "demo" / "tyn_epmd.erl"
EPMD_LAUNCHER_MODULE = "tyn_epmd"
DIST_EBIN = f"{APP_ROOT}/dist/ebin"
# The alive part of a node name (erl_distribution / net_kernel accept these characters).
# Without --cookie: OTP would make $HOME/.erlang.cookie on first use, but the guest's root
# filesystem is read-only (erofs), so the builder makes it as auth would (20 random capital
# letters, owner-only mode) and tells the user.
COOKIE_FILE = "/.erlang.cookie"           # $HOME is / in every BEAM image
COOKIE_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COOKIE_LENGTH = 20
NODE_ALIVE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# A release's vm.args flags that concern distribution (erl(1); -start_epmd is erlexec's).
NODE_NAME_FLAGS = ("-sname", "-name")
COOKIE_FLAG = "-setcookie"
START_EPMD_FLAG = "-start_epmd"
EPMD_MODULE_FLAG = "-epmd_module"
RELEASE_COOKIE_FILE = "COOKIE"          # mix release: releases/COOKIE, which its bin/ script passes

ETC_HOSTS = f"127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{erts.GUEST_HOSTNAME} {erts.GUEST_HOSTNAME.split('.')[0]}\n"
# A domain keeps kernel's inet_config from resolving the bare host name natively in
# longnames mode; the node name itself (/etc/hostname) carries one for all modes.
# Name lookups without the native inet_gethost port program (which needs fork/exec of a
# port program): /etc/hosts, then DNS through inet_res with the servers the kernel writes
# into /etc/resolv.conf (from DHCP or the command line's dns=).
ETC_INETRC = "/etc/inetrc"
INETRC = "%% Written by tyn.build: /etc/hosts first, then DNS (inet_res); no native lookups.\n{lookup, [file, dns]}.\n"
ETC_RESOLV = f"domain {erts.GUEST_HOSTNAME.split('.', 1)[1]}\nsearch {erts.GUEST_HOSTNAME.split('.', 1)[1]}\n"


# --init images: the executable, its argv and environment (no BEAM).
INIT_PATH = "/init"
INIT_ENV = {"HOME": "/", "PATH": "/bin"}
# Options that describe a BEAM image and make no sense with --init.
BEAM_ONLY = ("eval", "release", "elixir", "otp_app", "jit", "beams", "shell", "sname", "name", "cookie",
             "dist_port")
# --beams: what an image carries of each .beam file (see tyn.build.beamstrip).
# Stripped, uncompressed is the default: gzip saves 1.3 MiB of the hello image but no guest RAM
# (the smallest -m is the same) and costs the loader a gunzip per module, ~10 % more time to
# load kernel + stdlib under TCG (bench/image.py, docs/IMAGE.md).
BEAMS_STRIPPED = "stripped"     # the chunks the loader reads (the default)
BEAMS_GZ = "gz"                 # the same, gzip-compressed: the smallest image
BEAMS_FULL = "full"             # as shipped: debug_info, docs... (images meant for debugging)
BEAMS_MODES = (BEAMS_STRIPPED, BEAMS_GZ, BEAMS_FULL)
BEAMS_HELP = {BEAMS_GZ: "stripped, gzip-compressed", BEAMS_STRIPPED: "stripped", BEAMS_FULL: "as shipped"}
# Issue 13's goals for the boot image (kernel + root filesystem), tracked by bench/image.py.
HELLO_GOAL_MIB = 12
ELIXIR_GOAL_MIB = 20

# Shell images: the terminal type prim_tty looks up (its descriptions are compiled into
# ERTS's terminal library: erts-build/config.sh NCURSES_FALLBACKS).  Nearly every
# terminal emulator takes xterm's sequences; the image cannot know the host's.
SHELL_TERM = "xterm-256color"
# What CONSOLE_FILE says for an interactive image: tyn.run then hands the terminal over
# raw (Ctrl-C to the guest) instead of keeping Ctrl-C for itself.
CONSOLE_INTERACTIVE = b"interactive\n"


# --busybox: the binary and its applet links where Debian puts them; the BEAM's PATH
# gets the directories (os:cmd runs "/bin/sh -c", whose commands are found on PATH).
BUSYBOX_PATH = "/bin/busybox"
BUSYBOX_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


class ImageError(Exception):
    pass


def busybox_applets(busybox: Path) -> list[str]:
    """The applets' install paths ("bin/sh", "usr/bin/env", ...) as busybox lists them."""
    try:
        out = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise ImageError(f"--busybox: cannot list the applets of {busybox}: {e}") from None
    paths = [line.strip() for line in out.splitlines() if "/" in line.strip()]
    if "bin/sh" not in paths:
        raise ImageError(f"--busybox: {busybox} has no sh applet")
    return paths


def add_busybox(fs: Rootfs, busybox: Path) -> None:
    """/bin/busybox and a symlink to it for every applet (never over a file already there).
    The links are relative, so they also hold in hostrun's unpacked copy."""
    fs.add_file(BUSYBOX_PATH, busybox, "busybox")
    for applet in busybox_applets(busybox):
        guest = f"/{applet}"
        if guest != BUSYBOX_PATH and not fs.exists(guest):
            target = os.path.relpath(BUSYBOX_PATH, os.path.dirname(guest))
            fs.add_bytes(guest, target.encode(), "busybox", mode=stat.S_IFLNK | 0o777)


def check_static_executable(path: Path) -> None:
    """A static x86_64 ELF executable (ET_EXEC or static-PIE, no PT_INTERP), or ImageError."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ImageError(f"--init {path}: is a directory") from None
    except OSError as e:
        raise ImageError(f"--init {path}: {e.strerror}") from None
    if data[:4] != b"\x7fELF":
        raise ImageError(f"--init {path}: not an ELF executable")
    if len(data) < 64 or data[4] != 2 or data[5] != 1:
        raise ImageError(f"--init {path}: not a 64-bit little-endian ELF file")
    e_type, machine = struct.unpack_from("<HH", data, 16)
    if machine != 62 or e_type not in (2, 3):
        raise ImageError(f"--init {path}: not an x86_64 executable (e_type {e_type}, e_machine {machine})")
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    if phentsize != 56 or phoff + phnum * 56 > len(data):
        raise ImageError(f"--init {path}: bad or truncated program header table")
    for i in range(phnum):
        if struct.unpack_from("<I", data, phoff + 56 * i)[0] == 3:      # PT_INTERP
            raise ImageError(f"--init {path}: dynamically linked (has an interpreter); "
                             "link it statically (e.g. musl-gcc -static)")


@dataclass
class Plan:
    """What goes into the image; turned into a Rootfs by `compose`."""
    erts_dir: Path
    erts_vsn: str
    apps: list[tuple[otp.App, str]]                                     # (application, why it is in)
    app_files: list[tuple[Path, str]] = field(default_factory=list)   # (host, guest) trees or files
    pa: list[str] = field(default_factory=list)
    emu_args: list[str] = field(default_factory=list)
    init_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    release: release.Release | None = None
    shipped: dict[str, str] = field(default_factory=dict)               # release app name -> why
    beams: str = BEAMS_STRIPPED
    shell: bool = False

    def app_table(self) -> list[tuple[str, str]]:
        """(application dir name, why it is in) for every application the image carries."""
        rows = [(a.dirname, why) for a, why in self.apps]
        if self.release:
            rows += [(d.name, self.shipped.get(d.name.partition("-")[0], f"release {self.release.name}"))
                     for d in self.release.lib_dirs]
        return sorted(rows)

    @property
    def erts_bin(self) -> str:
        return f"{OTP_ROOT}/erts-{self.erts_vsn}/bin"

    def argv(self) -> list[str]:
        pa = [a for p in self.pa for a in ("-pa", p)]
        return [f"{self.erts_bin}/beam.smp", *self.emu_args, "--",
                "-root", OTP_ROOT, "-bindir", self.erts_bin, "-progname", "erl", "-home", "/",
                *pa, *self.init_args]

    busybox: Path | None = None
    epmd: Path | None = None            # the host's epmd binary, for distributed images
    cookie_file: str | None = None      # a generated cookie for COOKIE_FILE (no --cookie)
    boot_file: Path | None = None       # the release's boot script, amended (release_boot_loading)

    def environment(self) -> dict[str, str]:
        path = [self.erts_bin, f"{OTP_ROOT}/bin", *(BUSYBOX_DIRS if self.busybox else ())]
        return {"BINDIR": self.erts_bin, "ROOTDIR": OTP_ROOT, "EMU": "beam", "PROGNAME": "erl",
                "HOME": "/", "PATH": ":".join(path), "ERL_INETRC": ETC_INETRC,
                **self.env}


def compose(plan: Plan) -> Rootfs:
    fs = Rootfs(beam_filter=beam_filter(plan.beams))
    e = plan.erts_dir
    fs.add_file(f"{plan.erts_bin}/beam.smp", e / "bin" / "beam.smp", "beam.smp")
    fs.add_file(f"{plan.erts_bin}/erl_child_setup", e / "bin" / "erl_child_setup", "erl_child_setup")
    if plan.epmd:
        # ERTS's bin dir: where erlexec and erl_epmd's users look for it (BINDIR/epmd).
        fs.add_file(f"{plan.erts_bin}/epmd", plan.epmd, "epmd")
    if plan.cookie_file:
        fs.add_bytes(COOKIE_FILE, plan.cookie_file.encode(), mode=stat.S_IFREG | 0o400)
    for boot in sorted((e / "otp" / "bin").glob("*.boot")):
        fs.add_file(f"{OTP_ROOT}/bin/{boot.name}", boot, "boot scripts")
    fs.add_tree(f"{OTP_ROOT}/releases", e / "otp" / "releases", "boot scripts")
    for app, _ in plan.apps:
        part = "elixir" if app.name in otp.ELIXIR_APPS or "elixir" in str(app.path) else "otp lib"
        for sub in ("ebin", "priv"):
            if (app.path / sub).is_dir():
                fs.add_tree(f"{OTP_ROOT}/lib/{app.dirname}/{sub}", app.path / sub, part, app=app.dirname)
    if plan.release:
        r = plan.release
        for d in r.lib_dirs:
            for sub in ("ebin", "priv"):
                if (d / sub).is_dir():
                    fs.add_tree(f"{OTP_ROOT}/lib/{d.name}/{sub}", d / sub, "release", app=d.name)
        fs.add_tree(f"{OTP_ROOT}/releases/{r.vsn}", r.boot.parent, "release")
        if plan.boot_file:
            fs.add_file(f"{OTP_ROOT}/releases/{r.vsn}/start.boot", plan.boot_file, "release")
        start_erl = r.root / "releases" / "start_erl.data"
        fs.add_bytes(f"{OTP_ROOT}/releases/start_erl.data", f"{plan.erts_vsn} {r.vsn}\n".encode()
                     if not start_erl.exists() else start_erl.read_bytes(), "release")
    for host, guest in plan.app_files:
        if host.is_dir():
            fs.add_tree(guest, host, "app")
        else:
            fs.add_file(guest, host, "app")
    if plan.busybox:
        add_busybox(fs, plan.busybox)
    fs.add_bytes("/etc/hosts", ETC_HOSTS.encode())
    fs.add_bytes("/etc/resolv.conf", ETC_RESOLV.encode())
    fs.add_bytes(ETC_INETRC, INETRC.encode())
    fs.add_bytes(HOSTNAME_FILE, f"{erts.GUEST_HOSTNAME}\n".encode())
    fs.add_bytes(ARGV_FILE, rootfs.encode_argv(plan.argv()))
    fs.add_bytes(ENV_FILE, rootfs.encode_env(plan.environment()))
    if plan.shell:
        fs.add_bytes(CONSOLE_FILE, CONSOLE_INTERACTIVE)
    fs.add_dir("/tmp")
    return fs


def beam_filter(mode: str):
    """Rootfs.add_tree's hook for .beam files: the host file an image carries in its place."""
    if mode == BEAMS_FULL:
        return None
    compress = mode == BEAMS_GZ
    return lambda host: beamstrip.stripped_path(host, compress=compress)


def release_apps(r: release.Release, catalog: otp.AppCatalog) -> tuple[list[tuple[otp.App, str]], dict[str, str]]:
    """A release's applications: (those this OTP supplies, with why), {name: why} of those the
    release ships in its lib/.  Exactly the .rel's list, no more: systools already checked that
    it is complete.  A release without a .rel is its lib/ plus kernel and stdlib if it lacks them."""
    why = f"release {r.name}"
    shipped = {d.name.partition("-")[0]: f"{why} (its lib/)" for d in r.lib_dirs}
    if r.apps:
        names = [name for name, _ in r.apps if name not in shipped]
    else:
        names = [name for name in otp.BASE_APPS if name not in shipped]
        why = f"release {r.name} has no .rel: {otp.BASE_REASON}"
    try:
        return [(catalog.get(name), why) for name in names], shipped
    except otp.AppError as e:
        raise ImageError(str(e)) from None


def compose_init(init: Path, adds: list[tuple[Path, str]], busybox: Path | None = None) -> Rootfs:
    """The root filesystem of an --init image: the executable as /init, run with no
    arguments (the kernel command line's `-- ARGS` append to them) and INIT_ENV."""
    check_static_executable(init)
    fs = Rootfs()
    if busybox:
        add_busybox(fs, busybox)
    for host, guest in adds:
        if guest == INIT_PATH:
            raise ImageError(f"--add {host}:{guest}: {INIT_PATH} is the --init executable")
        if host.is_dir():
            fs.add_tree(guest, host, "app")
        else:
            fs.add_file(guest, host, "app")
    fs.add_bytes(INIT_PATH, init.read_bytes(), "init", mode=rootfs.EXEC_MODE)
    fs.add_bytes("/etc/hosts", ETC_HOSTS.encode())
    fs.add_bytes("/etc/resolv.conf", ETC_RESOLV.encode())
    fs.add_bytes(HOSTNAME_FILE, f"{erts.GUEST_HOSTNAME}\n".encode())
    fs.add_bytes(ARGV_FILE, rootfs.encode_argv([INIT_PATH]))
    fs.add_bytes(ENV_FILE, rootfs.encode_env(INIT_ENV))
    fs.add_dir("/tmp")
    return fs


def parse_add(spec: str) -> tuple[Path, str]:
    host, sep, guest = spec.rpartition(":")
    if not sep or not host or not guest.startswith("/"):
        raise ImageError(f"--add {spec!r}: expected HOSTPATH:/GUEST/PATH")
    hp = Path(host)
    if not hp.exists():
        raise ImageError(f"--add {spec!r}: {host} does not exist")
    if guest.rstrip("/") in ("", "/etc/tyn") or guest.startswith(f"{ARGV_FILE}") or guest.startswith(ENV_FILE):
        raise ImageError(f"--add {spec!r}: {guest} is reserved for the image's init configuration")
    return hp, guest.rstrip("/") or guest


def check_node_name(option: str, value: str, longnames: bool) -> None:
    """A one-line error unless `value` is a node name net_kernel takes: ALIVE or ALIVE@HOST."""
    alive, at, host = value.partition("@")
    if not alive or not set(alive) <= NODE_ALIVE_CHARS:
        raise ImageError(f"{option} {value!r}: the name before @ must be letters, digits, _ or -")
    if at and (not host or any(c.isspace() or c == "@" for c in host)):
        raise ImageError(f"{option} {value!r}: bad host part after @")
    if at and not longnames and "." in host:
        raise ImageError(f"{option} {value!r}: a short name's host has no dots (use --name)")


def ebin_paths(host: Path, guest: str) -> list[str]:
    """-pa paths for an added directory: itself if it holds .beam files (an ebin), its ebin/
    subdirectory if it is an application directory, each lib/*/ebin of a lib tree."""
    if not host.is_dir():
        return []
    if host.name == "ebin" or any(host.glob("*.beam")):
        return [guest]
    if (host / "ebin").is_dir():
        return [f"{guest}/ebin"]
    return [f"{guest}/{d.parent.name}/ebin" for d in sorted(host.glob("*/ebin")) if d.is_dir()]


class _Parser(argparse.ArgumentParser):
    def error(self, message):          # one line, not usage + message
        raise ImageError(message)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m tyn.build image", description=__doc__.split("\n")[0],
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", type=Path, default=layout.DEFAULT_BUILD_DIR / "tyn.img",
                    help="image file to write (default: build/tyn.img)")
    ap.add_argument("--eval", metavar="EXPR", help="Erlang expressions to run (like erl -eval)")
    ap.add_argument("--release", type=Path, metavar="DIR", help="an OTP release directory to boot")
    ap.add_argument("--elixir", action="store_true", help="include Elixir (elixir, logger)")
    ap.add_argument("--otp-app", action="append", default=[], metavar="NAME",
                    help="include another OTP application (and what it requires); repeatable")
    ap.add_argument("--add", action="append", default=[], metavar="HOST:GUEST",
                    help="add a file or directory; ebin directories get -pa; repeatable")
    ap.add_argument("--format", choices=("boot", "cpio"), default="boot",
                    help="boot: kernel + rootfs in one multiboot ELF (default); cpio: the rootfs alone")
    ap.add_argument("--jit", action="store_true", help="use the BeamAsm (JIT) ERTS flavour")
    ap.add_argument("--beams", choices=BEAMS_MODES, default=None,
                    help="what the image carries of each .beam file: stripped (default): the chunks "
                         "the runtime reads; gz: the same gzip-compressed (smallest image, slower "
                         "loading); full: as shipped, with debug_info and docs (for debugging)")
    ap.add_argument("--shell", action="store_true",
                    help="an interactive shell on the console: the Erlang shell, or IEx with --elixir")
    ap.add_argument("--init", type=Path, metavar="HOSTPATH",
                    help="no BEAM: a static x86_64 executable becomes /init and is run instead")
    dist = ap.add_mutually_exclusive_group()
    dist.add_argument("--sname", metavar="NAME", help="a distributed node with a short name "
                      "(like erl -sname); the image carries and starts epmd.  With --release it "
                      "replaces a -sname/-name in the release's vm.args (a release whose vm.args "
                      "names the node is distributed without it; its -start_epmd false means no "
                      "epmd, and contradicts --sname/--name)")
    dist.add_argument("--name", metavar="NAME", help="a distributed node with a long name "
                      "(like erl -name); as --sname otherwise")
    ap.add_argument("--cookie", metavar="COOKIE", help="the node's magic cookie (like erl -setcookie; "
                    "replaces a release's -setcookie); without it: the release's -setcookie or "
                    "releases/COOKIE, else a random one in the image's $HOME/.erlang.cookie (printed)")
    ap.add_argument("--dist-port", type=int, metavar="PORT", help="the distribution's listen port "
                    "(kernel inet_dist_listen_min/max), so it can be published with tyn.run -p")
    ap.add_argument("--busybox", action="store_true",
                    help="add a shell and basic tools: Debian's busybox-static (downloaded once, "
                         "SHA-256 checked against apt's index) as /bin/busybox with /bin/sh and "
                         "the other applet links; os:cmd/1 and open_port spawn need /bin/sh")
    return ap


def check_dist_options(args) -> tuple[str | None, str | None, str | None]:
    """(sname, name, cookie) after checking them; a one-line ImageError otherwise.  With
    --release, --cookie and --dist-port may lean on a node name in the release's vm.args
    (checked by release_dist once the release is read)."""
    sname, lname, cookie = (getattr(args, o, None) for o in ("sname", "name", "cookie"))
    named = sname or lname or getattr(args, "release", None) is not None
    if cookie is not None and not named:
        raise ImageError("--cookie needs --sname or --name")
    if cookie is not None and (not cookie or any(c.isspace() for c in cookie)):
        raise ImageError("--cookie: must be non-empty, without spaces")
    port = getattr(args, "dist_port", None)
    if port is not None and not named:
        raise ImageError("--dist-port needs --sname or --name")
    if port is not None and not 0 < port < 65536:
        raise ImageError(f"--dist-port {port}: not a TCP port (1-65535)")
    if sname or lname:
        check_node_name("--sname" if sname else "--name", sname or lname, longnames=bool(lname))
    return sname, lname, cookie


@dataclass
class Dist:
    """A distributed node: its name flag and name, the cookie to pass (None: the release's
    vm.args has one, or a generated one), whether the builder generates the cookie file,
    and whether the image starts epmd (erlexec does unless -start_epmd false)."""
    flag: str
    node: str
    cookie: str | None
    generate_cookie: bool
    epmd: bool


def flag_values(init: list[str], flag: str) -> list[str]:
    """The value after each `flag` among init arguments (up to -extra, which ends them)."""
    out = []
    for i, a in enumerate(init):
        if a == "-extra":
            break
        if a == flag and i + 1 < len(init):
            out.append(init[i + 1])
    return out


def drop_flags(init: list[str], flags: tuple[str, ...]) -> list[str]:
    """init arguments without `flag value` for each of `flags` (up to -extra)."""
    out, i = [], 0
    while i < len(init):
        if init[i] == "-extra":
            return out + init[i:]
        if init[i] in flags:
            i += 2
            continue
        out.append(init[i])
        i += 1
    return out


def release_dist(args, init: list[str], r: release.Release) -> tuple[Dist | None, list[str]]:
    """The release's distribution, as `bin/<rel> start` would run it on Linux, after the
    command line's --sname/--name/--cookie (which win over vm.args), and the release's init
    arguments without the flags those replace.  A one-line ImageError when they contradict."""
    sname, lname, cookie = (getattr(args, o, None) for o in ("sname", "name", "cookie"))
    where = f"release {r.name}'s {r.vm_args.name if r.vm_args else 'vm.args'}"
    names = [(f, v) for f in NODE_NAME_FLAGS for v in flag_values(init, f)]
    start_epmd = flag_values(init, START_EPMD_FLAG)
    epmd = not (start_epmd and start_epmd[-1] == "false")
    own_epmd_module = flag_values(init, EPMD_MODULE_FLAG)
    if sname or lname:
        flag, node = ("-sname", sname) if sname else ("-name", lname)
        if not epmd:
            raise ImageError(f"--{flag[1:]} {node}: {where} says -start_epmd false (no epmd to "
                             "register with); drop one of them")
    elif names:
        if len(names) > 1:
            raise ImageError(f"{where} names the node more than once: "
                             f"{', '.join(f'{f} {v}' for f, v in names)}")
        flag, node = names[0]
        check_node_name(f"{where}: {flag}", node, longnames=flag == "-name")
    else:
        for given, option in ((cookie, "--cookie"), (getattr(args, "dist_port", None), "--dist-port")):
            if given is not None:
                raise ImageError(f"{option} needs --sname or --name (release {r.name}'s vm.args "
                                 "names no node)")
        return None, init
    if own_epmd_module and epmd:
        raise ImageError(f"{where} sets -epmd_module {own_epmd_module[-1]}, but the image starts epmd "
                         f"through its own ({EPMD_LAUNCHER_MODULE}); add -start_epmd false to use "
                         "the release's module without epmd")
    init = drop_flags(init, NODE_NAME_FLAGS)        # add_dist passes the one that counts
    generate = False
    if cookie is not None:
        init = drop_flags(init, (COOKIE_FLAG,))
    elif not flag_values(init, COOKIE_FLAG):
        cookie_file = r.root / "releases" / RELEASE_COOKIE_FILE
        if cookie_file.is_file():
            cookie = cookie_file.read_text(errors="replace").strip()
            if not cookie or any(c.isspace() for c in cookie):
                raise ImageError(f"release {r.name}: releases/{RELEASE_COOKIE_FILE} must hold one "
                                 "cookie without spaces")
        else:
            generate = True
    return Dist(flag, node, cookie, generate, epmd), init


BOOT_LOAD_MODULE = r"""
In = os:getenv("TYN_BOOT_IN"), Out = os:getenv("TYN_BOOT_OUT"),
Dir = os:getenv("TYN_BOOT_DIR"), Mod = list_to_atom(os:getenv("TYN_BOOT_MODULE")),
{ok, Bin} = file:read_file(In),
case catch binary_to_term(Bin) of
    {script, Id, Instrs} when is_list(Instrs) ->
        case lists:splitwith(fun(I) -> I =/= {progress, modules_loaded} end, Instrs) of
            {_, []} -> io:format("no {progress, modules_loaded} step~n"), halt(1);
            {Loading, Rest} ->
                New = Loading ++ [{path, [Dir]}, {primLoad, [Mod]} | Rest],
                ok = file:write_file(Out, term_to_binary({script, Id, New})),
                halt(0)
        end;
    _ -> io:format("not a boot script~n"), halt(1)
end.
"""


def release_boot_loading(hb, boot: Path, out: Path, guest_dir: str, module: str) -> Path:
    """A copy of a release's boot script that also loads `module` from `guest_dir` where it
    loads its own modules (embedded mode loads nothing else; interactive mode is unaffected)."""
    p = hb.eval(BOOT_LOAD_MODULE, env={"TYN_BOOT_IN": str(boot), "TYN_BOOT_OUT": str(out),
                                       "TYN_BOOT_DIR": guest_dir, "TYN_BOOT_MODULE": module})
    if p.returncode != 0 or not out.is_file():
        detail = " ".join((p.stdout + p.stderr).split())[:200]
        raise ImageError(f"cannot add {module} to the release's boot script {boot}: {detail}")
    return out


def add_dist(plan: Plan, dist: Dist, hb, work: Path, dist_port: int | None) -> None:
    """The init arguments (and epmd, its launcher and the cookie file) of a distributed node."""
    if dist.epmd:
        plan.epmd = erts.ensure_epmd()
        dist_ebin = work / "dist-ebin"
        dist_ebin.mkdir()
        erts.compile_erlang(hb, EPMD_LAUNCHER_SRC, dist_ebin)
        plan.app_files.append((dist_ebin, DIST_EBIN))
        plan.pa.append(DIST_EBIN)
        plan.init_args += ["-epmd_module", EPMD_LAUNCHER_MODULE]
    plan.init_args += [dist.flag, dist.node]
    if dist_port is not None:
        # First: of two -kernel settings of one key the first wins, so this beats vm.args'.
        plan.init_args[:0] = ["-kernel", "inet_dist_listen_min", str(dist_port),
                              "inet_dist_listen_max", str(dist_port)]
    if dist.cookie is not None:
        plan.init_args += [COOKIE_FLAG, dist.cookie]
    elif dist.generate_cookie:
        plan.cookie_file = "".join(secrets.choice(COOKIE_LETTERS) for _ in range(COOKIE_LENGTH))


def plan_image(args, hb_factory=erts.HostBeam) -> tuple[Plan, tempfile.TemporaryDirectory]:
    adds = [parse_add(s) for s in args.add]
    check_dist_options(args)           # before any build: a bad option costs nothing
    erts_dir = erts.ensure_erts(jit=args.jit)
    erts_vsn = erts.manifest(erts_dir)["erts_version"]
    hb = hb_factory(erts_dir)
    catalog = otp.AppCatalog(erts_dir)
    shell = getattr(args, "shell", False)
    plan = Plan(erts_dir, erts_vsn, [], beams=args.beams or BEAMS_STRIPPED, shell=shell)
    # -noshell and -noinput start no shell; a shell image leaves them out (IEx: Elixir's
    # own user, as the iex script starts it: -noshell -user elixir ... +iex).
    no_shell = [] if shell and not args.elixir else ["-noshell"]
    no_input = [] if shell else ["-noinput"]
    if getattr(args, "busybox", False):
        plan.busybox = erts.ensure_busybox()
    sname, lname, cookie = check_dist_options(args)
    work = tempfile.TemporaryDirectory(prefix="tyn-image-")
    dist = None
    if args.release is None and (sname or lname):
        dist = Dist("-sname" if sname else "-name", sname or lname, cookie, cookie is None, epmd=True)
    fixed, wanted = [], [(a, otp.BASE_REASON) for a in otp.BASE_APPS]

    if args.eval is not None:
        problem = erts.check_erlang_exprs(hb, args.eval)
        if problem:
            raise ImageError(f"--eval is not valid Erlang: {problem}")
    if args.release is not None:
        otp_apps = {a.name: a.vsn for a in catalog.apps.values()}
        try:
            r = release.load_release(args.release, erts_vsn, otp_apps)
            vm = release.read_args_file(r.vm_args) if r.vm_args else []
        except release.ReleaseError as e:
            raise ImageError(str(e)) from None
        plan.release = r
        fixed, plan.shipped = release_apps(r, catalog)
        wanted = []             # a release's own list is taken as is (release_apps)
        emu, init, env = release.split_vm_args(vm)
        dist, init = release_dist(args, init, r)
        vdir = f"{OTP_ROOT}/releases/{r.vsn}"
        if dist is not None and dist.epmd:
            # Embedded mode loads only what the boot script lists: tyn_epmd joins it.
            plan.boot_file = release_boot_loading(hb, r.boot, Path(work.name) / "start.boot",
                                                  DIST_EBIN, EPMD_LAUNCHER_MODULE)
        plan.emu_args += emu
        plan.init_args += ["-boot", f"{vdir}/start", "-boot_var", "RELEASE_LIB", f"{OTP_ROOT}/lib",
                           *no_shell, *no_input]
        if "-mode" not in init:
            plan.init_args += ["-mode", "embedded"]
        if r.sys_config:
            plan.init_args += ["-config", f"{vdir}/sys"]
        plan.init_args += init
        plan.env.update({"RELEASE_ROOT": OTP_ROOT, "RELEASE_NAME": r.name, "RELEASE_VSN": r.vsn,
                         "RELEASE_LIB": f"{OTP_ROOT}/lib", **env})
    else:
        plan.init_args += ["-boot", f"{OTP_ROOT}/bin/start_clean", *no_shell]
    wanted += [(a, "--elixir") for a in otp.ELIXIR_APPS if args.elixir]
    wanted += [(a, "--elixir --shell") for a in otp.IEX_APPS if args.elixir and shell] + [(a, "--otp-app") for a in args.otp_app]
    try:
        extra = catalog.closure_why(wanted, have={**plan.shipped, **{a.name: why for a, why in fixed}})
    except otp.AppError as e:
        raise ImageError(str(e)) from None
    plan.apps = sorted(fixed + extra, key=lambda aw: aw[0].name)
    for host, guest in adds:
        plan.app_files.append((host, guest))
        plan.pa += ebin_paths(host, guest)
    if dist is not None:
        add_dist(plan, dist, hb, Path(work.name), getattr(args, "dist_port", None))
    if args.eval is not None:
        plan.init_args += ["-eval", args.eval]
    elif args.release is None and not shell:
        ebin = Path(work.name) / "ebin"
        ebin.mkdir()
        erts.compile_erlang(hb, DEMO_SRC, ebin)
        plan.app_files.append((ebin, f"{APP_ROOT}/ebin"))
        plan.pa.append(f"{APP_ROOT}/ebin")
        plan.init_args += ["-noinput", "-s", DEMO_MODULE, "main"]
    if shell:
        plan.env["TERM"] = SHELL_TERM
        if args.elixir:
            plan.init_args += ["-elixir_root", f"{OTP_ROOT}/lib", "-user", "elixir",
                               "-extra", "--no-halt", "+iex"]
    return plan, work


def _mib(n: int) -> str:
    return f"{n / (1 << 20):7.2f} MiB"


def build(args) -> dict:
    out: Path = args.output
    if out.exists() and out.is_dir():
        raise ImageError(f"output {out} is a directory")
    if getattr(args, "init", None) is not None:
        clash = [f"--{o.replace('_', '-')}" for o in BEAM_ONLY if getattr(args, o, None)]
        if clash:
            raise ImageError(f"--init cannot be combined with {', '.join(clash)}")
        fs = compose_init(args.init, [parse_add(s) for s in args.add],
                          erts.ensure_busybox() if getattr(args, "busybox", False) else None)
        work = contextlib.nullcontext()
    else:
        fs = None
        plan, work = plan_image(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    with work:
        info = {}
        if fs is None:
            try:
                fs = compose(plan)
            except beamstrip.BeamError as e:
                raise ImageError(str(e)) from None
            if plan.cookie_file:
                info["cookie"] = plan.cookie_file
            info = {**info, "apps": [(name, why, fs.apps.get(name, 0)) for name, why in plan.app_table()],
                    "beams": plan.beams, "goal": size_goal(plan)}
        if args.format == "cpio":
            size = fs.write(out)
            return {"parts": fs.parts, "rootfs": size, "total": size, **info}
        try:
            from tyn.build import bootimage, kernel
        except ImportError as e:
            raise ImageError(f"cannot build a boot image: kernel builder unavailable ({e}); try --format cpio")
        fd, cpio_tmp = tempfile.mkstemp(prefix=f".{out.name}.rootfs.", dir=out.parent)
        os.close(fd)
        try:
            rootfs_size = fs.write(Path(cpio_tmp))
            try:
                kernel_elf = kernel.build_kernel()
            except SystemExit as e:
                raise ImageError(f"kernel build failed (exit {e.code})") from None
            sizes = bootimage.write_boot_image(kernel_elf, Path(cpio_tmp), out)
        finally:
            if os.path.exists(cpio_tmp):
                os.unlink(cpio_tmp)
        return {"parts": fs.parts, "rootfs": rootfs_size, "kernel": sizes.get("kernel", 0),
                "total": sizes.get("total", out.stat().st_size), **info}


def size_goal(plan: Plan) -> tuple[str, int] | None:
    """(what, MiB) of issue 13's size goal for this kind of boot image, if one applies: a
    kernel + stdlib image (the hello, the demo) and a plain Elixir image."""
    if plan.release is not None or plan.beams == BEAMS_FULL:
        return None
    names = {a.name for a, _ in plan.apps}
    if names == set(otp.BASE_APPS):
        return "a kernel + stdlib image", HELLO_GOAL_MIB
    if names == set(otp.BASE_APPS) | set(otp.ELIXIR_APPS) | {"compiler"}:
        return "an Elixir image", ELIXIR_GOAL_MIB
    return None


def report(out: Path, sizes: dict) -> None:
    print(f"{out}: {_mib(sizes['total'])}")
    if "kernel" in sizes:
        print(f"  kernel            {_mib(sizes['kernel'])}")
    print(f"  rootfs (cpio)     {_mib(sizes['rootfs'])}")
    for part, n in sorted(sizes["parts"].items(), key=lambda kv: -kv[1]):
        print(f"    {part:<16}{_mib(n)}")
    if "apps" in sizes:
        print(f"  applications ({len(sizes['apps'])}; .beam files: {BEAMS_HELP[sizes['beams']]})")
        for name, why, n in sizes["apps"]:
            print(f"    {name:<24}{_mib(n)}  {why}")
    if "cookie" in sizes:
        print(f"  erlang cookie (generated, in the guest's {COOKIE_FILE}): {sizes['cookie']}")
    goal = sizes.get("goal")
    if goal and "kernel" in sizes:
        what, mib = goal
        verdict = "met" if sizes["total"] <= mib << 20 else "MISSED"
        print(f"  size goal for {what}: <= {mib} MiB, {verdict} ({sizes['total'] / (1 << 20):.2f} MiB)")


def main(argv: list[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
        report(args.output, build(args))
        return 0
    except (ImageError, erts.ErtsError, rootfs.RootfsError) as e:
        msg = str(e)
    except OSError as e:
        if rootfs.is_no_space(e):
            msg = f"no space left on device writing {getattr(args, 'output', '?')}"
        else:
            msg = f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")
    except Exception as e:   # e.g. the boot-image writer's own errors
        msg = f"{type(e).__name__}: {e}"
    print(f"tyn.build image: {' '.join(msg.split())}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
