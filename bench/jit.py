"""A CPU-bound Erlang workload under both ERTS flavours (interpreter, BeamAsm JIT), on Tyn
and under hostrun (the same beam.smp and files on Linux), side by side.

    python bench/jit.py [--runs 3] [--accel tcg|kvm] [--n 27]

The workload (--eval, timed inside the BEAM with erlang:monotonic_time): naive fib(N) and
lists:sort of 200k pseudo-random integers, then halt.  Each row is the median of --runs
(milliseconds of the workload only, boot excluded); the last columns are JIT/interpreter
on each platform and Tyn/hostrun per flavour.  Tyn runs use the named accelerator (TCG by
default: guest user code runs ~13x slower than natively, so compare ratios, not absolute
figures).  Not a test.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = re.compile(r"^work_ms (\d+)$", re.M)


def workload(n: int) -> str:
    return ("Fib = fun F(0) -> 0; F(1) -> 1; F(K) -> F(K - 1) + F(K - 2) end, "
            "T0 = erlang:monotonic_time(millisecond), "
            f"_ = Fib({n}), "
            "L = [(I * 7919) rem 100003 || I <- lists:seq(1, 200000)], "
            "_ = lists:sort(L), "
            "io:format(\"work_ms ~p flavor ~p~n\", [erlang:monotonic_time(millisecond) - T0, "
            "erlang:system_info(emu_flavor)]), halt().")


def build(out: Path, n: int, jit: bool) -> None:
    cmd = [sys.executable, "-m", "tyn.build", "image", "--eval", workload(n), "-o", str(out)]
    subprocess.run(cmd + (["--jit"] if jit else []), cwd=REPO, check=True, capture_output=True)


def measure(cmd: list[str], what: str) -> int:
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL)
    m = re.search(r"work_ms (\d+) flavor (\w+)", p.stdout)
    if p.returncode != 0 or not m:
        raise SystemExit(f"bench/jit.py: {what} failed ({p.returncode}):\n{(p.stdout + p.stderr)[-2000:]}")
    return int(m[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")
    ap.add_argument("--n", type=int, default=27, help="fib(N) (default 27)")
    args = ap.parse_args()
    med: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for flavour in ("interpreter", "jit"):
            image = Path(tmp) / f"{flavour}.img"
            build(image, args.n, flavour == "jit")
            tyn = [sys.executable, "-m", "tyn.run", str(image), "--accel", args.accel, "-q"]
            host = [sys.executable, "-m", "tyn.hostrun", str(image)]
            med[("tyn", flavour)] = statistics.median(measure(tyn, f"Tyn {flavour}") for _ in range(args.runs))
            med[("hostrun", flavour)] = statistics.median(measure(host, f"hostrun {flavour}")
                                                         for _ in range(args.runs))
    print(f"workload: fib({args.n}) + sort of 200k integers; ms, median of {args.runs}; Tyn under {args.accel}")
    print(f"{'':12}{'interpreter':>14}{'jit':>14}{'jit/interp':>12}")
    for where in ("tyn", "hostrun"):
        i, j = med[(where, "interpreter")], med[(where, "jit")]
        print(f"{where:12}{i:14.0f}{j:14.0f}{j / i:12.2f}")
    print(f"{'tyn/hostrun':12}{med[('tyn', 'interpreter')] / med[('hostrun', 'interpreter')]:14.2f}"
          f"{med[('tyn', 'jit')] / med[('hostrun', 'jit')]:14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
