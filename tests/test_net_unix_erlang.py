"""AF_UNIX stream sockets from Erlang in the guest: gen_tcp listening on a filesystem path
({ifaddr, {local, Path}}) with inet_drv and with {inet_backend, socket}, and the socket
module on an abstract name, each echoing to a client in the same VM; the same program
through hostrun on the host's Linux prints the same lines."""

from __future__ import annotations

import subprocess
import sys

from test_image_support import REPO, build_image

ECHO = r"""
P = fun(K, V) -> io:format("~s: ~0p~n", [K, V]) end,
Echo = fun(Backend, Path) ->
    file:delete(Path),
    {ok, L} = gen_tcp:listen(0, Backend ++ [{ifaddr, {local, Path}}, binary, {active, false}]),
    P("sockname", inet:sockname(L)),
    Self = self(),
    spawn(fun() -> {ok, A} = gen_tcp:accept(L),
                   {ok, Data} = gen_tcp:recv(A, 0),
                   ok = gen_tcp:send(A, [<<"echo:">>, Data]),
                   Self ! {served, gen_tcp:recv(A, 0)} end),
    {ok, C} = gen_tcp:connect({local, Path}, 0, Backend ++ [binary, {active, false}]),
    P("peername", inet:peername(C)),
    ok = gen_tcp:send(C, <<"hello">>),
    P("reply", gen_tcp:recv(C, 0)),
    ok = gen_tcp:close(C),
    receive {served, R} -> P("server saw", R) end,
    {ok, Info} = file:read_file_info(Path),
    P("file type", element(3, Info)),
    gen_tcp:close(L),
    P("delete", file:delete(Path))
end,
Echo([], "/tmp/tyn-drv.sock"),
Echo([{inet_backend, socket}], "/tmp/tyn-nif.sock"),
Name = <<0, "tyn-erl-abstract">>,
{ok, LS} = socket:open(local, stream, default),
ok = socket:bind(LS, #{family => local, path => Name}),
ok = socket:listen(LS),
{ok, CS} = socket:open(local, stream, default),
ok = socket:connect(CS, #{family => local, path => Name}),
{ok, AS} = socket:accept(LS),
ok = socket:send(CS, <<"abstract">>),
P("socket recv", socket:recv(AS, 8)),
P("socket peername", socket:peername(CS)),
halt().
"""

EXPECTED = [
    'sockname: {ok,{local,<<"/tmp/tyn-drv.sock">>}}',
    'peername: {ok,{local,<<"/tmp/tyn-drv.sock">>}}',
    'reply: {ok,<<"echo:hello">>}',
    "server saw: {error,closed}",
    "file type: other",
    "delete: ok",
    'sockname: {ok,{local,<<"/tmp/tyn-nif.sock">>}}',
    'peername: {ok,{local,<<"/tmp/tyn-nif.sock">>}}',
    'socket recv: {ok,<<"abstract">>}',
    'socket peername: {ok,#{path => <<0,116,121,110,45,101,114,108,45,97,98,115,116,114,97,99,116>>,'
    'family => local}}',
]


def check(out: str):
    for line in EXPECTED:
        assert line in out, f"missing {line!r} in:\n{out[-3000:]}"
    assert out.count('reply: {ok,<<"echo:hello">>}') == 2


def test_unix_stream_echo_on_linux(tmp_path):
    image = tmp_path / "unix.cpio"
    build_image("--eval", ECHO, "-o", image, "--format", "cpio")
    p = subprocess.run([sys.executable, "-m", "tyn.hostrun", str(image)], capture_output=True, text=True,
                       timeout=120, cwd=REPO)
    assert p.returncode == 0, p.stdout + p.stderr
    check(p.stdout)


def test_unix_stream_echo_in_the_guest(tmp_path, boot):
    image = tmp_path / "unix.img"
    build_image("--eval", ECHO, "-o", image)
    vm = boot(image, accel="tcg", timeout=180)
    vm.expect_exit(0)
    check(vm.log)
