"""Load and benchmark helpers for the network paths (tests/test_net_load.py, bench/net_load.py,
bench/net.py).  No tests here.

  tap_namespace()   a network namespace with a tap device in it, for QEMU's tap backend: the
                    host side of the link is HOST_ADDR, the guest gets GUEST_ADDR statically
                    (`--append ip=...`).  Traffic never leaves the namespace.  Removed (and
                    the processes started in it stopped) on every exit path; namespaces that
                    a dead process left behind are swept on the next start.
  boot_on_tap()     boot an image inside such a namespace.
  run_client()      the asyncio load client, run inside a namespace (`ip netns exec`) or not;
                    returns its figures as a dict.

The load client is also this file's command line (`python tests/netload_support.py client
...`, one JSON line on stdout), so it can run inside a namespace as a separate process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

GREETING = b"Hello from OTP 27 on Tyn!\n"
ECHO_PORT = 5555

NS_PREFIX = "tynload-"              # tynload-<pid>-<n>: the pid that made it
TAP_NAME = "tyntap0"
HOST_ADDR = "10.77.0.1"
GUEST_ADDR = "10.77.0.2"
PREFIX_LEN = 24
GUEST_APPEND = f"ip={GUEST_ADDR}/{PREFIX_LEN} gateway={HOST_ADDR}"

HERE = Path(__file__).resolve()


# --------------------------------------------------------------- namespaces

def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_namespaces() -> list[str]:
    """Delete tynload-<pid>-* namespaces whose creating process is gone."""
    removed = []
    out = _ip("netns", "list", check=False).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(NS_PREFIX):
            continue
        try:
            pid = int(name[len(NS_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if not _pid_alive(pid):
            kill_namespace_processes(name)
            _ip("netns", "del", name, check=False)
            removed.append(name)
    return removed


def kill_namespace_processes(ns: str) -> None:
    """Stop what still runs in `ns` (the processes this module started there), by pid."""
    pids = _ip("netns", "pids", ns, check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), 15)
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if _pid_alive(int(p))]
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), 9)


_ns_count = 0


@dataclass
class Namespace:
    name: str
    tap: str = TAP_NAME
    host_addr: str = HOST_ADDR
    guest_addr: str = GUEST_ADDR

    def exec_argv(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]


def namespace_available() -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "not root (ip netns needs CAP_SYS_ADMIN)"
    if not Path("/dev/net/tun").exists():
        return False, "no /dev/net/tun"
    if subprocess.run(["which", "ip"], capture_output=True).returncode != 0:
        return False, "no ip(8) (iproute2)"
    return True, ""


@contextlib.contextmanager
def tap_namespace(with_tap: bool = True):
    """A fresh namespace (loopback up; with_tap: a tap device at HOST_ADDR/24, up)."""
    global _ns_count
    sweep_stale_namespaces()
    _ns_count += 1
    ns = Namespace(f"{NS_PREFIX}{os.getpid()}-{_ns_count}")
    _ip("netns", "add", ns.name)
    try:
        run = lambda *a: _ip("netns", "exec", ns.name, "ip", *a)      # noqa: E731
        run("link", "set", "lo", "up")
        if with_tap:
            run("tuntap", "add", "dev", ns.tap, "mode", "tap")
            run("addr", "add", f"{ns.host_addr}/{PREFIX_LEN}", "dev", ns.tap)
            run("link", "set", ns.tap, "up")
        yield ns
    finally:
        kill_namespace_processes(ns.name)
        _ip("netns", "del", ns.name, check=False)


def boot_on_tap(image, ns: Namespace, *, accel: str = "tcg", timeout: float = 120, append_extra: str = "",
                runner: list[str] | tuple[str, ...] = ()):
    """harness.Boot of `image` inside `ns`, its NIC on the namespace's tap, static address
    (runner: see harness.Boot, e.g. the Linux baseline)."""
    import harness
    append = GUEST_APPEND + (f" {append_extra}" if append_extra else "")
    return harness.boot(image, accel=accel, append=append, timeout=timeout,
                        args=["--net", f"tap:{ns.tap}"], wrapper=["ip", "netns", "exec", ns.name],
                        runner=runner)


@contextlib.contextmanager
def hostrun_in(image, ns: Namespace, ready: str = "tyn-demo: listening", timeout: float = 60):
    """`python -m tyn.hostrun image` inside `ns` (host Linux, the namespace's loopback), until
    `ready` appears on its output; stopped on exit."""
    p = subprocess.Popen(ns.exec_argv([sys.executable, "-m", "tyn.hostrun", str(image)]),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    try:
        deadline = time.monotonic() + timeout
        seen = ""
        while ready not in seen:
            line = p.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError(f"tyn.hostrun did not print {ready!r}:\n{seen}")
            seen += line
        yield p
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()


# ------------------------------------------------------------- load client

def message(cid: int, seq: int) -> bytes:
    """Message `seq` of client `cid`: unique header, a length of 16..256 bytes, and filler
    that depends on both, so a lost, duplicated or misplaced byte shows."""
    head = b"c%05d m%04d " % (cid, seq)
    size = 16 + (cid * 7919 + seq * 104729) % 241
    at = (cid * 31 + seq * 17) & 0xFF
    fill = _FILLER[at:at + size - len(head) - 1]
    return head + fill + b"\n"


_FILLER = bytes(range(256)) * 2


@dataclass
class ClientResult:
    status: str = "ok"          # ok | reset | refused | timeout_connect | timeout_greeting |
                                # timeout_echo | eof | corrupt | error
    detail: str = ""
    bytes_checked: int = 0
    rtts: list = field(default_factory=list)


async def read_exact(reader: asyncio.StreamReader, n: int, timeout: float) -> bytes:
    return await asyncio.wait_for(reader.readexactly(n), timeout)


async def one_client(cid: int, host: str, port: int, messages: int, timeout: float,
                     start: asyncio.Event, sample_rtt: bool) -> ClientResult:
    r = ClientResult()
    await start.wait()
    writer = None
    stage = "connect"
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        stage = "greeting"
        got = await read_exact(reader, len(GREETING), timeout)
        if got != GREETING:
            r.status, r.detail = "corrupt", f"greeting {got!r}"
            return r
        r.bytes_checked += len(got)
        stage = "echo"
        for seq in range(messages):
            msg = message(cid, seq)
            t0 = time.perf_counter()
            writer.write(msg)
            got = await read_exact(reader, len(msg), timeout)
            if sample_rtt:
                r.rtts.append(time.perf_counter() - t0)
            if got != msg:
                at = next(i for i in range(len(msg)) if got[i] != msg[i])
                r.status, r.detail = "corrupt", f"message {seq} differs at byte {at}"
                return r
            r.bytes_checked += 2 * len(msg)                  # sent and received, both compared
        writer.write_eof()
        tail = await asyncio.wait_for(reader.read(1), timeout)
        if tail:
            r.status, r.detail = "corrupt", f"extra bytes after the last echo: {tail!r}"
    except ConnectionResetError as e:
        r.status, r.detail = "reset", f"{stage}: {e}"
    except ConnectionRefusedError as e:
        r.status, r.detail = "refused", f"{stage}: {e}"
    except asyncio.TimeoutError:
        r.status, r.detail = f"timeout_{stage}", stage
    except asyncio.IncompleteReadError as e:
        r.status, r.detail = "eof", f"{stage}: after {len(e.partial)} of {e.expected} bytes"
    except OSError as e:
        r.status, r.detail = "error", f"{stage}: {e!r}"
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    return r


async def load(host: str, port: int, clients: int, messages: int, timeout: float,
               connect_spread: float) -> dict:
    start = asyncio.Event()

    async def staggered(cid):
        if connect_spread:
            await asyncio.sleep(connect_spread * cid / clients)
        return await one_client(cid, host, port, messages, timeout, start, cid % 10 == 0)

    tasks = [asyncio.ensure_future(staggered(cid)) for cid in range(clients)]
    t0 = time.monotonic()
    start.set()
    results = await asyncio.gather(*tasks)
    elapsed = time.monotonic() - t0
    counts: dict[str, int] = {}
    for res in results:
        counts[res.status] = counts.get(res.status, 0) + 1
    rtts = sorted(x for res in results for x in res.rtts)
    pct = lambda p: rtts[min(len(rtts) - 1, int(p * len(rtts)))] * 1e3 if rtts else None   # noqa: E731
    failures = [f"client {cid}: {res.status} ({res.detail})"
                for cid, res in enumerate(results) if res.status != "ok"]
    return {"clients": clients, "messages": messages, "ok": counts.get("ok", 0),
            "failed": clients - counts.get("ok", 0), "reset": counts.get("reset", 0),
            "corrupt": counts.get("corrupt", 0), "counts": counts,
            "bytes_checked": sum(res.bytes_checked for res in results), "seconds": elapsed,
            "rtt_p50_ms": pct(0.50), "rtt_p99_ms": pct(0.99), "failures": failures[:20]}


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_client(host: str, port: int, clients: int, messages: int, *, ns: Namespace | None = None,
               timeout: float = 120, connect_spread: float = 0.0) -> dict:
    """The load client in a separate process (inside `ns` if given): its figures as a dict."""
    argv = [sys.executable, str(HERE), "client", host, str(port), str(clients), str(messages),
            "--timeout", str(timeout), "--connect-spread", str(connect_spread)]
    if ns is not None:
        argv = ns.exec_argv(argv)
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=timeout * (messages + 3) + connect_spread + 60)
    if p.returncode != 0:
        raise RuntimeError(f"load client failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("client", help="run the load client; one JSON line on stdout")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("clients", type=int)
    c.add_argument("messages", type=int)
    c.add_argument("--timeout", type=float, default=120)
    c.add_argument("--connect-spread", type=float, default=0.0,
                   help="start the connects evenly over this many seconds (0: all at once)")
    args = ap.parse_args()
    raise_fd_limit()
    out = asyncio.run(load(args.host, args.port, args.clients, args.messages, args.timeout,
                           args.connect_spread))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())


# ------------------------------------------------------------ packet capture

def guest_side_flows(pcap: Path, port: int = ECHO_PORT) -> dict:
    """From a QEMU filter-dump capture of the guest's NIC: how many connections to `port`
    reached the guest (SYNs seen), and RSTs the guest sent.  Frames may carry a virtio-net
    header before the Ethernet header (tap), found by the EtherType."""
    syns, guest_rsts = set(), set()
    with open(pcap, "rb") as f:
        f.read(24)                                          # pcap file header
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            incl = int.from_bytes(rec[8:12], "little")
            frame = f.read(incl)
            for off in (0, 10, 12):
                if frame[off + 12:off + 14] == b"\x08\x00":
                    frame = frame[off:]
                    break
            else:
                continue
            if len(frame) < 54 or frame[23] != 6:           # IPv4 carrying TCP
                continue
            tcp = frame[14 + (frame[14] & 15) * 4:]
            sport, dport = int.from_bytes(tcp[0:2], "big"), int.from_bytes(tcp[2:4], "big")
            flags = tcp[13]
            if dport == port and flags & 0x02:
                syns.add(sport)
            if sport == port and flags & 0x04:
                guest_rsts.add(dport)
    return {"reached_guest": len(syns), "guest_resets": len(guest_rsts)}
