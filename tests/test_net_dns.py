"""Name resolution in the guest without the native inet_gethost port program: /etc/hosts,
and DNS through inet_res to the server the command line (dns=) names, which the kernel
writes into /etc/resolv.conf.  The DNS responder is this test's, on the host's loopback
port 53, which QEMU's user networking shows the guest as 10.0.2.2."""

from __future__ import annotations

import socket
import threading

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR

from test_image_support import build_image

ANSWERS = {b"svc.tyn.test.": "192.0.2.55", b"db.tyn.test.": "198.51.100.7"}

LOOKUPS = r"""
{ok, {hostent, _, _, inet, 4, [Lo]}} = inet:gethostbyname("localhost"),
io:format("hosts: localhost -> ~s~n", [inet:ntoa(Lo)]),
{ok, Svc} = inet:getaddr("svc.tyn.test", inet),
io:format("dns: svc.tyn.test -> ~s~n", [inet:ntoa(Svc)]),
[Db] = inet_res:lookup("db.tyn.test", in, a),
io:format("dns: db.tyn.test -> ~s~n", [inet:ntoa(Db)]),
io:format("dns: missing -> ~p~n", [inet:getaddr("missing.tyn.test", inet)]),
{ok, Conf} = file:read_file("/etc/resolv.conf"),
io:format("resolv.conf: ~p~n", [binary:split(Conf, <<"\n">>, [global, trim_all])]),
halt().
"""


@pytest.fixture
def dns_server():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 53))
    except OSError as e:
        s.close()
        pytest.skip(f"cannot serve DNS on 127.0.0.1:53 here: {e}")
    s.settimeout(0.2)
    queries = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, peer = s.recvfrom(4096)
            except socket.timeout:
                continue
            q = DNS(data)
            name = q[DNSQR].qname
            queries.append((name, q[DNSQR].qtype))
            if name in ANSWERS and q[DNSQR].qtype == 1:
                r = DNS(id=q.id, qr=1, aa=1, rd=q.rd, ra=1, qd=q.qd,
                        an=DNSRR(rrname=name, type="A", ttl=60, rdata=ANSWERS[name]))
            else:
                r = DNS(id=q.id, qr=1, aa=1, rd=q.rd, ra=1, rcode=3, qd=q.qd)     # NXDOMAIN
            s.sendto(bytes(r), peer)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield queries
    stop.set()
    t.join(2)
    s.close()


def test_hosts_file_and_dns_from_the_command_line(tmp_path, boot, dns_server):
    image = tmp_path / "dns.img"
    build_image("--eval", LOOKUPS, "-o", image)
    vm = boot(image, accel="tcg", append="ip=10.0.2.15/24 gateway=10.0.2.2 dns=10.0.2.2", timeout=120)
    vm.expect_exit(0)
    log = vm.log
    assert "net: eth0 10.0.2.15/24 gateway 10.0.2.2 dns 10.0.2.2 (static)" in log
    assert "hosts: localhost -> 127.0.0.1" in log
    assert "dns: svc.tyn.test -> 192.0.2.55" in log
    assert "dns: db.tyn.test -> 198.51.100.7" in log
    assert "dns: missing -> {error,nxdomain}" in log
    assert '<<"nameserver 10.0.2.2">>' in log
    assert (b"svc.tyn.test.", 1) in dns_server           # the guest really asked our server
    assert all(not n.startswith(b"localhost") for n, _ in dns_server)   # /etc/hosts answered that


RESOLV = r"""
{ok, Conf} = file:read_file("/etc/resolv.conf"),
io:format("resolv.conf: ~p~n", [binary:split(Conf, <<"\n">>, [global, trim_all])]),
ok = inet_db:res_update_conf(),    % what inet_res does before a query (no query leaves the VM)
io:format("inet_db nameservers: ~p~n", [inet_db:res_option(nameservers)]),
halt().
"""


def test_resolv_conf_follows_dhcp(tmp_path, boot):
    """With DHCP (the default), the kernel writes the server's DNS (user-net: 10.0.2.3) into
    /etc/resolv.conf after the image's own lines, and inet_res takes it as its nameserver."""
    image = tmp_path / "resolv.img"
    build_image("--eval", RESOLV, "-o", image)
    vm = boot(image, accel="tcg", timeout=120)
    vm.expect_exit(0)
    assert '[<<"domain local">>,<<"search local">>,<<"nameserver 10.0.2.3">>]' in vm.log, vm.log[-1500:]
    assert "inet_db nameservers: [{{10,0,2,3},53}]" in vm.log, vm.log[-1500:]
