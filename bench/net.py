"""Network benchmarks: echo round trip p50/p99, bulk MB/s both ways on one connection, and
connections/s, for the guest over QEMU user networking (hostfwd) and over a tap device, beside
the same image under tyn.hostrun on host Linux loopback, in one invocation.

    python bench/net.py [--runs 3] [--accel tcg] [--path user,tap,hostrun] [--no-linux]
                        [--echoes 1000] [--bulk-mib 16] [--connections 200]

One image (built here with `tyn.build image --eval SERVER`): port 5555 greets and echoes like
the default image's tyn_demo; port 5556 is a sink/source server for the bulk runs
(bench/net_client.py describes its requests); its sockets read with a 256 KiB user buffer
({buffer, 262144}): inet_drv's default of 1460 bytes makes every read one segment, and the
sink then measured inet_drv's per-read cost more than the stack (host->guest was ~7x slower
than guest->host on every path, hostrun included).  Each path boots once and is measured --runs
times; the figures are the medians.  The tap path and hostrun run inside network namespaces
made here (tests/netload_support.py), so nothing leaves the machine and port 5555 clashes
with nothing.  Prints the accelerator; nothing is asserted.

Each QEMU path is also measured with the Linux baseline (bench/linux_guest.py: Debian's 6.1
cloud kernel + a busybox initramfs holding the same image's rootfs and beam.smp, on the same
QEMU command line and backend), followed by a "Tyn / Linux" row: each Tyn figure over the
Linux guest's (rtt: below 1 is Tyn faster; MB/s and connections/s: above 1 is Tyn faster).
--no-linux leaves the baseline out.  With the baseline, the two guests take turns: each run
boots Tyn and measures once, then boots Linux and measures once, so a noisy stretch of the
host hits both sides rather than one.

The last column is the host's steal time during the measurements (median over the runs, from
/proc/stat): the time the machine running this benchmark was itself descheduled by its
hypervisor.  When this machine is a VM, a run with high steal is slow on every column whichever
guest it measured, so a guest run with more than --max-steal % (default 5) is done again on a
fresh boot, at most --steal-retries times, for Tyn and Linux alike; the row says how many were.

bench/net_rx.py takes the host->guest column apart over tap (the guest's ACK rate, how long
the sender waited on the guest's window, the window it saw), for Tyn and the same Linux guest.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import harness  # noqa: E402
import linux_guest  # noqa: E402
import netload_support as nl  # noqa: E402

ECHO_PORT, BULK_PORT = 5555, 5556
READY = "netbench: ready"
CLIENT = REPO / "bench" / "net_client.py"
LINUX_RUNNER = [sys.executable, str(REPO / "bench" / "linux_guest.py")]

SERVER = r"""
Opts = [binary, {active, false}, {reuseaddr, true}, {packet, raw}, {backlog, 1024}],
Spawn = fun(S, H) -> P = spawn(fun() -> receive go -> H(S) end end),
                     ok = gen_tcp:controlling_process(S, P), P ! go end,
Serve = fun(Port, H, More) -> {ok, L} = gen_tcp:listen(Port, More ++ Opts),
    spawn(fun() -> Acc = fun A() -> {ok, S} = gen_tcp:accept(L), Spawn(S, H), A() end, Acc() end),
    ok = gen_tcp:controlling_process(L, whereis(init)) end,
Echo = fun E(S) -> case gen_tcp:recv(S, 0) of {ok, D} -> ok = gen_tcp:send(S, D), E(S);
                                              {error, _} -> gen_tcp:close(S) end end,
Sink = fun K(_S, 0) -> ok;
           K(S, N) -> {ok, D} = gen_tcp:recv(S, 0), K(S, N - byte_size(D)) end,
Chunk = binary:copy(list_to_binary(lists:seq(0, 255)), 256),
Source = fun O(_S, 0) -> ok;
             O(S, N) when N >= byte_size(Chunk) -> ok = gen_tcp:send(S, Chunk), O(S, N - byte_size(Chunk));
             O(S, N) -> ok = gen_tcp:send(S, binary:part(Chunk, 0, N)) end,
