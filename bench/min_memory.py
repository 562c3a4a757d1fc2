"""The smallest guest RAM (-m, whole MiB) in which the hello image boots, by bisection.

    .venv/bin/python bench/min_memory.py [--image IMG] [--low 32] [--high 128] [--accel tcg]
                                         [--tries 2] [--jit]

Builds (or reuses) the OTP 27 hello image (`tyn.build image --eval 'io:format("Hello from
OTP 27 on Tyn!~n"), halt().'`, bench/beam.py's), then bisects -m between --low (must fail)
and --high (must boot): a size passes when every one of --tries boots prints the hello and
exits 0.  Each boot runs with profile=1; the answer comes with the memory line of the
smallest passing boot and how the largest failing size failed (OOM line, "too little RAM"
refusal, other).  TCG by default: the figure is the guest's need, the same under any
accelerator.  Not a test.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
HELLO = "Hello from OTP 27 on Tyn!"
EVAL = 'io:format("Hello from OTP 27 on Tyn!~n"), halt().'
MEMORY_LINE = re.compile(r"^tyn: profile: memory .*$", re.M)
OOM_LINE = re.compile(r"^Out of memory: Killed process .*$", re.M)
REFUSED = re.compile(r"^tyn: this image needs at least .*$", re.M)
TIMEOUT = 300


def build_image(out: Path, jit: bool) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [PY, "-m", "tyn.build", "image", "--eval", EVAL, "-o", str(out)] + (["--jit"] if jit else [])
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def boot(image: Path, mib: int, accel: str) -> tuple[bool, str]:
    cmd = [PY, "-m", "tyn.run", str(image), "-m", f"{mib}M", "--accel", accel, "--append", "profile=1"]
    try:
        r = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, "timeout"
    log = r.stdout + r.stderr
    return r.returncode == 0 and HELLO in log, log


def why(log: str) -> str:
    for pattern in (OOM_LINE, REFUSED):
        m = pattern.search(log)
        if m:
            return m.group(0)
    return log.strip().splitlines()[-1] if log.strip() else "no output"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", type=Path, help="boot this image instead of building the hello")
    ap.add_argument("--jit", action="store_true", help="build the hello with the JIT flavour")
    ap.add_argument("--low", type=int, default=32, help="MiB that must fail (default 32)")
    ap.add_argument("--high", type=int, default=128, help="MiB that must boot (default 128)")
    ap.add_argument("--tries", type=int, default=2, help="boots per size, all must pass (default 2)")
    ap.add_argument("--accel", default="tcg")
    args = ap.parse_args()
    if not 0 < args.low < args.high:
        ap.error("need 0 < --low < --high")
    image = args.image
    if image is None:
        image = REPO / "build" / "bench-image" / ("hello-jit.img" if args.jit else "hello.img")
        build_image(image, args.jit)
    elif not image.is_file():
        ap.error(f"no such image: {image}")

    def passes(mib: int) -> tuple[bool, str]:
        log = ""
        for _ in range(args.tries):
            ok, log = boot(image, mib, args.accel)
            print(f"  -m {mib}M: {'boots' if ok else 'fails: ' + why(log)}", flush=True)
            if not ok:
                return False, log
        return True, log

    ok, high_log = passes(args.high)
    if not ok:
        print(f"min_memory: the image does not boot even in {args.high} MiB", file=sys.stderr)
        return 1
    low_ok, low_log = passes(args.low)
    if low_ok:
        print(f"min_memory: the image boots in --low {args.low} MiB already; lower it", file=sys.stderr)
        return 1
    low, high = args.low, args.high
    while high - low > 1:
        mid = (low + high) // 2
        ok, log = passes(mid)
        if ok:
            high, high_log = mid, log
        else:
            low, low_log = mid, log
    mem = MEMORY_LINE.search(high_log)
    print(f"image: {image.name} accel: {args.accel} tries per size: {args.tries}")
    print(f"smallest -m that boots: {high}M")
    print(f"  its memory line: {mem.group(0) if mem else '(none)'}")
    print(f"  at {low}M: {why(low_log)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
