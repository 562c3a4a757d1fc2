"""The network end to end, in the guest under TCG with QEMU's user networking (slirp):
the default image's echo server through `tyn.run -p` (also under KVM, slow-marked), both
gen_tcp back ends, a gen_tcp client connecting out to a server on the host, and OTP's inets
httpd serving a file.
slirp reaches the host's 127.0.0.1 as 10.0.2.2 and gives the guest 10.0.2.15 by DHCP."""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest

from test_image_support import build_image

HOST_FROM_GUEST = "{10,0,2,2}"
GREETING = b"Hello from OTP 27 on Tyn!\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exchange(port: int, payload: bytes, expect_len: int, timeout: float = 30) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        c.sendall(payload)
        got = b""
        while len(got) < expect_len:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


@pytest.fixture(scope="module")
def default_image(tmp_path_factory):
    """`python -m tyn.build image` with no mode option: the echo server on port 5555."""
    out = tmp_path_factory.mktemp("default") / "tyn.img"
    build_image("-o", out)
    return out


def test_default_image_echoes_through_hostfwd(default_image, boot, accel):
    # Also under KVM (slow-marked, see conftest's accel): interrupts, the APIC and the
    # virtqueue notifications take other paths in QEMU there.
    port = free_port()
    vm = boot(default_image, accel=accel, args=["-p", f"{port}:5555"], timeout=900 if accel == "kvm" else 120)
    vm.expect("net: eth0 10.0.2.15/24 gateway 10.0.2.2 dns 10.0.2.3 (DHCP")
    vm.expect("tyn-demo: listening on 5555")
    assert exchange(port, b"hello\n", len(GREETING) + 6) == GREETING + b"hello\n"
    big = bytes(range(256)) * 1024                       # 256 KiB, echoed back intact
    assert exchange(port, big, len(GREETING) + len(big)) == GREETING + big


