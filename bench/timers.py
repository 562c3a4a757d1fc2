"""Timer precision on Tyn beside Linux: nanosleep(1 ms) and a 2 ms timerfd period.

    python bench/timers.py [--runs 5] [--accel tcg|kvm|all]

Builds bench/programs/timers.c as a static musl program, runs it on the host (the Linux
reference) and as the init of a Tyn image, --runs times each, and prints the median of
each figure per platform and its ratio to Linux's.  Which accelerator each Tyn row used is
named.  Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from guest import musl  # noqa: E402

PROGRAM = REPO / "bench" / "programs" / "timers.c"


def figures(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].replace("_", "").isalnum():
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def run_tyn(image: Path, accel: str) -> dict[str, float]:
    p = subprocess.run([sys.executable, "-m", "tyn.run", str(image), "--accel", accel, "-q"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit(f"bench/timers.py: Tyn run under {accel} failed (status {p.returncode}):\n{p.stdout[-2000:]}")
    return figures(p.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--accel", choices=("tcg", "kvm", "all"), default="tcg")
    args = ap.parse_args()
    if musl.available() is not None:
        raise SystemExit(f"bench/timers.py: {musl.available()}")
    exe = musl.build(PROGRAM)
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "timers.img"
        subprocess.run([sys.executable, "-m", "tyn.build", "image", "--init", str(exe), "-o", str(image)],
                       cwd=REPO, check=True, capture_output=True)
        rows = {"linux": [figures(subprocess.run([str(exe)], capture_output=True, text=True).stdout)
                          for _ in range(args.runs)]}
        for accel in (("tcg", "kvm") if args.accel == "all" else (args.accel,)):
            rows[f"tyn/{accel}"] = [run_tyn(image, accel) for _ in range(args.runs)]
    names = list(rows["linux"][0])
    print(f"{'figure (ms, median of ' + str(args.runs) + ')':32}" + "".join(f"{k:>14}" for k in rows)
          + "".join(f"{'x linux ' + k.split('/')[1]:>14}" for k in rows if k != "linux"))
    for name in names:
        med = {k: statistics.median(r[name] for r in v) for k, v in rows.items()}
        line = f"{name:32}" + "".join(f"{med[k]:14.3f}" for k in rows)
        line += "".join(f"{med[k] / med['linux']:14.2f}" for k in rows if k != "linux")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
