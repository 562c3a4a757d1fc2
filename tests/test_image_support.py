"""Helpers shared by the image, rootfs and hostrun tests (no tests here)."""

import subprocess
import sys
from pathlib import Path

from tyn.build import erts, otp
from tyn.build.cpio import read_members
from tyn.build.rootfs import decode_argv, decode_env

REPO = Path(__file__).resolve().parents[1]

TINY_SRC = r"""
-module(tiny).
-behaviour(application).
-export([start/2, stop/1]).
start(_Type, _Args) ->
    io:format("tiny: up greeting=~p flag=~p async=~p~n",
              [application:get_env(tiny, greeting, none), init:get_argument(tiny_flag),
               erlang:system_info(thread_pool_size)]),
    spawn(fun() -> timer:sleep(50), init:stop() end),
    {ok, spawn_link(fun() -> receive stop -> ok end end)}.
stop(_) -> ok.
"""

MAKE_RELEASE = r"""
Rel = os:getenv("TYN_REL"), Vsn = "0.1.0",
Ebin = filename:join([Rel, "lib", "tiny-" ++ Vsn, "ebin"]),
ok = filelib:ensure_path(Ebin),
{ok, tiny} = compile:file(os:getenv("TYN_SRC"), [{outdir, Ebin}, deterministic]),
ok = file:write_file(filename:join(Ebin, "tiny.app"),
    io_lib:format("~p.~n", [{application, tiny, [{description, "tiny"}, {vsn, Vsn}, {modules, [tiny]}, {registered, []},
                            {applications, [kernel, stdlib]}, {mod, {tiny, []}}]}])),
RelDir = filename:join([Rel, "releases", Vsn]),
ok = filelib:ensure_dir(filename:join(RelDir, "x")),
{ok, _} = application:ensure_all_started(sasl),
Apps = [{A, V} || A <- [kernel, stdlib], {_, _, V} <- [lists:keyfind(A, 1, application:loaded_applications())]],
ok = file:write_file(filename:join(RelDir, "tiny.rel"),
    io_lib:format("~p.~n", [{release, {"tiny", Vsn}, {erts, os:getenv("TYN_ERTS_VSN")}, Apps ++ [{tiny, Vsn}]}])),
{ok, _, _} = systools:make_script(filename:join(RelDir, "tiny"),
                          [{path, [Ebin]}, {outdir, RelDir}, silent, no_warn_sasl]),
{ok, _} = file:copy(filename:join(RelDir, "tiny.boot"), filename:join(RelDir, "start.boot")),
ok = file:write_file(filename:join(RelDir, "sys.config"), "[{tiny, [{greeting, \"from sys.config\"}]}].\n"),
ok = file:write_file(filename:join(RelDir, "vm.args"), "## tiny\n-tiny_flag hello\n+A 7\n"),
ok = file:write_file(filename:join([Rel, "releases", "start_erl.data"]), os:getenv("TYN_ERTS_VSN") ++ " " ++ Vsn ++ "\n"),
halt(0).
"""


def make_tiny_release(dest: Path) -> Path:
    """A real release built on the host by the static beam.smp (compile + systools)."""
    erts_dir = erts.ensure_erts()
    src = dest.parent / "tiny.erl"
    src.write_text(TINY_SRC)
    hb = erts.HostBeam(erts_dir)
    p = hb.eval(MAKE_RELEASE, env={"TYN_REL": str(dest), "TYN_SRC": str(src),
                                   "TYN_ERTS_VSN": erts.manifest(erts_dir)["erts_version"]})
    assert p.returncode == 0, p.stdout + p.stderr
    assert (dest / "releases/0.1.0/start.boot").is_file()
    return dest


def build_image(*args, check=True):
    p = subprocess.run([sys.executable, "-m", "tyn.build", "image", *map(str, args)],
                       capture_output=True, text=True, cwd=REPO)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def rootfs_of(cpio: Path) -> dict:
    return {m.name: m for m in read_members(cpio.read_bytes())}


def init_config(members: dict) -> tuple[list[str], dict]:
    return decode_argv(members["etc/tyn/argv"].data), decode_env(members["etc/tyn/env"].data)
