"""Host->guest bulk over tap, with counts that say where the receiver loses: the sending
host's own view of the connection (Linux's TCP_INFO), per run and per MiB.

    python bench/net_rx.py [--runs 3] [--accel tcg] [--bulk-mib 16] [--no-linux] [--image IMG]

Boots bench/net.py's SERVER image on a tap in a network namespace (as bench/net.py's tap
path), then, for Tyn and (unless --no-linux) the Linux baseline guest on the same QEMU
command line, sends --bulk-mib to the sink --runs times and prints medians of:
  MB/s              the transfer rate, as bench/net.py measures it (sent until "done");
  acks/MiB          segments the guest sent back (TCP_INFO segs_in): its ACK rate;
  segs/ack          data segments per ACK (RFC 5681 asks for an ACK at least every second);
  rwnd-lim %        share of the sender's busy time spent limited by the guest's advertised
                    window (tcpi_rwnd_limited / tcpi_busy_time);
  wnd KiB           median of the guest's advertised window (snd_wnd, sampled every ms);
  inflight KiB      median bytes in flight (unacked segments x MSS, sampled every ms);
  retrans           segments the sender retransmitted.
Nothing is asserted: these are figures for reasoning, timings are TCG-noisy.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

BULK_PORT = 5556
OP_SINK = ord("s")
DONE = b"done\n"
CHUNK = 1 << 16
SAMPLE_S = 0.001

# struct tcp_info (include/uapi/linux/tcp.h): byte offsets of the fields read here.
TCP_INFO_BYTES = 256
TI_SND_MSS, TI_UNACKED = 16, 24
TI_BUSY_TIME, TI_RWND_LIMITED = 168, 176
TI_SEGS_OUT, TI_SEGS_IN, TI_DATA_SEGS_OUT = 136, 140, 156
TI_TOTAL_RETRANS = 100
TI_SND_WND = 228


def tcp_info(s: socket.socket) -> dict:
    raw = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_BYTES)
    u32 = lambda off: struct.unpack_from("<I", raw, off)[0] if off + 4 <= len(raw) else 0  # noqa: E731
    u64 = lambda off: struct.unpack_from("<Q", raw, off)[0] if off + 8 <= len(raw) else 0  # noqa: E731
    return {"mss": u32(TI_SND_MSS), "unacked": u32(TI_UNACKED), "busy_us": u64(TI_BUSY_TIME),
            "rwnd_limited_us": u64(TI_RWND_LIMITED), "segs_out": u32(TI_SEGS_OUT),
            "segs_in": u32(TI_SEGS_IN), "data_segs_out": u32(TI_DATA_SEGS_OUT),
            "retrans": u32(TI_TOTAL_RETRANS), "snd_wnd": u32(TI_SND_WND)}


def one_sink(host: str, nbytes: int) -> dict:
    payload = bytes(range(256)) * (CHUNK // 256)
    with socket.create_connection((host, BULK_PORT), timeout=60) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        before = tcp_info(s)
        wnd, inflight, stop = [], [], threading.Event()

        def sample():
            while not stop.is_set():
                i = tcp_info(s)
                wnd.append(i["snd_wnd"])
                inflight.append(i["unacked"] * i["mss"])
                time.sleep(SAMPLE_S)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            t0 = time.perf_counter()
            s.sendall(struct.pack(">BQ", OP_SINK, nbytes))
            left = nbytes
            while left:
                n = min(left, CHUNK)
                s.sendall(payload[:n])
                left -= n
            got = b""
            while len(got) < len(DONE):
                chunk = s.recv(len(DONE) - len(got))
                if not chunk:
                    raise ConnectionError("sink: EOF before done")
                got += chunk
            elapsed = time.perf_counter() - t0
        except OSError as e:
            raise ConnectionError(f"sink: {e!r}; the sender's TCP_INFO then: {tcp_info(s)}") from e
        finally:
            stop.set()
            sampler.join()
        after = tcp_info(s)
    if got != DONE:
        raise ValueError(f"sink answered {got!r}")
    d = {k: after[k] - before[k] for k in ("busy_us", "rwnd_limited_us", "segs_in", "data_segs_out", "retrans")}
    mib = nbytes / (1 << 20)
    return {"MBps": nbytes / elapsed / 1e6,
            "acks_per_MiB": d["segs_in"] / mib,
            "segs_per_ack": d["data_segs_out"] / d["segs_in"] if d["segs_in"] else 0.0,
            "rwnd_limited_pct": 100.0 * d["rwnd_limited_us"] / d["busy_us"] if d["busy_us"] else 0.0,
            "wnd_KiB": statistics.median(wnd) / 1024 if wnd else 0.0,
            "inflight_KiB": statistics.median(inflight) / 1024 if inflight else 0.0,
            "retrans": d["retrans"]}


FIGURES = (("MBps", "MB/s", "{:.1f}"), ("acks_per_MiB", "acks/MiB", "{:.0f}"),
           ("segs_per_ack", "segs/ack", "{:.2f}"), ("rwnd_limited_pct", "rwnd-lim %", "{:.0f}"),
           ("wnd_KiB", "wnd KiB", "{:.0f}"), ("inflight_KiB", "inflight KiB", "{:.0f}"),
           ("retrans", "retrans", "{:.0f}"))


def client_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("--bulk-bytes", type=int, required=True)
    ap.add_argument("--runs", type=int, required=True)
    a = ap.parse_args(argv)
    print(json.dumps([one_sink(a.host, a.bulk_bytes) for _ in range(a.runs)]))
    return 0


def measure(image: Path, args, runner=()) -> dict:
    import netload_support as nl
    with nl.tap_namespace() as ns, \
            nl.boot_on_tap(image, ns, accel=args.accel, timeout=180, runner=runner) as vm:
        vm.expect("netbench: ready")
        p = subprocess.run(ns.exec_argv([sys.executable, __file__, "--client", ns.guest_addr,
                                         "--bulk-bytes", str(args.bulk_mib << 20), "--runs", str(args.runs)]),
                           capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or [f"status {p.returncode}"])[-1]}
    rows = json.loads(p.stdout.strip().splitlines()[-1])
    return {k: statistics.median(r[k] for r in rows) for k, *_ in FIGURES}


def print_row(label: str, row: dict) -> None:
    if "error" in row:
        print(f"{label:<28} failed: {row['error']}")
    else:
        print(f"{label:<28}" + "".join(f"{fmt.format(row[k]):>14}" for k, _, fmt in FIGURES))
    sys.stdout.flush()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        return client_main(sys.argv[2:])
    import linux_guest
    import net
    import netload_support as nl
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")
    ap.add_argument("--bulk-mib", type=int, default=16)
    ap.add_argument("--image", type=Path, help="a bench/net.py SERVER image already built")
    ap.add_argument("--no-linux", dest="linux", action="store_false")
    args = ap.parse_args()
    ok, why = nl.namespace_available()
    if not ok:
        print(f"skipped: {why}")
        return 0
    image = args.image or net.build_image(REPO / "build" / "bench" / "netbench.img")
    print(f"host->guest bulk over tap: accelerator {args.accel}, medians of {args.runs} runs of "
          f"{args.bulk_mib} MiB; counts from the sending host's TCP_INFO")
    print(f"{'guest':<28}" + "".join(f"{t:>14}" for _, t, _ in FIGURES))
    print_row(f"Tyn ({args.accel})", measure(image, args))
    if args.linux:
        try:
            base = linux_guest.prepare(image)
        except linux_guest.LinuxGuestError as e:
            print(f"Linux guest baseline unavailable: {e}")
            return 0
        print_row(f"Linux {base.kernel.version} ({args.accel})", measure(image, args, net.LINUX_RUNNER))
    return 0


if __name__ == "__main__":
    sys.exit(main())
