"""The interface queries of inet and net in the guest (inet_drv's getifaddrs -> musl's
getifaddrs over NETLINK_ROUTE, getif/ifget -> SIOCGIFCONF and SIOCGIF* ioctls; the socket
NIF's net:getifaddrs and net:if_names), under TCG over QEMU's user networking with DHCP,
and the same program through hostrun on the host's Linux for its shape only (the host's
interfaces differ)."""

from __future__ import annotations

import subprocess
import sys

from test_image_support import REPO, build_image

QUERIES = r"""
P = fun(K, V) -> io:format("~s: ~0p~n", [K, V]) end,
{ok, Ifs} = inet:getifaddrs(),
P("names", [N || {N, _} <- Ifs]),
[P("ifaddrs " ++ N, O) || {N, O} <- Ifs, N =:= "lo" orelse N =:= "eth0"],
{ok, Getif} = inet:getif(),
P("getif lo", [E || {{127,0,0,1}, _, _} = E <- Getif]),
P("getif", length(Getif)),
P("ifget eth0", inet:ifget("eth0", [addr, netmask, broadaddr, hwaddr, mtu, flags])),
P("ifget lo", inet:ifget("lo", [addr, netmask, broadaddr, dstaddr, hwaddr, mtu, flags])),
P("ifget none", inet:ifget("nosuch0", [addr, flags])),
P("getiflist", inet:getiflist()),
{ok, NetIfs} = net:getifaddrs(inet),
[P("net " ++ maps:get(name, M), {maps:get(flags, M), maps:get(addr, maps:get(addr, M)),
                                  maps:get(addr, maps:get(netmask, M)),
                                  maps:get(addr, maps:get(broadaddr, M, #{addr => none}))})
 || M <- NetIfs, lists:member(maps:get(name, M), ["lo", "eth0"])],
{ok, Names} = net:if_names(),
P("if_names", [E || {_, N} = E <- Names, N =:= "lo" orelse N =:= "eth0"]),
P("if_name2index", [net:if_name2index("lo"), net:if_name2index("nosuch0")]),
P("if_index2name", net:if_index2name(1)),
halt().
"""

LO = ("[{flags,[up,loopback,running]},{addr,{127,0,0,1}},{netmask,{255,0,0,0}},"
      "{hwaddr,[0,0,0,0,0,0]}]")


def test_interface_queries_in_the_guest(tmp_path, boot):
    image = tmp_path / "ifaddrs.img"
    build_image("--eval", QUERIES, "-o", image)
    vm = boot(image, accel="tcg", timeout=180)
    vm.expect_exit(0)
    log = vm.log
    assert 'names: ["lo","eth0"]' in log
    assert f"ifaddrs lo: {LO}" in log
    assert ("ifaddrs eth0: [{flags,[up,broadcast,running,multicast]},{addr,{10,0,2,15}},"
            "{netmask,{255,255,255,0}},{broadaddr,{10,0,2,255}},{hwaddr,[82,84,0,18,52,86]}]") in log
    assert "getif lo: [{{127,0,0,1},{0,0,0,0},{255,0,0,0}}]" in log
    assert "getif: 2" in log
    assert ("ifget eth0: {ok,[{addr,{10,0,2,15}},{netmask,{255,255,255,0}},{broadaddr,{10,0,2,255}},"
            "{hwaddr,[82,84,0,18,52,86]},{mtu,1500},{flags,[up,broadcast,running,multicast]}]}") in log
    assert ("ifget lo: {ok,[{addr,{127,0,0,1}},{netmask,{255,0,0,0}},{broadaddr,{0,0,0,0}},"
            "{dstaddr,{127,0,0,1}},{hwaddr,[0,0,0,0,0,0]},{mtu,65536},"
            "{flags,[up,loopback,running]}]}") in log
    assert "ifget none: {ok,[{flags,[]}]}" in log          # inet_drv: failed ioctls leave options out
    assert 'getiflist: {ok,["lo","eth0"]}' in log
    assert "net lo: {[up,loopback,running],{127,0,0,1},{255,0,0,0},none}" in log
    assert ("net eth0: {[up,broadcast,running,multicast],{10,0,2,15},{255,255,255,0},"
            "{10,0,2,255}}") in log
    assert 'if_names: [{1,"lo"},{2,"eth0"}]' in log
    # musl's if_nametoindex: SIOCGIFINDEX on an AF_UNIX datagram socket (unix_dgram)
    assert "if_name2index: [{ok,1},{error,enodev}]" in log
    assert 'if_index2name: {ok,"lo"}' in log


def test_interface_queries_on_linux_have_the_same_shape(tmp_path):
    image = tmp_path / "ifaddrs.cpio"
    build_image("--eval", QUERIES, "-o", image, "--format", "cpio")
    p = subprocess.run([sys.executable, "-m", "tyn.hostrun", str(image)], capture_output=True, text=True,
                       timeout=120, cwd=REPO)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    # lo is the same everywhere, except the IPv6 address Linux adds to it
    lo = next(line for line in out.splitlines() if line.startswith("ifaddrs lo: "))
    assert lo.startswith("ifaddrs lo: [{flags,[up,loopback,running]},{addr,{127,0,0,1}},{netmask,{255,0,0,0}}")
    assert "{hwaddr,[0,0,0,0,0,0]}" in lo
    assert "getif lo: [{{127,0,0,1},{0,0,0,0},{255,0,0,0}}]" in out
    assert "ifget lo: {ok,[{addr,{127,0,0,1}},{netmask,{255,0,0,0}},{broadaddr,{0,0,0,0}}," in out
    assert "ifget none: {ok,[{flags,[]}]}" in out
    assert "net lo: {[up,loopback,running],{127,0,0,1},{255,0,0,0},none}" in out
    assert 'if_names: [{1,"lo"}' in out
    assert "if_name2index: [{ok,1},{error,enodev}]" in out
    assert 'if_index2name: {ok,"lo"}' in out
