"""Distributed Erlang from an OTP release: `tyn.build image --release R` with a node name,
from the release's own vm.args (-sname/-name, -setcookie, -start_epmd) or from the command
line (--sname/--name/--cookie/--dist-port, which win over vm.args).  The image ships OTP's
epmd and starts it as `bin/<rel> start` (erlexec) would on Linux; an embedded-mode release
loads tyn_epmd because the image's copy of its boot script lists it.

Host checks read the image's init arguments and files; two guest boots (TCG) check that the
release really is a node: one pinged by a second node in the same guest, one by a node on
the host through user-net port forwarding (the clustering case: one release, the name and
cookie given per image).
"""
import subprocess
from pathlib import Path

import pytest

from tyn.build import erts, image as image_mod
from test_image_support import MAKE_RELEASE, build_image, init_config, rootfs_of
from tyn.build.cpio import read_members
from tyn.hostrun import extract_cpio

HOST = erts.GUEST_HOSTNAME.split(".")[0]        # a short name's host part
PREFIX = "reldist "

# The release's one application.  -reldist_mode peer: check epmd and start a second node
# in the guest that pings this one and makes an erpc call; wait: wait for a node to come
# up (from the host), then halt.  One line per check: "reldist <name>: <term>".
RELEASE_SRC = r"""
-module(tiny).
-behaviour(application).
-export([start/2, stop/1]).

start(_Type, _Args) ->
    spawn(fun() -> timer:sleep(100), check(init:get_argument(reldist_mode)) end),
    {ok, spawn_link(fun() -> receive stop -> ok end end)}.

stop(_) -> ok.

out(K, V) -> io:format("reldist ~s: ~0p~n", [K, V]).

collect(P, Acc) ->
    receive
        {P, {data, D}} -> collect(P, [D | Acc]);
        {P, {exit_status, S}} -> {iolist_to_binary(lists:reverse(Acc)), S}
    after 300000 -> {iolist_to_binary(lists:reverse(Acc)), timeout}
    end.

check({ok, [["peer"]]}) ->
    out("node", node()),
    out("cookie", erlang:get_cookie()),
    {ok, Names} = erl_epmd:names({127,0,0,1}),
    out("epmd_names", [N || {N, _} <- Names]),
    Bin = os:getenv("BINDIR"),
    {EpmdOut, EpmdStatus} = collect(open_port({spawn_executable, Bin ++ "/epmd"},
                                              [binary, exit_status, stderr_to_stdout, {args, ["-names"]}]), []),
    out("epmd_cli_status", EpmdStatus),
    out("epmd_cli_lists_node", binary:match(EpmdOut, <<"name relnode at port ">>) =/= nomatch),
    Root = code:root_dir(),
    Me = atom_to_list(node()),
    Code = "io:format(\"peer-ping ~p~n\", [net_adm:ping('" ++ Me ++ "')]), "
           "io:format(\"peer-rpc ~p~n\", [erpc:call('" ++ Me ++ "', application, which_applications, [])]), "
           "halt().",
    Peer = open_port({spawn_executable, Bin ++ "/beam.smp"},
                     [binary, exit_status, stderr_to_stdout,
                      {args, ["--", "-root", Root, "-bindir", Bin, "-progname", "erl", "-home", "/",
                              "-boot", Root ++ "/bin/start_clean", "-noshell", "-noinput",
                              "-sname", "peer", "-setcookie", atom_to_list(erlang:get_cookie()),
                              "-eval", Code]}]),
    {PeerOut, PeerStatus} = collect(Peer, []),
    out("peer_status", PeerStatus),
    out("peer_ping", binary:match(PeerOut, <<"peer-ping pong">>) =/= nomatch),
    out("peer_rpc_sees_release", binary:match(PeerOut, <<"{tiny,\"tiny\",\"0.1.0\"}">>) =/= nomatch),
    out("peer_output", PeerOut),
    halt();
check({ok, [["wait"]]}) ->
    ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
    out("node", node()),
    out("ready", true),
    receive {nodeup, N, _} -> out("saw", N) after 300000 -> out("saw", none) end,
    receive {nodedown, _, _} -> ok after 60000 -> ok end,
    halt();
check(Other) ->
    out("bad_mode", Other),
    halt(3).
"""