Bulk = fun B(S) -> case gen_tcp:recv(S, 9) of
           {ok, <<$s, N:64>>} -> ok = Sink(S, N), ok = gen_tcp:send(S, <<"done\n">>), B(S);
           {ok, <<$o, N:64>>} -> ok = Source(S, N), B(S);
           _ -> gen_tcp:close(S) end end,
Serve(5555, fun(S) -> ok = gen_tcp:send(S, <<"Hello from OTP 27 on Tyn!\n">>), Echo(S) end, []),
Serve(5556, Bulk, [{buffer, 262144}]),
io:format("netbench: ready~n"),
receive stop -> ok end.
"""


def build_image(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "tyn.build", "image", "--eval", SERVER, "-o", str(out)],
                   check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_cpu_times() -> tuple[int, int]:
    """(steal, total) jiffies of the whole host so far (first line of /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return fields[PROC_STAT_STEAL], sum(fields)


def measure(host: str, echo_port: int, bulk_port: int, args, ns=None) -> dict:
    argv = [sys.executable, str(CLIENT), host, str(echo_port), str(bulk_port),
            "--echoes", str(args.echoes), "--bulk-bytes", str(args.bulk_mib << 20),
            "--connections", str(args.connections)]
    if ns is not None:
        argv = ns.exec_argv(argv)
    steal0, total0 = host_cpu_times()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    steal1, total1 = host_cpu_times()
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"status {p.returncode}"}
    figures = json.loads(p.stdout.strip().splitlines()[-1])
    return figures | {"steal_pct": 100.0 * (steal1 - steal0) / max(1, total1 - total0)}


def user_once(image, args, runner=()) -> dict:
    """Boot on user-net with two forwarded ports and measure once."""
    echo, bulk = free_port(), free_port()
    with harness.boot(image, accel=args.accel, timeout=180, runner=runner,
                      args=["-p", f"{echo}:{ECHO_PORT}", "-p", f"{bulk}:{BULK_PORT}"]) as vm:
        vm.expect(READY)
        return measure("127.0.0.1", echo, bulk, args)


def tap_once(image, args, runner=()) -> dict:
    """Boot on a tap device in a fresh namespace and measure once."""
    with nl.tap_namespace() as ns, \
            nl.boot_on_tap(image, ns, accel=args.accel, timeout=180, runner=runner) as vm:
        vm.expect(READY)
        return measure(ns.guest_addr, ECHO_PORT, BULK_PORT, args, ns)


def hostrun_runs(image, args) -> list[dict]:
    with nl.tap_namespace(with_tap=False) as ns, nl.hostrun_in(image, ns, ready=READY):
        return [measure("127.0.0.1", ECHO_PORT, BULK_PORT, args, ns) for _ in range(args.runs)]


def quiet_run(once, args, *runner) -> dict:
    """One run; done again (a fresh boot) while the host's steal time was over --max-steal,
    up to --steal-retries times.  The result counts its own retries."""
    for retry in range(args.steal_retries + 1):
        r = once(*runner)
        if "error" in r or r["steal_pct"] <= args.max_steal:
            break
    return r | {"retries": retry}


def guest_runs(once, image, args, linux: bool) -> tuple[list[dict], list[dict]]:
    """--runs fresh boots of Tyn and, with the baseline, of the Linux guest, taking turns."""
    tyn, base = [], []
    for _ in range(args.runs):
        tyn.append(quiet_run(lambda *r: once(image, args, *r), args))
        if linux:
            base.append(quiet_run(lambda *r: once(image, args, *r), args, LINUX_RUNNER))
    return tyn, base


PATHS = {"user": ("guest, user-net hostfwd", user_once),        # "Tyn " / "Linux " + label
         "tap": ("guest, tap in a netns", tap_once),
         "hostrun": ("tyn.hostrun, host Linux loopback", None)}
