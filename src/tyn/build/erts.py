"""Driver for erts-build/: the cached static-musl ERTS and the matching .beam trees.

`ensure_erts()` runs erts-build/build-erts.sh (a cache hit takes milliseconds, a cold
build about two minutes, with the step name and elapsed time shown on stderr) and returns
the cache directory:

    <dir>/bin/beam.smp, <dir>/bin/erl_child_setup   stripped, static
    <dir>/debug/beam.smp                             with symbols
    <dir>/otp/{lib/<app>-<vsn>/ebin, bin/*.boot, releases/}   from trixie's .debs
    <dir>/elixir/lib/<app>/ebin
    <dir>/MANIFEST                                   key=value: versions, flags, checksums

`HostBeam` runs that very beam.smp on the host (to compile, check and build releases).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
ERTS_BUILD_DIR = REPO_ROOT / "erts-build"
BUILD_SCRIPT = ERTS_BUILD_DIR / "build-erts.sh"
FETCH_SCRIPT = ERTS_BUILD_DIR / "fetch-beams.sh"
BUSYBOX_SCRIPT = ERTS_BUILD_DIR / "fetch-busybox.sh"
EPMD_SCRIPT = ERTS_BUILD_DIR / "build-epmd.sh"

# The node name the guest kernel reports through uname(): it must have a domain part, or
# kernel's inet_config resolves the bare name with the native resolver (inet_gethost, a
# forked port program) during boot.  See docs/IMAGE.md.
GUEST_HOSTNAME = "tyn.local"


class ErtsError(Exception):
    """The ERTS build or a host run of beam.smp failed; the message is one line."""


def cache_root() -> Path:
    return Path(os.environ.get("TYN_CACHE") or Path.home() / ".cache" / "tyn")


def _run_script(script: Path, args: list[str], jit: bool, quiet: bool = False) -> Path:
    """Run an erts-build script; its progress goes to stderr (or, when quiet, only the last
    error line, into the exception)."""
    env = dict(os.environ, TYN_CACHE=str(cache_root()))
    if jit:
        env["TYN_ERTS_JIT"] = "1"
    proc = subprocess.run(["bash", str(script), *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE if quiet else None, env=env, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        why = (proc.stderr or "").strip().splitlines()[-1:] if quiet else ["see the messages above"]
        raise ErtsError(f"{script.relative_to(REPO_ROOT)} failed (exit {proc.returncode}): {' '.join(why)}")
    if quiet and proc.stderr:
        sys.stderr.write(proc.stderr)
    return Path(lines[-1])


def ensure_erts(jit: bool = False) -> Path:
    """Build or reuse the cached ERTS; return its directory (see the module doc)."""
    out = _run_script(BUILD_SCRIPT, [], jit)
    for need in ("bin/beam.smp", "bin/erl_child_setup", "otp/bin/start_clean.boot", "MANIFEST"):
        if not (out / need).exists():
            raise ErtsError(f"ERTS cache {out} lacks {need}")
    return out


def ensure_epmd() -> Path:
    """OTP's own epmd, static musl, from the same verified source as ERTS, cached apart from
    it (erts-build/build-epmd.sh); returns the stripped binary."""
    out = _run_script(EPMD_SCRIPT, [], False)
    if not (out / "bin" / "epmd").exists():
        raise ErtsError(f"epmd cache {out} lacks bin/epmd")
    return out / "bin" / "epmd"


def ensure_debian_packages(packages: list[str]) -> Path:
    """Add the .beam content of more trixie packages (erlang-mnesia, ...); returns the beams dir."""
    return _run_script(FETCH_SCRIPT, list(packages), False, quiet=True)


def ensure_busybox() -> Path:
    """Debian trixie's busybox-static, downloaded once and checked against apt's Packages
    index (erts-build/fetch-busybox.sh); returns the static busybox binary."""
    return _run_script(BUSYBOX_SCRIPT, [], False, quiet=True)


def manifest(erts_dir: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (erts_dir / "MANIFEST").read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def uts_prefix(hostname: str) -> list[str]:
    """A command prefix that runs the rest in a new UTS namespace named `hostname`, so a host
    run sees the node name the guest kernel reports.  Root uses unshare --uts; others
    try a user namespace.  Empty if unshare is missing."""
    unshare, sethost, sh = shutil.which("unshare"), shutil.which("hostname"), shutil.which("sh")
    if not (unshare and sethost and sh):
        return []
    userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return [unshare, *userns, "--uts", "--", sh, "-c", f'{sethost} "$0" && exec "$@"', hostname]


class HostBeam:
    """The cached static beam.smp run on the host with start_clean and the OTP tree."""

    def __init__(self, erts_dir: Path, extra_paths: list[Path] = ()):
        self.erts_dir = erts_dir
        self.root = (erts_dir / "otp").resolve()
        self.bindir = (erts_dir / "bin").resolve()
        self.extra_paths = list(extra_paths)

    def command(self, args: list[str]) -> list[str]:
        pa = [a for p in self.extra_paths for a in ("-pa", str(p))]
        return [*uts_prefix(GUEST_HOSTNAME), str(self.bindir / "beam.smp"), "--",
                "-root", str(self.root), "-bindir", str(self.bindir), "-progname", "erl",
                "-home", str(Path.home()), "-boot", str(self.root / "bin" / "start_clean"),
                "-noshell", "-noinput", *pa, *args]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return dict(os.environ, BINDIR=str(self.bindir), ROOTDIR=str(self.root), EMU="beam",
                    PROGNAME="erl", ERL_CRASH_DUMP_SECONDS="0", **(extra or {}))

    def eval(self, code: str, env: dict[str, str] | None = None, timeout: float = 120,
             cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run `code` (Erlang expressions ending in halt) and return the completed process."""
        return subprocess.run(self.command(["-eval", code]), env=self.env(env), cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)