PEER_EXPECTED = {
    "node": f"relnode@{HOST}",
    "cookie": "relcookie",
    "epmd_names": '["relnode"]',
    "epmd_cli_status": "0",
    "epmd_cli_lists_node": "true",
    "peer_status": "0",
    "peer_ping": "true",
    "peer_rpc_sees_release": "true",
}


def make_release(dest: Path, vm_args: str) -> Path:
    """A real release (compile + systools on the host's static beam.smp) of RELEASE_SRC,
    with `vm_args` as its releases/0.1.0/vm.args."""
    erts_dir = erts.ensure_erts()
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = dest.parent / "tiny.erl"
    src.write_text(RELEASE_SRC)
    p = erts.HostBeam(erts_dir).eval(MAKE_RELEASE, env={
        "TYN_REL": str(dest), "TYN_SRC": str(src), "TYN_ERTS_VSN": erts.manifest(erts_dir)["erts_version"]})
    assert p.returncode == 0, p.stdout + p.stderr
    (dest / "releases/0.1.0/vm.args").write_text(vm_args)
    return dest


def error_lines(stderr: str) -> list[str]:
    """stderr without the ERTS cache's progress lines."""
    return [l for l in stderr.strip().splitlines() if not l.startswith("[erts-build]")]


def checks(text: str) -> dict[str, str]:
    got = {}
    for line in text.replace("\r\n", "\n").splitlines():
        if line.startswith(PREFIX) and ": " in line:
            k, v = line[len(PREFIX):].split(": ", 1)
            got[k] = v
    return got


def flag_values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]


def cpio_image(tmp_path: Path, rel: Path, *args: str) -> dict:
    out = tmp_path / "img.cpio"
    p = build_image("--release", rel, *args, "--format", "cpio", "-o", out, check=False)
    assert p.returncode == 0, p.stderr
    return rootfs_of(out) | {"__stdout__": p.stdout}


@pytest.fixture(scope="module")
def named_release(tmp_path_factory) -> Path:
    """vm.args names the node and sets the cookie, as rebar3's template does."""
    return make_release(tmp_path_factory.mktemp("named") / "rel",
                        "-sname relnode\n-setcookie relcookie\n-reldist_mode peer\n+A 4\n")


# ------------------------------------------------------------------ the image (host)

def test_vm_args_name_ships_and_starts_epmd(tmp_path, named_release):
    fs = cpio_image(tmp_path, named_release)
    argv, _ = init_config(fs)
    assert flag_values(argv, "-sname") == ["relnode"]
    assert flag_values(argv, "-setcookie") == ["relcookie"]
    assert flag_values(argv, "-epmd_module") == ["tyn_epmd"]
    assert [n for n in fs if n.endswith("/bin/epmd")], "no epmd in the image"
    assert "app/dist/ebin/tyn_epmd.beam" in fs
    assert "-pa" in argv and argv[argv.index("-pa") + 1] == image_mod.DIST_EBIN
    # The image's boot script loads tyn_epmd (embedded mode loads nothing else); the
    # release's own file is left as it was.
    boot = fs["otp/releases/0.1.0/start.boot"].data
    assert b"tyn_epmd" in boot and b"tyn_epmd" not in (named_release / "releases/0.1.0/start.boot").read_bytes()
    assert "erlang cookie (generated" not in fs["__stdout__"]


def test_boot_script_still_loads_in_order(tmp_path, named_release):
    """The amended script is a valid boot script: tyn_epmd's primLoad sits before the
    modules_loaded step, and nothing else changed."""
    fs = cpio_image(tmp_path, named_release)
    amended = tmp_path / "amended.boot"
    amended.write_bytes(fs["otp/releases/0.1.0/start.boot"].data)
    hb = erts.HostBeam(erts.ensure_erts())
    p = hb.eval(r"""
        {ok, A} = file:read_file(os:getenv("A")), {ok, O} = file:read_file(os:getenv("O")),
        {script, Id, IA} = binary_to_term(A), {script, Id, IO} = binary_to_term(O),
        Added = IA -- IO,
        io:format("added ~0p~n", [Added]),
        io:format("order ~0p~n", [lists:prefix(Added, lists:dropwhile(fun(I) -> not lists:member(I, Added) end, IA))
                                   andalso lists:nth(length(lists:takewhile(fun(I) -> I =/= {progress, modules_loaded} end, IA)), IA)
                                           =:= {primLoad, [tyn_epmd]}]),
        halt().""", env={"A": str(amended), "O": str(named_release / "releases/0.1.0/start.boot")})
    assert 'added [{path,["/app/dist/ebin"]},{primLoad,[tyn_epmd]}]' in p.stdout, p.stdout + p.stderr
    assert "order true" in p.stdout, p.stdout


