"""Distributed Erlang in the guest with OTP's own epmd: `tyn.build image --sname NAME`
carries the stock epmd (built by erts-build/build-epmd.sh) in ERTS's bin dir and starts it
as erlexec would (tyn_epmd.erl), and OTP's erl_epmd registers the node over 127.0.0.1:4369.

The guest check starts a second BEAM node in the same guest as a port program: it finds
the first through epmd and pings it, a real distribution handshake over loopback.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from tyn.build import erts, image as image_mod

REPO = Path(__file__).resolve().parents[1]
PREFIX = "dist "
SNAME = "tynnode"
COOKIE = "tyncookie"
HOST = erts.GUEST_HOSTNAME.split(".")[0]     # a short name's host part

# One line per check: "dist <name>: <term>".
PROGRAM = r'''
Out = fun(K, V) -> io:format("dist ~s: ~0p~n", [K, V]) end,
Out("node", node()),
Out("cookie", erlang:get_cookie()),
{ok, Names} = erl_epmd:names({127,0,0,1}),
Out("epmd_names", [N || {N, _} <- Names]),
Bin = os:getenv("BINDIR"),
Collect = fun Loop(P, Acc) -> receive {P, {data, D}} -> Loop(P, [D | Acc]);
                                       {P, {exit_status, S}} -> {iolist_to_binary(lists:reverse(Acc)), S}
                             after 300000 -> timeout end end,
{EpmdOut, EpmdStatus} = Collect(open_port({spawn_executable, Bin ++ "/epmd"},
                                          [binary, exit_status, stderr_to_stdout, {args, ["-names"]}]), []),
Out("epmd_cli_status", EpmdStatus),
Out("epmd_cli_lists_node", binary:match(EpmdOut, <<"name tynnode at port ">>) =/= nomatch),
Out("epmd_cli_up", binary:match(EpmdOut, <<"up and running on port 4369">>) =/= nomatch),
Root = code:root_dir(),
Peer = open_port({spawn_executable, Bin ++ "/beam.smp"},
                 [binary, exit_status, stderr_to_stdout,
                  {args, ["--", "-root", Root, "-bindir", Bin, "-progname", "erl", "-home", "/",
                          "-boot", Root ++ "/bin/start_clean", "-noshell", "-noinput",
                          "-sname", "peer", "-setcookie", "tyncookie",
                          "-eval", "io:format(\"peer-ping ~p~n\", [net_adm:ping('tynnode@tyn')]), "
                                   "io:format(\"peer-rpc ~p~n\", [erpc:call('tynnode@tyn', erlang, node, [])]), "
                                   "halt()."]}]),
{PeerOut, PeerStatus} = Collect(Peer, []),
Out("peer_status", PeerStatus),
Out("peer_ping", binary:match(PeerOut, <<"peer-ping pong">>) =/= nomatch),
Out("peer_rpc", binary:match(PeerOut, <<"peer-rpc tynnode@tyn">>) =/= nomatch),
Out("peer_output", PeerOut),
halt().
'''

EXPECTED = {
    "node": f"{SNAME}@{HOST}",
    "cookie": COOKIE,
    "epmd_names": f'["{SNAME}"]',
    "epmd_cli_status": "0",
    "epmd_cli_lists_node": "true",
    "epmd_cli_up": "true",
    "peer_status": "0",
    "peer_ping": "true",
    "peer_rpc": "true",
}


def checks(text: str) -> dict[str, str]:
    got = {}
    for line in text.replace("\r\n", "\n").splitlines():
        if line.startswith(PREFIX) and ": " in line:
            k, v = line[len(PREFIX):].split(": ", 1)
            if k in EXPECTED:
                got[k] = v
    return got


def image_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tyn.build", "image", *args], capture_output=True,
                          text=True, cwd=REPO)


@pytest.fixture(scope="module")
def dist_image(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "dist.img"
    p = image_cli("--eval", PROGRAM, "--sname", SNAME, "--cookie", COOKIE, "-o", str(out))
    assert p.returncode == 0, p.stdout + p.stderr
    return out


def test_epmd_binary_is_static_and_cached():
    epmd = erts.ensure_epmd()
    data = epmd.read_bytes()
    assert data[:4] == b"\x7fELF"
    image_mod.check_static_executable(epmd)        # raises on an interpreter
    assert erts.ensure_epmd() == epmd               # the second call is a cache hit


def test_image_carries_epmd_and_dist_args(dist_image):
    from tyn.build.cpio import read_members
    from tyn.hostrun import extract_cpio
    members = {m.name: m for m in read_members(extract_cpio(dist_image.read_bytes(), str(dist_image)))}
    bindirs = [n for n in members if n.endswith("/bin/beam.smp")]
    assert len(bindirs) == 1
    epmd = bindirs[0].replace("beam.smp", "epmd")
    assert members[epmd].data == erts.ensure_epmd().read_bytes()
    assert "app/dist/ebin/tyn_epmd.beam" in members
    argv = members["etc/tyn/argv"].data.split(b"\n")
    for flag, value in ((b"-sname", SNAME.encode()), (b"-epmd_module", b"tyn_epmd"), (b"-setcookie", COOKIE.encode())):
        assert argv[argv.index(flag) + 1] == value


def test_plain_image_has_no_epmd(tmp_path):
    out = tmp_path / "plain.img"
    p = image_cli("--eval", "halt().", "--format", "cpio", "-o", str(out))
    assert p.returncode == 0, p.stderr
    from tyn.build.cpio import read_members
    names = [m.name for m in read_members(out.read_bytes())]
    assert not [n for n in names if n.endswith("/epmd")]


@pytest.mark.parametrize("args, message", [
    (["--cookie", "c"], "--cookie needs --sname or --name"),
    (["--sname", "a.b"], "the name before @ must be"),
    (["--sname", "a@h.example"], "a short name's host has no dots"),
    (["--sname", "a", "--name", "b"], "not allowed with argument"),
    (["--sname", "a", "--cookie", "two words"], "--cookie: must be non-empty"),
])
def test_bad_options_one_line(tmp_path, args, message):
    out = tmp_path / "x.img"
    p = image_cli("--eval", "halt().", *args, "-o", str(out))
    assert p.returncode != 0 and not out.exists()
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], p.stderr


def test_guest_two_nodes_over_loopback_epmd(dist_image, boot):
    vm = boot(dist_image, accel="tcg", timeout=900, args=["-m", "1G"])
    vm.expect_exit(0)
    assert checks(vm.log) == EXPECTED, vm.log[-6000:]


def test_guest_long_name_with_generated_cookie(tmp_path, boot):
    """--name without --cookie: the guest's root is read-only, so the builder writes the
    cookie file OTP's auth would make (owner-only), prints it, and the node uses it."""
    out = tmp_path / "long.img"
    p = image_cli("--eval", 'io:format("dist node: ~p~ndist cookie: ~p~ndist epmd_names: ~0p~n", '
                  '[node(), erlang:get_cookie(), [N || {N, _} <- element(2, erl_epmd:names({127,0,0,1}))]]), halt().',
                  "--name", "longnode", "-o", str(out))
    assert p.returncode == 0, p.stderr
    cookie = p.stdout.split("erlang cookie (generated, in the guest's /.erlang.cookie): ")[1].split()[0]
    assert len(cookie) == image_mod.COOKIE_LENGTH and set(cookie) <= set(image_mod.COOKIE_LETTERS)
    from tyn.build.cpio import read_members
    from tyn.hostrun import extract_cpio
    members = {m.name: m for m in read_members(extract_cpio(out.read_bytes(), str(out)))}
    assert members[".erlang.cookie"].data == cookie.encode()
    assert members[".erlang.cookie"].mode & 0o777 == 0o400
    vm = boot(out, accel="tcg", timeout=600)
    vm.expect_exit(0)
    assert checks(vm.log) == {"node": f"'longnode@{erts.GUEST_HOSTNAME}'", "cookie": f"'{cookie}'",
                              "epmd_names": '["longnode"]'}, vm.log[-4000:]