FIGURES = (("rtt_p50_ms", "rtt p50 ms", "{:.3f}"), ("rtt_p99_ms", "rtt p99 ms", "{:.3f}"),
           ("to_guest_MBps", "host->guest MB/s", "{:.1f}"), ("from_guest_MBps", "guest->host MB/s", "{:.1f}"),
           ("conn_per_s", "connections/s", "{:.0f}"))
STEAL = ("steal_pct", "host steal %", "{:.1f}")
PROC_STAT_STEAL = 7     # /proc/stat cpu fields: user nice system idle iowait irq softirq steal ...


def median_row(results: list[dict]) -> dict:
    ok = [r for r in results if "error" not in r]
    if not ok:
        return {"error": results[0].get("error", "no result")}
    return ({k: statistics.median(r[k] for r in ok) for k, *_ in FIGURES + (STEAL,)}
            | {"n": len(ok), "retries": sum(r.get("retries", 0) for r in ok)})


def print_row(label: str, row: dict) -> None:
    if "error" in row:
        print(f"{label:<40} failed: {row['error']}")
    else:
        retried = f"  (redone for steal: {row['retries']})" if row.get("retries") else ""
        print(f"{label:<40}" + "".join(f"{fmt.format(row[k]):>18}" for k, _, fmt in FIGURES + (STEAL,))
              + retried)
    sys.stdout.flush()


def print_ratio(tyn: dict, linux: dict) -> None:
    if "error" in tyn or "error" in linux:
        print(f"{'  Tyn / Linux':<40} -")
        return
    cells = [f"{tyn[k] / linux[k]:.2f}x" if linux[k] else "-" for k, *_ in FIGURES]
    print(f"{'  Tyn / Linux':<40}" + "".join(f"{c:>18}" for c in cells))
    sys.stdout.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")
    ap.add_argument("--path", default="user,tap,hostrun", help="comma-separated: user, tap, hostrun")
    ap.add_argument("--echoes", type=int, default=1000, help="round trips per run (64-byte messages)")
    ap.add_argument("--bulk-mib", type=int, default=16, help="MiB each way per run")
    ap.add_argument("--connections", type=int, default=200, help="connections per run (4 in parallel)")
    ap.add_argument("--image", type=Path, help="a SERVER image already built")
    ap.add_argument("--max-steal", type=float, default=5.0,
                    help="a guest run during which the host's steal time was above this %% is "
                         "done again (both guests alike; 100: never)")
    ap.add_argument("--steal-retries", type=int, default=2, help="at most this many times per run")
    ap.add_argument("--no-linux", dest="linux", action="store_false",
                    help="leave out the Linux-guest baseline rows")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    paths = [p for p in args.path.split(",") if p]
    for p in paths:
        if p not in PATHS:
            ap.error(f"unknown path {p!r}")
    image = args.image or build_image(REPO / "build" / "bench" / "netbench.img")
    linux = None
    if args.linux and any(p != "hostrun" for p in paths):
        try:
            linux = linux_guest.prepare(image)
        except linux_guest.LinuxGuestError as e:
            print(f"Linux guest baseline unavailable: {e}")
    print(f"network benchmark: accelerator {args.accel} (QEMU paths), medians of {args.runs} runs, "
          f"{args.echoes} x 64-byte echoes, {args.bulk_mib} MiB each way, {args.connections} connections")
    if linux:
        print(f"Linux guest: {linux.kernel.package} {linux.kernel.version}, same QEMU command and backend")
    header = f"{'path':<40}" + "".join(f"{title:>18}" for _, title, _ in FIGURES + (STEAL,))
    print(header)
    for p in paths:
        label, fn = PATHS[p]
        if p in ("tap", "hostrun"):
            ok, why = nl.namespace_available()
            if not ok:
                print(f"{label:<40} skipped: {why}")
                continue
        if p == "hostrun":
            print_row(label, median_row(hostrun_runs(image, args)))
            continue
        tyn, base = guest_runs(fn, image, args, linux is not None)
        print_row(f"Tyn {label} ({args.accel})", median_row(tyn))
        if linux:
            print_row(f"Linux {label} ({args.accel})", median_row(base))
            print_ratio(median_row(tyn), median_row(base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