def test_command_line_wins_over_vm_args(tmp_path, named_release):
    fs = cpio_image(tmp_path, named_release, "--name", "cli@h.example", "--cookie", "clicookie",
                    "--dist-port", "4370")
    argv, _ = init_config(fs)
    assert flag_values(argv, "-sname") == [] and flag_values(argv, "-name") == ["cli@h.example"]
    assert flag_values(argv, "-setcookie") == ["clicookie"]
    assert flag_values(argv, "-reldist_mode") == ["peer"]       # the rest of vm.args stays
    # The port comes before vm.args: of two -kernel settings of a key, the first wins.
    assert argv.index("inet_dist_listen_min") < argv.index("-boot")


def test_dist_port_beats_the_release_kernel_setting(tmp_path):
    """What the ordering above relies on, checked on the host's own beam.smp."""
    hb = erts.HostBeam(erts.ensure_erts())
    cmd = hb.command(["-kernel", "inet_dist_listen_min", "4370", "-kernel", "inet_dist_listen_min", "9",
                      "-eval", 'io:format("~p~n", [application:get_env(kernel, inet_dist_listen_min)]), halt().'])
    p = subprocess.run(cmd, env=hb.env(), capture_output=True, text=True, timeout=120)
    assert "{ok,4370}" in p.stdout, p.stdout + p.stderr


def test_start_epmd_false_ships_no_epmd(tmp_path):
    rel = make_release(tmp_path / "noepmd" / "rel", "-sname relnode\n-start_epmd false\n")
    fs = cpio_image(tmp_path, rel)
    argv, _ = init_config(fs)
    assert flag_values(argv, "-sname") == ["relnode"]
    assert flag_values(argv, "-start_epmd") == ["false"]
    assert not flag_values(argv, "-epmd_module")
    assert not [n for n in fs if n.endswith("/bin/epmd") or "tyn_epmd" in n]
    assert fs["otp/releases/0.1.0/start.boot"].data == (rel / "releases/0.1.0/start.boot").read_bytes()


def test_mix_cookie_file_and_generated_cookie(tmp_path):
    rel = make_release(tmp_path / "mixish" / "rel", "-name relnode\n")
    (rel / "releases/COOKIE").write_text("MIXCOOKIE\n")
    argv, _ = init_config(cpio_image(tmp_path, rel))
    assert flag_values(argv, "-setcookie") == ["MIXCOOKIE"] and flag_values(argv, "-name") == ["relnode"]
    (rel / "releases/COOKIE").unlink()
    fs = cpio_image(tmp_path, rel)
    argv, _ = init_config(fs)
    assert not flag_values(argv, "-setcookie")
    cookie = fs[".erlang.cookie"].data.decode()
    assert len(cookie) == image_mod.COOKIE_LENGTH and cookie in fs["__stdout__"]


def test_release_without_a_name_stays_undistributed(tmp_path):
    rel = make_release(tmp_path / "plain" / "rel", "-reldist_mode wait\n")
    fs = cpio_image(tmp_path, rel)
    argv, _ = init_config(fs)
    assert not [a for a in argv if a in ("-sname", "-name", "-epmd_module", "-setcookie")]
    assert not [n for n in fs if n.endswith("/bin/epmd")]