def test_default_image_serves_concurrent_clients(default_image, boot):
    port = free_port()
    vm = boot(default_image, accel="tcg", args=["-p", f"{port}:5555"], timeout=120)
    vm.expect("tyn-demo: listening on 5555")
    results = {}

    def client(i):
        msg = f"client {i}\n".encode() * 50
        results[i] = exchange(port, msg, len(GREETING) + len(msg)) == GREETING + msg

    threads = [threading.Thread(target=client, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == {i: True for i in range(5)}


ECHO_BOTH_BACKENDS = r"""
Run = fun(Backend) ->
    Opts = case Backend of inet -> []; socket -> [{inet_backend, socket}] end,
    {ok, L} = gen_tcp:listen(0, Opts ++ [binary, {active, false}, {ip, {127,0,0,1}}]),
    {ok, Port} = inet:port(L),
    Self = self(),
    spawn(fun() -> {ok, S} = gen_tcp:accept(L), {ok, D} = gen_tcp:recv(S, 0),
                   ok = gen_tcp:send(S, <<"re:", D/binary>>), ok = gen_tcp:close(S), Self ! served end),
    {ok, C} = gen_tcp:connect({127,0,0,1}, Port, Opts ++ [binary, {active, false}]),
    ok = gen_tcp:send(C, atom_to_binary(Backend)),
    {ok, R} = gen_tcp:recv(C, 0, 10000),
    {error, closed} = gen_tcp:recv(C, 0, 10000),
    receive served -> ok after 10000 -> exit(not_served) end,
    io:format("loopback ~p: ~s~n", [Backend, R])
end,
Run(inet), Run(socket), halt().
"""


def test_loopback_with_both_gen_tcp_backends(tmp_path, boot):
    image = tmp_path / "lo.img"
    build_image("--eval", ECHO_BOTH_BACKENDS, "-o", image)
    vm = boot(image, accel="tcg", timeout=120)
    vm.expect_exit(0)
    assert "loopback inet: re:inet" in vm.log and "loopback socket: re:socket" in vm.log, vm.log[-2000:]


def test_gen_tcp_client_connects_out_to_the_host(tmp_path, boot):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = {}

    def serve():
        srv.settimeout(120)
        c, _ = srv.accept()
        with c:
            data = b""
            while not data.endswith(b"\n"):
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            got["data"] = data
            c.sendall(b"from the host: " + data)

    t = threading.Thread(target=serve)
    t.start()
    expr = (f'{{ok, S}} = gen_tcp:connect({HOST_FROM_GUEST}, {port}, [binary, {{active, false}}], 20000), '
            'ok = gen_tcp:send(S, <<"hello from the guest\\n">>), '
            '{ok, R} = gen_tcp:recv(S, 0, 20000), io:format("guest got: ~s", [R]), halt().')
    image = tmp_path / "client.img"
    build_image("--eval", expr, "-o", image)
    try:
        vm = boot(image, accel="tcg", timeout=120)
        vm.expect_exit(0)
    finally:
        t.join(5)
        srv.close()
    assert got.get("data") == b"hello from the guest\n"
    assert "guest got: from the host: hello from the guest" in vm.log


HTTPD = r"""
ok = inets:start(),
{ok, _} = inets:start(httpd, [{port, 8080}, {server_name, "tyn"}, {server_root, "/tmp"},
                              {document_root, "/www"}, {bind_address, any},
                              {mime_types, [{"txt", "text/plain"}]}]),
io:format("httpd: up~n"),
receive stop -> ok end.
"""


def test_inets_httpd_serves_a_file(tmp_path, boot):
    www = tmp_path / "www"
    www.mkdir()
    body = ("Tyn serves this page.\n" * 2000).encode()      # 44 KB: several segments
    (www / "page.txt").write_bytes(body)
    image = tmp_path / "httpd.img"
    build_image("--otp-app", "inets", "--add", f"{www}:/www", "--eval", HTTPD, "-o", image)
    port = free_port()
    vm = boot(image, accel="tcg", args=["-p", f"{port}:8080"], timeout=120)
    vm.expect("httpd: up")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/page.txt", timeout=60) as r:
        assert r.status == 200
        assert r.read() == body


SENDFILE = r"""
{ok, L} = gen_tcp:listen(0, [binary, {active, false}, {ip, {127,0,0,1}}]),
{ok, Port} = inet:port(L),
ok = inet:setopts(L, [{tos, 32}, {ttl, 17}]),
Data = << <<(I band 255)>> || I <- lists:seq(1, 300000) >>,
ok = file:write_file("/tmp/payload", Data),
Self = self(),
spawn(fun() -> {ok, S} = gen_tcp:accept(L), Self ! {accepted, inet:getopts(S, [tos, ttl])},
               {ok, Sent} = file:sendfile("/tmp/payload", S),
               ok = gen_tcp:close(S), Self ! {sent, Sent} end),
{ok, C} = gen_tcp:connect({127,0,0,1}, Port, [binary, {active, false}]),
io:format("ipopts tcp: ~0p ~0p~n", [inet:setopts(C, [{tos, 16}, {ttl, 10}]), inet:getopts(C, [tos, ttl])]),
receive {accepted, AccOpts} -> io:format("ipopts accepted: ~0p~n", [AccOpts]) end,
{ok, U} = gen_udp:open(0),
io:format("ipopts udp: ~0p ~0p ~0p~n", [inet:setopts(U, [{tos, 16}, {ttl, 10}]), inet:getopts(U, [tos, ttl]),
                                         inet:setopts(U, [{ttl, 0}])]),
Got = (fun Rd(Acc) -> case gen_tcp:recv(C, 0, 10000) of {ok, B} -> Rd([Acc, B]);
                                                         {error, closed} -> iolist_to_binary(Acc) end end)([]),
receive {sent, N} -> io:format("sendfile: sent ~p, received ~p, equal ~p~n", [N, byte_size(Got), Got =:= Data]) end,
halt().
"""


def test_file_sendfile_over_gen_tcp(tmp_path, boot):
    """file:sendfile/2 (inet_drv's sendfile(2) path, as httpd and Bandit-style servers use it).
    On the way, inet's tos/ttl options (IP_TOS/IP_TTL) set, read back, passed from the
    listener to the accepted socket, and TTL 0 refused (EINVAL), as on Linux."""
    image = tmp_path / "sendfile.img"
    build_image("--eval", SENDFILE, "-o", image)
    vm = boot(image, accel="tcg", timeout=120)
    vm.expect_exit(0)
    assert "sendfile: sent 300000, received 300000, equal true" in vm.log, vm.log[-2000:]
    assert "ipopts tcp: ok {ok,[{tos,16},{ttl,10}]}" in vm.log, vm.log[-2000:]
    assert "ipopts accepted: {ok,[{tos,32},{ttl,17}]}" in vm.log, vm.log[-2000:]
    assert "ipopts udp: ok {ok,[{tos,16},{ttl,10}]} {error,einval}" in vm.log, vm.log[-2000:]


def test_gen_udp_to_a_host_echo_server(tmp_path, boot):
    """gen_udp out through user-net to a UDP server on the host, and the reply back."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(120)
    port = srv.getsockname()[1]

    def serve():
        try:
            data, peer = srv.recvfrom(2048)
            srv.sendto(b"udp echo: " + data, peer)
        except OSError:
            pass

    t = threading.Thread(target=serve)
    t.start()
    expr = ('{ok, S} = gen_udp:open(0, [binary, {active, false}]), '
            f'ok = gen_udp:send(S, {HOST_FROM_GUEST}, {port}, <<"ping from the guest">>), '
            '{ok, {_, _, R}} = gen_udp:recv(S, 0, 20000), io:format("guest got: ~s~n", [R]), halt().')
    image = tmp_path / "udp.img"
    build_image("--eval", expr, "-o", image)
    try:
        vm = boot(image, accel="tcg", timeout=120)
        vm.expect_exit(0)
    finally:
        t.join(5)
        srv.close()
    assert "guest got: udp echo: ping from the guest" in vm.log, vm.log[-2000:]