# Erlang snippets run by the host beam.  Inputs come through environment variables, so no
# quoting of user text into code is needed.
CHECK_EXPRS = r"""
S = os:getenv("TYN_EXPRS"),
R = case erl_scan:string(S) of
        {ok, [], _} -> {error, "empty expression"};
        {ok, Toks0, _} ->
            %% init adds the final dot when it is missing: so do we.
            Toks = case lists:last(Toks0) of
                       {dot, _} -> Toks0;
                       _ -> Toks0 ++ [{dot, erl_anno:new(1)}]
                   end,
            case erl_parse:parse_exprs(Toks) of
                {ok, _} -> ok;
                {error, {L, M, E}} -> {error, io_lib:format("line ~p: ~ts", [L, M:format_error(E)])}
            end;
        {error, {L, M, E}, _} -> {error, io_lib:format("line ~p: ~ts", [L, M:format_error(E)])}
    end,
case R of
    ok -> halt(0);
    {error, Msg} -> io:format("~ts~n", [lists:flatten(Msg)]), halt(1)
end.
"""

COMPILE_FILE = r"""
Src = os:getenv("TYN_SRC"), Out = os:getenv("TYN_OUTDIR"),
case compile:file(Src, [{outdir, Out}, deterministic, return_errors, return_warnings]) of
    {ok, _, _} -> halt(0);
    {error, Es, _} -> io:format("~p~n", [Es]), halt(1)
end.
"""


def check_erlang_exprs(hb: HostBeam, exprs: str) -> str | None:
    """None if `exprs` scans and parses as Erlang expressions, else the parser's message."""
    p = hb.eval(CHECK_EXPRS, env={"TYN_EXPRS": exprs})
    if p.returncode == 0:
        return None
    msg = (p.stdout.strip() or p.stderr.strip() or f"exit {p.returncode}").splitlines()
    return msg[0] if msg else "does not parse"


def compile_erlang(hb: HostBeam, src: Path, outdir: Path) -> Path:
    p = hb.eval(COMPILE_FILE, env={"TYN_SRC": str(src), "TYN_OUTDIR": str(outdir)})
    beam = outdir / (src.stem + ".beam")
    if p.returncode != 0 or not beam.exists():
        detail = " ".join((p.stdout + p.stderr).split())[:300]
        raise ErtsError(f"compiling {src.name} with the host beam.smp failed: {detail}")
    return beam


def main(argv: list[str]) -> int:
    try:
        print(ensure_erts(jit="--jit" in argv))
    except ErtsError as e:
        print(f"tyn.build.erts: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