@pytest.mark.parametrize("vm_args, extra, message", [
    ("-sname relnode\n-start_epmd false\n", ["--sname", "x"],
     "--sname x: release tiny's vm.args says -start_epmd false"),
    ("-sname a\n-name b\n", [], "release tiny's vm.args names the node more than once: -sname a, -name b"),
    ("-sname relnode\n-epmd_module my_epmd\n", [], "sets -epmd_module my_epmd, but the image starts epmd"),
    ("-sname bad.name\n", [], "release tiny's vm.args: -sname 'bad.name': the name before @ must be"),
    ("+A 4\n", ["--cookie", "c"], "--cookie needs --sname or --name (release tiny's vm.args names no node)"),
    ("+A 4\n", ["--dist-port", "4370"], "--dist-port needs --sname or --name (release tiny's vm.args names no node)"),
])
def test_contradictions_are_one_line_errors(tmp_path, vm_args, extra, message):
    rel = make_release(tmp_path / "bad" / "rel", vm_args)
    out = tmp_path / "x.img"
    p = build_image("--release", rel, *extra, "-o", out, check=False)
    lines = error_lines(p.stderr)
    assert p.returncode != 0 and not out.exists() and not list(tmp_path.glob(".x.img*"))
    assert len(lines) == 1 and message in lines[0], p.stderr


def test_bad_release_cookie_file(tmp_path):
    rel = make_release(tmp_path / "badcookie" / "rel", "-sname relnode\n")
    (rel / "releases/COOKIE").write_text("two words\n")
    out = tmp_path / "x.img"
    p = build_image("--release", rel, "-o", out, check=False)
    assert p.returncode != 0 and not out.exists()
    assert error_lines(p.stderr) == ["tyn.build image: release tiny: releases/COOKIE must hold one cookie "
                                     "without spaces"], p.stderr


# ------------------------------------------------------------------ in the guest (TCG)

def test_guest_release_named_by_vm_args(tmp_path, boot, named_release):
    """The release boots as relnode@tyn (embedded mode), its epmd lists it, and a second
    node in the guest pings it and calls it with erpc."""
    image = tmp_path / "named.img"
    build_image("--release", named_release, "-o", image)
    vm = boot(image, accel="tcg", timeout=900, args=["-m", "1G"])
    vm.expect_exit(0)
    got = checks(vm.log)
    assert {k: got.get(k) for k in PEER_EXPECTED} == PEER_EXPECTED, vm.log[-6000:]


DIST_PORT = 4370
EPMD_PORT = 4369


def test_host_node_to_release_named_on_the_command_line(tmp_path, boot, netns):
    """One release, its node name and cookie given per image (they replace vm.args'): a
    node on the host finds it through the guest's epmd, pings it and calls it."""
    rel = make_release(tmp_path / "cli" / "rel", "-sname relnode\n-setcookie relcookie\n-reldist_mode wait\n")
    image = tmp_path / "cli.img"
    build_image("--release", rel, "--sname", "clinode", "--cookie", "clicookie", "--dist-port", str(DIST_PORT),
                "-o", image)
    vm = boot(image, accel="tcg", timeout=600, wrapper=["ip", "netns", "exec", netns],
              args=["-p", f"{EPMD_PORT}:{EPMD_PORT}", "-p", f"{DIST_PORT}:{DIST_PORT}"])
    vm.expect("reldist ready: true")
    inetrc = tmp_path / "inetrc"
    inetrc.write_text(f'{{lookup, [file]}}.\n{{host, {{127,0,0,1}}, ["{erts.GUEST_HOSTNAME}", "{HOST}"]}}.\n')
    hb = erts.HostBeam(erts.ensure_erts())
    target = f"clinode@{HOST}"
    code = (f"io:format(\"host-ping ~p~n\", [net_adm:ping('{target}')]), "
            f"io:format(\"host-rpc ~p~n\", [catch erpc:call('{target}', application, get_application, [tiny])]), "
            "halt().")
    cmd = ["ip", "netns", "exec", netns, *hb.command(["-sname", "hostnode", "-dist_listen", "false",
                                                       "-setcookie", "clicookie", "-eval", code])]
    host = subprocess.run(cmd, env=hb.env({"ERL_INETRC": str(inetrc)}), capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    assert "host-ping pong" in host.stdout, host.stdout + host.stderr + vm.log[-3000:]
    assert "host-rpc {ok,tiny}" in host.stdout, host.stdout + host.stderr
    vm.expect_exit(0)
    assert checks(vm.log).get("node") == target and checks(vm.log).get("saw") == f"hostnode@{HOST}", vm.log[-4000:]
