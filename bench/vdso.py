"""clock_gettime through the vDSO against the system call, on Tyn beside Linux.

    python bench/vdso.py [--runs 5] [--accel tcg|kvm]

bench/programs/clock_calls.c (static musl) counts clock_gettime(CLOCK_MONOTONIC) calls per
second through musl (which takes the vDSO when AT_SYSINFO_EHDR offers one) and through the
raw system call.  It runs on the host (Linux's vDSO), and as the init of a Tyn image with
vdso=auto (the TSC read in user mode, unless KVM) and vdso=syscall (the vDSO falls back to
the system call).  Medians of --runs; the last column is libc/syscall, i.e. what the vDSO
saves.  The accelerator of the Tyn rows is named.  Not a test.
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

PROGRAM = REPO / "bench" / "programs" / "clock_calls.c"
FIGURES = ("libc_clock_gettime_per_s", "syscall_clock_gettime_per_s")


def figures(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def run_tyn(image: Path, accel: str, mode: str) -> dict[str, float]:
    p = subprocess.run([sys.executable, "-m", "tyn.run", str(image), "--accel", accel, "-q",
                        "--append", f"vdso={mode}"], cwd=REPO, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit(f"bench/vdso.py: Tyn run (vdso={mode}, {accel}) failed ({p.returncode}):\n{p.stdout[-2000:]}")
    return figures(p.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")
    args = ap.parse_args()
    if musl.available() is not None:
        raise SystemExit(f"bench/vdso.py: {musl.available()}")
    exe = musl.build(PROGRAM)
    rows: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "clock_calls.img"
        subprocess.run([sys.executable, "-m", "tyn.build", "image", "--init", str(exe), "-o", str(image)],
                       cwd=REPO, check=True, capture_output=True)
        rows["linux (host)"] = [figures(subprocess.run([str(exe)], capture_output=True, text=True).stdout)
                                for _ in range(args.runs)]
        for mode in ("auto", "syscall"):
            rows[f"tyn/{args.accel} vdso={mode}"] = [run_tyn(image, args.accel, mode) for _ in range(args.runs)]
    print(f"{'calls/s, median of ' + str(args.runs):28}{'vDSO present':>14}{'libc (vDSO)':>16}"
          f"{'syscall':>16}{'libc/syscall':>14}")
    for name, runs in rows.items():
        med = {f: statistics.median(r[f] for r in runs) for f in FIGURES}
        present = "yes" if all(r.get("vdso_present") for r in runs) else "no"
        print(f"{name:28}{present:>14}{med[FIGURES[0]]:16.0f}{med[FIGURES[1]]:16.0f}"
              f"{med[FIGURES[0]] / med[FIGURES[1]]:14.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
