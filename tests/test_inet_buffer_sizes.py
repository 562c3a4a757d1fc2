"""What getsockopt(SO_SNDBUF/SO_RCVBUF) reports for TCP sockets (inet_sock over the real TCP
pcbs, host build, a connection over loopback): Linux's start values until the connection is
made, then the sizes TCP's autotuning works with (tcp_sndspace/tcp_rcvspace), and the user's
size, not growing, once set.  The guest compares the growth with Linux in tests/guest/inet.c
(section "1 MiB transfer")."""

import struct

import pytest

from netlink_support import NetKernel
from tyn.twins import tcp_twin as tw

AF_INET, SOCK_STREAM, SOCK_NONBLOCK = 2, 1, 0o4000
SOL_SOCKET, SO_SNDBUF, SO_RCVBUF = 1, 7, 8
EINPROGRESS = 115
LOOPBACK, PORT = 0x7F000001, 7000
TCP_WMEM_START, TCP_RMEM_START = 16384, 131072      # net.ipv4.tcp_wmem[1], tcp_rmem[1]
CHUNK = 65536


@pytest.fixture
def k():
    kernel = NetKernel()
    yield kernel
    kernel.reset()


def sin(addr: int, port: int) -> bytes:
    return struct.pack("<H", AF_INET) + struct.pack(">HI", port, addr) + bytes(8)


def get(k, fd, name):
    n, data = k.getsockopt_raw(fd, SOL_SOCKET, name)
    assert n == 4
    return struct.unpack("<i", data[:4])[0]


def connected_pair(k, listener_opts=()):
    lst = k.socket(AF_INET, SOCK_STREAM, 0)
    for name, v in listener_opts:
        assert k.setsockopt_int(lst, SOL_SOCKET, name, v) == 0
    assert k.bind(lst, sin(LOOPBACK, PORT)) == 0 and k.ipc("listen", lst, 8) == 0
    c = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)
    addr = sin(LOOPBACK, PORT)
    assert k.ipc("connect", c, k.put(addr), len(addr)) == -EINPROGRESS
    s = k.ipc("accept4", lst, 0, 0, SOCK_NONBLOCK)
    assert s >= 0
    return c, s


def bulk(k, c, s, chunks=200):
    moved = 0
    for _ in range(chunks):
        assert k.send(c, b"x" * CHUNK) > 0
        while isinstance(d := k.recv(s, 1 << 20), bytes) and d:
            moved += len(d)
    assert moved == chunks * CHUNK


def test_a_new_socket_reports_linux_start_values(k):
    fd = k.socket(AF_INET, SOCK_STREAM, 0)
    assert (get(k, fd, SO_SNDBUF), get(k, fd, SO_RCVBUF)) == (TCP_WMEM_START, TCP_RMEM_START)


def pcb_with_local_port(port):
    """The connection pcb whose local port is port (from TCP's own list)."""
    [pcb] = [p for p in tw.all_pcbs() if tw.info(p)["local"][1] == port and tw.info(p)["remote"][1]]
    return pcb


def test_a_connection_reports_the_buffers_tcp_uses(k):
    c, s = connected_pair(k)
    client = pcb_with_local_port(struct.unpack(">H", k.name(c)[2:4])[0])
    assert get(k, c, SO_SNDBUF) == tw.info(client)["sndbuf"] != TCP_WMEM_START
    assert get(k, c, SO_RCVBUF) == tw.info(client)["rcvbuf"]


def test_the_reported_send_buffer_grows_with_a_bulk_transfer(k):
    c, s = connected_pair(k)
    start = get(k, c, SO_SNDBUF)
    bulk(k, c, s)
    assert get(k, c, SO_SNDBUF) > start
    assert get(k, s, SO_SNDBUF) == start            # the receiver sent nothing


def test_so_sndbuf_is_reported_as_set_and_does_not_grow(k):
    c, s = connected_pair(k)
    assert k.setsockopt_int(c, SOL_SOCKET, SO_SNDBUF, 40000) == 0
    bulk(k, c, s)
    assert get(k, c, SO_SNDBUF) == 80000            # Linux doubles the request


def test_an_accepted_socket_reports_the_listeners_sizes(k):
    c, s = connected_pair(k, listener_opts=((SO_SNDBUF, 30000), (SO_RCVBUF, 50000)))
    assert (get(k, s, SO_SNDBUF), get(k, s, SO_RCVBUF)) == (60000, 100000)
