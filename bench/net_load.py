"""The network load run: N concurrent clients from the host, each echoing M messages through
the default image's echo server (tyn_demo, port 5555), every byte checked.

    python bench/net_load.py [--clients 1000] [--messages 100] [--path tap|user|hostrun|all]
                             [--accel tcg] [--image FILE] [--connect-spread SECONDS]

Paths:
  tap      QEMU's tap backend in a network namespace this script creates (static guest
           address, traffic stays inside the namespace; removed on every exit).
  user     QEMU user networking (slirp) with hostfwd (`tyn.run -p`): slirp's port forwarding
           has its own limits with bursts of connects (see docs/notes in platform-facts.md).
  hostrun  the same image's beam.smp on the host's Linux kernel (`tyn.hostrun`), in a
           namespace of its own (its own loopback, so port 5555 clashes with nothing).

The exit status is 1 if any connection failed (user path: only resets, early EOFs or corrupt
data count; connects that slirp never forwards are reported, with how many reached the
guest's NIC according to a QEMU filter-dump capture).

Prints, per path: connections ok/failed/reset, bytes checked, duration, sampled round-trip
p50/p99, and the accelerator.  Not a test: tests/test_net_load.py asserts.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import harness  # noqa: E402
import netload_support as nl  # noqa: E402

PATHS = ("tap", "user", "hostrun")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_default_image(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "tyn.build", "image", "-o", str(out)], check=True,
                   cwd=REPO, stdout=subprocess.DEVNULL)
    return out


def run_tap(image, accel, args) -> dict:
    with nl.tap_namespace() as ns, nl.boot_on_tap(image, ns, accel=accel, timeout=180) as vm:
        vm.expect("tyn-demo: listening on 5555")
        return nl.run_client(ns.guest_addr, nl.ECHO_PORT, args.clients, args.messages, ns=ns,
                             timeout=args.timeout, connect_spread=args.connect_spread)


def run_user(image, accel, args) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tyn-netload-") as tmp:
        pcap = Path(tmp) / "guest.pcap"                     # what reached the guest's NIC
        qemu_args = ["--", "-object", f"filter-dump,id=guestdump,netdev=net0,file={pcap}"]
        with harness.boot(image, accel=accel, timeout=180, args=["-p", f"{port}:5555", *qemu_args]) as vm:
            vm.expect("tyn-demo: listening on 5555")
            r = nl.run_client("127.0.0.1", port, args.clients, args.messages,
                              timeout=args.timeout, connect_spread=args.connect_spread)
        r |= nl.guest_side_flows(pcap)
        return r


def run_hostrun(image, accel, args) -> dict:
    with nl.tap_namespace(with_tap=False) as ns:
        with nl.hostrun_in(image, ns) as _:
            return nl.run_client("127.0.0.1", nl.ECHO_PORT, args.clients, args.messages, ns=ns,
                                 timeout=args.timeout, connect_spread=args.connect_spread)


def describe(path: str, accel: str) -> str:
    return {"tap": f"tap in a netns, QEMU {accel}",
            "user": f"user-net hostfwd (slirp), QEMU {accel}",
            "hostrun": "tyn.hostrun on host Linux, loopback in a netns (no QEMU)"}[path]


def report(path: str, accel: str, r: dict) -> None:
    rtt = (f"rtt p50 {r['rtt_p50_ms']:.2f} ms p99 {r['rtt_p99_ms']:.2f} ms (sampled 1 client in 10)"
           if r["rtt_p50_ms"] is not None else "rtt -")
    print(f"[{describe(path, accel)}] {r['clients']} clients x {r['messages']} messages: "
          f"ok {r['ok']}, failed {r['failed']}, reset {r['reset']}, corrupt {r['corrupt']}; "
          f"{r['bytes_checked']:,} bytes checked in {r['seconds']:.1f} s; {rtt}")
    if "reached_guest" in r:
        print(f"    guest NIC capture: {r['reached_guest']} of {r['clients']} connections reached the guest, "
              f"guest sent {r['guest_resets']} resets.  slirp listens for hostfwd with a backlog of 1 "
              f"(ss -ltn): a burst's other connects stay half-open on the host side")
    others = {k: v for k, v in r["counts"].items() if k not in ("ok",)}
    if others:
        print(f"    failures by kind: {others}")
        for line in r["failures"][:5]:
            print(f"    {line}")
    sys.stdout.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=100)
    ap.add_argument("--path", choices=(*PATHS, "all"), default="all")
    ap.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")
    ap.add_argument("--image", type=Path, help="an echo-server image (default: build the default image)")
    ap.add_argument("--timeout", type=float, default=120, help="per-operation client timeout (s)")
    ap.add_argument("--connect-spread", type=float, default=0.0,
                    help="spread the connects over this many seconds (default 0: all at once)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))    # namespaces are removed on the way out
    image = args.image or build_default_image(REPO / "build" / "bench" / "echo.img")
    paths = PATHS if args.path == "all" else (args.path,)
    print(f"network load: accelerator {args.accel}, image {image}")
    worst = 0
    for path in paths:
        if path in ("tap", "hostrun"):
            ok, why = nl.namespace_available()
            if not ok:
                print(f"[{describe(path, args.accel)}] skipped: {why}")
                continue
        t0 = time.monotonic()
        r = {"tap": run_tap, "user": run_user, "hostrun": run_hostrun}[path](image, args.accel, args)
        report(path, args.accel, r)
        print(f"    (path total with boot {time.monotonic() - t0:.1f} s)")
        guest_faults = r["reset"] + r["corrupt"] + r["counts"].get("eof", 0)
        if guest_faults or (path != "user" and r["failed"]):
            worst = 1
    return worst


if __name__ == "__main__":
    sys.exit(main())
