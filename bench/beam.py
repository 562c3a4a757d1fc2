"""BEAM boot benchmark: the OTP 27 hello image on Tyn beside the same image on Linux.

    python bench/beam.py [--runs 10] [--accel tcg|kvm|all] [--timeout 300]

Builds (or reuses) `tyn.build image --eval 'io:format("Hello from OTP 27 on Tyn!~n"),
halt().'`, then for each accelerator boots it --runs times through `python -m tyn.run`
and reports the median/min/max of
  start -> hello     QEMU process start (tyn.run start) to the "Hello from OTP 27" line
  entry -> syscall   kernel entry to init's first system call (the kernel's own report)
The reference row in the same invocation is `python -m tyn.hostrun` of the same image:
the same beam.smp and files on the host's Linux, start to exit.  "x ref" is each median
over the hostrun median.  Not a test.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
HELLO = b"Hello from OTP 27 on Tyn!"
FIRST_CALL = re.compile(rb"tyn: first system call (\d+) us after kernel entry")
EVAL = 'io:format("Hello from OTP 27 on Tyn!~n"), halt().'


def build_image(out: Path) -> None:
    subprocess.run([PY, "-m", "tyn.build", "image", "--eval", EVAL, "-o", str(out)], cwd=REPO,
                   check=True, capture_output=True)


def boot_once(image: Path, accel: str, timeout: float) -> tuple[float, float | None]:
    """(seconds from start to the hello line, ms from kernel entry to the first syscall)."""
    start = time.monotonic()
    proc = subprocess.Popen([PY, "-m", "tyn.run", str(image), "--accel", accel, "-q"], cwd=REPO,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen, hello_at = b"", None
    try:
        while hello_at is None:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                break
            seen += chunk
            if HELLO in seen:
                hello_at = time.monotonic() - start
            if time.monotonic() - start > timeout:
                break
        seen += proc.stdout.read()
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    if hello_at is None:
        raise RuntimeError(f"no hello within {timeout}s under {accel}:\n{seen[-2000:].decode(errors='replace')}")
    m = FIRST_CALL.search(seen)
    return hello_at, int(m.group(1)) / 1000 if m else None


def hostrun_once(image: Path) -> float:
    start = time.monotonic()
    r = subprocess.run([PY, "-m", "tyn.hostrun", str(image)], cwd=REPO, capture_output=True)
    if HELLO not in r.stdout:
        raise RuntimeError(f"hostrun printed no hello: {r.stderr[-1000:]!r}")
    return time.monotonic() - start


def row(name: str, values: list[float], ref: float | None, unit: str = "ms", scale: float = 1000,
        is_reference: bool = False) -> str:
    med = statistics.median(values)
    ratio = "   ref " if is_reference else (f"{med / ref:6.1f}x" if ref else "     - ")
    return (f"{name:<34} {med * scale:10.1f} {min(values) * scale:10.1f} {max(values) * scale:10.1f}"
            f"  {ratio}  ({len(values)} runs, {unit})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--accel", choices=["tcg", "kvm", "all"], default="all")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    image = REPO / "build" / "bench-beam.img"
    build_image(image)
    host = [hostrun_once(image) for _ in range(args.runs)]
    ref = statistics.median(host)
    print(f"{'':<34} {'median':>10} {'min':>10} {'max':>10}  x ref")
    print(row("hostrun (Linux) start -> exit", host, None, is_reference=True))
    for accel in (["tcg", "kvm"] if args.accel == "all" else [args.accel]):
        hello, first = [], []
        for _ in range(args.runs):
            h, f = boot_once(image, accel, args.timeout)
            hello.append(h)
            if f is not None:
                first.append(f / 1000)
        print(row(f"{accel}: start -> hello", hello, ref))
        if first:
            print(row(f"{accel}: kernel entry -> first syscall", first, None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
