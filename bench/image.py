"""Image diet benchmark (issue 13): image sizes against the goals, the smallest guest RAM the
hello boots in, and QEMU start -> hello, for today's images beside the unstripped reference.

    python bench/image.py [--runs 5] [--accel tcg|kvm] [--timeout 120] [--no-elixir]

Builds, in this invocation, with the current kernel:
  hello, stripped   `--eval 'io:format("Hello from OTP 27 on Tyn!~n"), halt().'` (the default:
                    kernel + stdlib, .beam files stripped)
  hello, gz         the same with `--beams gz` (stripped and gzip-compressed)
  hello, reference  the image as it was before the diet: `--beams full` and the applications
                    every image carried then (`--otp-app compiler --otp-app sasl --otp-app inets`)
  elixir, stripped / reference   `--elixir --eval ...System.version()` likewise (sizes only)
For each hello: the boot image size (goal <= 12 MiB; Elixir <= 20 MiB), the smallest `-m` in
MiB that boots it (bisection between tyn.run's minimum and --max-mem: a boot counts when the
hello is printed and the guest exits 0), and the median/min/max of QEMU start -> hello at
tyn.run's default memory over --runs boots, with "x ref" each median over the reference's, and
the median of QEMU start -> the kernel's banner (QEMU has loaded the whole image by then: what
the image's size costs at load time).
Every row names the accelerator (TCG by default).  Not a test.
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from tyn import qemu  # noqa: E402
from tyn.build import image as image_build  # noqa: E402

PY = sys.executable
HELLO = b"Hello from OTP 27 on Tyn!"
BANNER = b"Tyn "                  # the kernel's first console line: QEMU has loaded the image
HELLO_EVAL = 'io:format("Hello from OTP 27 on Tyn!~n"), halt().'
ELIXIR_EVAL = "'Elixir.IO':puts('Elixir.System':version()), halt()."
# What every image carried before issue 13, besides kernel and stdlib.
OLD_BASE_APPS = ("compiler", "sasl", "inets")
REFERENCE = ["--beams", "full"] + [a for app in OLD_BASE_APPS for a in ("--otp-app", app)]


@dataclass
class Variant:
    name: str
    args: list[str]
    goal_mib: int | None
    boots: bool                   # a hello image: boot it


def variants(elixir: bool) -> list[Variant]:
    out = [Variant("hello, stripped", ["--eval", HELLO_EVAL], image_build.HELLO_GOAL_MIB, True),
           Variant("hello, gz", ["--beams", "gz", "--eval", HELLO_EVAL], image_build.HELLO_GOAL_MIB, True),
           Variant("hello, reference", [*REFERENCE, "--eval", HELLO_EVAL], None, True)]
    if elixir:
        out += [Variant("elixir, stripped", ["--elixir", "--eval", ELIXIR_EVAL], image_build.ELIXIR_GOAL_MIB, False),
                Variant("elixir, reference", [*REFERENCE, "--elixir", "--eval", ELIXIR_EVAL], None, False)]
    return out


def build(v: Variant, outdir: Path) -> tuple[Path, str]:
    out = outdir / (v.name.replace(", ", "-") + ".img")
    p = subprocess.run([PY, "-m", "tyn.build", "image", *v.args, "-o", str(out)], cwd=REPO,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench/image.py: building {v.name} failed: {p.stderr.strip()[-500:]}")
    return out, p.stdout


def boot(image: Path, accel: str, memory_mib: int, timeout: float) -> tuple[float, float] | None:
    """Seconds from QEMU start to the kernel's banner and to the hello line, or None if the
    guest did not print the hello and exit 0 within `timeout`."""
    cmd = qemu.command(qemu.Config(image=image, accel=accel, memory_mib=memory_mib))
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen, hello_at, banner_at = b"", None, None
    try:
        while True:
            left = timeout - (time.monotonic() - start)
            ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
            if not ready:
                break
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
            if banner_at is None and (seen.startswith(BANNER) or b"\n" + BANNER in seen):
                banner_at = time.monotonic() - start
            if hello_at is None and HELLO in seen:
                hello_at = time.monotonic() - start
        proc.wait(timeout=max(0.1, timeout - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        pass
    finally:
        timed_out = proc.poll() is None
        if timed_out:
            proc.kill()
            proc.wait()
    if timed_out:
        return None
    err = proc.stderr.read().decode(errors="replace")
    status = qemu.interpret_exit(proc.returncode, seen, qemu_stderr=err).status
    return (banner_at, hello_at) if status == 0 and hello_at is not None and banner_at is not None else None


def smallest_memory(image: Path, accel: str, lo: int, hi: int, timeout: float) -> int | None:
    """The smallest MiB in [lo, hi] the image boots in, by bisection (None: not even hi)."""
    if boot(image, accel, hi, timeout) is None:
        return None
    if boot(image, accel, lo, timeout) is not None:
        return lo
    while hi - lo > 1:                 # invariant: fails at lo, boots at hi
        mid = (lo + hi) // 2
        print(f"    -m {mid}M ...", file=sys.stderr, flush=True)
        if boot(image, accel, mid, timeout) is not None:
            hi = mid
        else:
            lo = mid
    return hi


def fmt(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1e3:8.1f} {min(values) * 1e3:8.1f} {max(values) * 1e3:8.1f}"
            if values else f"{'-':>8} {'-':>8} {'-':>8}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--accel", choices=["tcg", "kvm"], default="tcg")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per boot")
    ap.add_argument("--max-mem", type=int, default=512, help="upper end of the -m bisection (MiB)")
    ap.add_argument("--no-elixir", dest="elixir", action="store_false", help="leave out the Elixir images")
    ap.add_argument("--no-memory", dest="memory", action="store_false", help="skip the -m bisection")
    args = ap.parse_args()
    if args.accel == "kvm":
        ok, why = qemu.kvm_status()
        if not ok:
            raise SystemExit(f"bench/image.py: kvm unusable here: {why}")
    outdir = REPO / "build" / "bench-image"
    outdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for v in variants(args.elixir):
        print(f"  building {v.name} ...", file=sys.stderr, flush=True)
        path, report = build(v, outdir)
        apps = [line.split()[0] for line in report.splitlines() if line.startswith("    ") and "MiB  " in line]
        rows.append((v, path, path.stat().st_size, apps))

    print(f"Image sizes (boot image: kernel + root filesystem), {len(rows)} images")
    for v, path, size, apps in rows:
        goal = "" if v.goal_mib is None else \
            f"  goal <= {v.goal_mib} MiB: {'met' if size <= v.goal_mib << 20 else 'MISSED'}"
        print(f"  {v.name:<20} {size / (1 << 20):7.2f} MiB{goal}")
        print(f"  {'':<20} applications: {' '.join(apps)}")

    booted = [(v, path) for v, path, _size, _apps in rows if v.boots]
    mems = {}
    for v, path in booted:
        if args.memory:
            print(f"  {v.name}: bisecting -m ...", file=sys.stderr, flush=True)
            mems[v.name] = smallest_memory(path, args.accel, qemu.MEM_MIN_MIB, args.max_mem, args.timeout)
    # Round-robin over the images, so a change in the host's load hits each of them alike.
    times = {v.name: [] for v, _ in booted}
    banners = {v.name: [] for v, _ in booted}
    for i in range(args.runs):
        for v, path in booted:
            t = boot(path, args.accel, qemu.Config(image=path).memory_mib, args.timeout)
            if t is None:
                print(f"  {v.name}: run {i + 1} failed", file=sys.stderr)
            else:
                banners[v.name].append(t[0])
                times[v.name].append(t[1])
    ref = times.get("hello, reference")
    ref_time = statistics.median(ref) if ref else None
    results = [(v, mems.get(v.name), times[v.name], banners[v.name]) for v, _ in booted]

    default_mib = qemu.Config(image=Path("-")).memory_mib
    print(f"\nHello boots, accelerator {args.accel}, {args.runs} runs each at -m {default_mib}M, "
          f"{os.cpu_count()} host CPUs")
    print(f"  {'':<20} {'':>8}  {'QEMU start -> hello (ms)':^26}  {'':5}  {'start -> banner':>15}")
    print(f"  {'image':<20} {'min -m':>8}  {'median':>8} {'min':>8} {'max':>8}  x ref  {'median (ms)':>15}")
    for v, mem, times, banners in results:
        ratio = f"{statistics.median(times) / ref_time:5.2f}" if times and ref_time else "    -"
        mem_s = "-" if not args.memory else f"{mem}M" if mem is not None else f">{args.max_mem}M"
        banner = f"{statistics.median(banners) * 1e3:15.1f}" if banners else f"{'-':>15}"
        print(f"  {v.name:<20} {mem_s:>8}  {fmt(times)}  {ratio}  {banner}  ({len(times)} of {args.runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