# ------------------------------------------------- a host node to the guest's node

DIST_PORT = 4370
EPMD_PORT = 4369
GUEST_WAITS = r'''
ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
io:format("guest-ready~n"),
receive {nodeup, N, _} -> io:format("guest-saw ~0p~n", [N]) after 300000 -> io:format("guest-saw none~n") end,
receive {nodedown, _, _} -> ok after 60000 -> ok end,
halt().
'''


def test_host_node_to_guest_node_over_user_net(tmp_path, boot, netns):
    """The guest's epmd and distribution port published with tyn.run -p: a node on the host
    (the same static beam.smp, hidden: -dist_listen false) finds the guest's node through the
    guest's epmd, pings it and makes an erpc call."""
    out = tmp_path / "h2g.img"
    p = image_cli("--eval", GUEST_WAITS, "--sname", SNAME, "--cookie", COOKIE, "--dist-port", str(DIST_PORT),
                  "-o", str(out))
    assert p.returncode == 0, p.stderr
    vm = boot(out, accel="tcg", timeout=600, wrapper=["ip", "netns", "exec", netns],
              args=["-p", f"{EPMD_PORT}:{EPMD_PORT}", "-p", f"{DIST_PORT}:{DIST_PORT}"])
    vm.expect("guest-ready")
    inetrc = tmp_path / "inetrc"
    inetrc.write_text(f'{{lookup, [file]}}.\n{{host, {{127,0,0,1}}, ["{erts.GUEST_HOSTNAME}", "{HOST}"]}}.\n')
    hb = erts.HostBeam(erts.ensure_erts())
    code = (f"io:format(\"host-ping ~p~n\", [net_adm:ping('{SNAME}@{HOST}')]), "
            f"io:format(\"host-rpc ~p~n\", [catch erpc:call('{SNAME}@{HOST}', erlang, node, [])]), halt().")
    cmd = ["ip", "netns", "exec", netns, *hb.command(["-sname", "hostnode", "-dist_listen", "false",
                                                       "-setcookie", COOKIE, "-eval", code])]
    host = subprocess.run(cmd, env=hb.env({"ERL_INETRC": str(inetrc)}), capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    assert "host-ping pong" in host.stdout, host.stdout + host.stderr
    assert f"host-rpc {SNAME}@{HOST}" in host.stdout, host.stdout + host.stderr
    vm.expect_exit(0)
    assert f"guest-saw hostnode@{HOST}\n" in vm.log, vm.log[-4000:]


def test_dist_port_needs_a_name(tmp_path):
    out = tmp_path / "x.img"
    p = image_cli("--eval", "halt().", "--dist-port", "4370", "-o", str(out))
    assert p.returncode != 0 and not out.exists()
    assert p.stderr.strip() == "tyn.build image: --dist-port needs --sname or --name"
