"""The measuring side of bench/net.py, run as its own process so it can run inside a network
namespace (`ip netns exec NS python bench/net_client.py HOST ECHO_PORT BULK_PORT ...`).
Prints one JSON line: echo round trips (ms), bulk MB/s each way, connections/s.

The server is bench/net.py's SERVER program: ECHO_PORT greets and echoes (as tyn_demo);
BULK_PORT reads requests of 9 bytes, an opcode and a 64-bit big-endian count:
  OP_SINK   the client sends count bytes; the server answers DONE once it has them all;
  OP_SOURCE the server sends count bytes.
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import threading
import time

GREETING = b"Hello from OTP 27 on Tyn!\n"
OP_SINK, OP_SOURCE = ord("s"), ord("o")
DONE = b"done\n"
CHUNK = 1 << 16


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def connect(host: str, port: int, timeout: float) -> socket.socket:
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def echo_rtts(host: str, port: int, count: int, size: int, timeout: float) -> list[float]:
    with connect(host, port, timeout) as s:
        if recv_exact(s, len(GREETING)) != GREETING:
            raise ValueError("bad greeting")
        msg = bytes(range(256)) * (size // 256 + 2)
        out = []
        for i in range(count):
            m = msg[i % 256:i % 256 + size]
            t0 = time.perf_counter()
            s.sendall(m)
            if recv_exact(s, size) != m:
                raise ValueError(f"echo {i} corrupted")
            out.append((time.perf_counter() - t0) * 1e3)
        return out


def bulk(host: str, port: int, nbytes: int, timeout: float) -> tuple[float, float]:
    """(host->guest MB/s, guest->host MB/s) on one connection."""
    payload = (bytes(range(256)) * (CHUNK // 256))
    with connect(host, port, timeout) as s:
        t0 = time.perf_counter()
        s.sendall(struct.pack(">BQ", OP_SINK, nbytes))
        left = nbytes
        while left:
            n = min(left, CHUNK)
            s.sendall(payload[:n])
            left -= n
        if recv_exact(s, len(DONE)) != DONE:
            raise ValueError("sink: no done")
        to_guest = nbytes / (time.perf_counter() - t0) / 1e6
        t0 = time.perf_counter()
        s.sendall(struct.pack(">BQ", OP_SOURCE, nbytes))
        got = 0
        while got < nbytes:
            chunk = s.recv(min(1 << 20, nbytes - got))
            if not chunk:
                raise ConnectionError(f"source: EOF after {got} bytes")
            got += len(chunk)
        from_guest = nbytes / (time.perf_counter() - t0) / 1e6
        return to_guest, from_guest


def connection_rate(host: str, port: int, total: int, parallel: int, timeout: float) -> float:
    """Connections/s: `parallel` threads each connect, read the greeting, close, until
    `total` connections are done."""
    lock = threading.Lock()
    left = [total]
    errors = []

    def worker():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                with connect(host, port, timeout) as s:
                    if recv_exact(s, len(GREETING)) != GREETING:
                        raise ValueError("bad greeting")
            except (OSError, ValueError) as e:
                errors.append(repr(e))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} of {total} connections failed, e.g. {errors[0]}")
    return total / elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("echo_port", type=int)
    ap.add_argument("bulk_port", type=int)
    ap.add_argument("--echoes", type=int, default=1000)
    ap.add_argument("--echo-size", type=int, default=64)
    ap.add_argument("--bulk-bytes", type=int, default=16 << 20)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    rtts = sorted(echo_rtts(a.host, a.echo_port, a.echoes, a.echo_size, a.timeout))
    to_guest, from_guest = bulk(a.host, a.bulk_port, a.bulk_bytes, a.timeout)
    rate = connection_rate(a.host, a.echo_port, a.connections, a.parallel, a.timeout)
    print(json.dumps({"rtt_p50_ms": rtts[len(rtts) // 2], "rtt_p99_ms": rtts[int(len(rtts) * 0.99)],
                      "to_guest_MBps": to_guest, "from_guest_MBps": from_guest, "conn_per_s": rate}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
