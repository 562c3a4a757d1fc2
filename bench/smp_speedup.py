"""Parallel CPU-bound Erlang on several CPUs: Tyn at --smp 1 and 2, beside hostrun.

    python bench/smp_speedup.py [--runs 3] [--accel tcg|kvm] [--image IMG]

One image whose program spawns 4 CPU-bound processes and times them (erlang:monotonic_time)
first with schedulers_online 1, then with 2 (where the VM has 2 schedulers).  Booted under
tyn.run at --smp 1 and --smp 2, and run by tyn.hostrun on this host's Linux (the same
beam.smp and files).  Prints per configuration the median over --runs of each timing, the
speed-up (1-scheduler time / 2-scheduler time), and Tyn's time over hostrun's for the same
scheduler count.  Which accelerator each Tyn row used is printed in it.  TCG runs guest
code ~13x slower than native, so compare speed-ups, not times, across the two.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
PROCESSES = 4
ITERATIONS = 300_000
EVAL = (
    "W = fun() -> lists:foldl(fun(I, A) -> (A * 31 + I) rem 1000003 end, 0, "
    f"lists:seq(1, {ITERATIONS})) end, "
    "Run = fun(S) -> erlang:system_flag(schedulers_online, S), "
    "T0 = erlang:monotonic_time(millisecond), Self = self(), "
    f"Ps = [spawn(fun() -> Self ! {{done, W()}} end) || _ <- lists:seq(1, {PROCESSES})], "
    "[receive {done, _} -> ok end || _ <- Ps], erlang:monotonic_time(millisecond) - T0 end, "
    "Max = erlang:system_info(schedulers), R1 = Run(1), R2 = Run(min(2, Max)), "
    'io:format("smp-bench schedulers=~p s1_ms=~p s2_ms=~p~n", [Max, R1, R2]), halt().'
)
LINE = re.compile(r"smp-bench schedulers=(\d+) s1_ms=(\d+) s2_ms=(\d+)")


def build_image(out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([PY, "-m", "tyn.build", "image", "--eval", EVAL, "-o", str(out)], cwd=REPO,
                   check=True, capture_output=True)


def one_run(cmd: list[str]) -> tuple[int, int, int] | None:
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    m = LINE.search(r.stdout)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def row(name: str, cmd: list[str], runs: int) -> tuple[float, float] | None:
    got = [x for x in (one_run(cmd) for _ in range(runs)) if x is not None]
    if not got:
        print(f"{name:28} no result in {runs} runs")
        return None
    s1 = statistics.median(x[1] for x in got)
    s2 = statistics.median(x[2] for x in got)
    print(f"{name:28} schedulers {got[0][0]}  1 sched {s1:8.0f} ms  2 sched {s2:8.0f} ms  "
          f"speed-up {s1 / s2:4.2f}x  ({len(got)}/{runs} runs)")
    return s1, s2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--accel", choices=["tcg", "kvm"], default="tcg")
    ap.add_argument("--image", type=Path)
    args = ap.parse_args(argv)
    image = args.image or REPO / "build" / "bench-smp.img"
    if args.image is None:
        build_image(image)
    print(f"{PROCESSES} processes x {ITERATIONS} iterations, median of {args.runs}")
    host = row("hostrun (host Linux)", [PY, "-m", "tyn.hostrun", str(image)], args.runs)
    tyn = {}
    for smp in (1, 2):
        tyn[smp] = row(f"Tyn --smp {smp} ({args.accel})",
                       [PY, "-m", "tyn.run", "--accel", args.accel, "--smp", str(smp), str(image)], args.runs)
    if tyn[1] and tyn[2]:
        print(f"Tyn --smp 2 (2 schedulers) over --smp 1 (1 scheduler): {tyn[1][0] / tyn[2][1]:.2f}x faster")
    if host and tyn[2]:
        print(f"Tyn/hostrun, 2 schedulers: {tyn[2][1] / host[1]:.1f}x (accelerator {args.accel})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
