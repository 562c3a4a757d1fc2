"""Boot-time benchmark: QEMU process start -> the kernel's "Tyn " banner line, and -> exit.

    python bench/boot.py [--runs 10] [--accel kvm|tcg|all] [--image build/tyn.elf]

For each accelerator x machine (microvm, pc+qboot, pc+SeaBIOS, q35+qboot, q35+SeaBIOS)
it boots the image --runs times with the exact command tyn.run uses and prints
median/min/max of the time from starting QEMU until the banner line arrives on the
serial console, and the median until QEMU exits: a kernel image without a root
filesystem brings everything up (memory, clock, user mode) and powers off, so
"exit" covers the whole kernel bring-up.  Two reference rows come from the same invocation:
  qemu -M none      start -> exit of `qemu-system-x86_64 -M none -accel tcg` (quit
                    through the monitor): the floor for starting QEMU at all
  via tyn.run       `python -m tyn.run` start -> banner (adds the Python wrapper)
The "x ref" column is each median over the `qemu -M none` median.  Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from tyn import qemu  # noqa: E402

BANNER = b"Tyn "
TIMEOUT_S = 60.0
CONFIGS = [("microvm", "-"), ("pc", "qboot"), ("pc", "seabios"), ("q35", "qboot"), ("q35", "seabios")]


def time_to_banner(cmd: list[str], to_exit: bool = False) -> float | tuple[float, float]:
    """Seconds from spawning `cmd` until a console line starts with "Tyn "; the run is then
    stopped (and reaped, so runs do not overlap).  to_exit: let it run and return
    (banner, exit) seconds."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    seen = b""
    found = None
    try:
        fd = proc.stdout.fileno()
        while found is None:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            if found is None and (seen.startswith(BANNER) or b"\n" + BANNER in seen):
                found = time.perf_counter() - t0
                if not to_exit:
                    break
            if time.perf_counter() - t0 > TIMEOUT_S:
                break
        if to_exit and found is not None:
            proc.wait(timeout=TIMEOUT_S)
            exited = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.terminate()                  # tyn.run stops its QEMU on SIGTERM
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if found is None:
        err = proc.stderr.read().decode(errors="replace").strip()
        raise RuntimeError(f"no banner from {' '.join(cmd)}\nconsole: {seen[-500:]!r}\nstderr: {err}")
    return (found, exited) if to_exit else found


def time_qemu_none() -> float:
    """QEMU with no machine: start, quit via the monitor, exit."""
    t0 = time.perf_counter()
    subprocess.run([qemu.QEMU_BINARY, "-M", "none", "-accel", "tcg", "-nodefaults", "-no-user-config",
                    "-display", "none", "-monitor", "stdio"], input=b"quit\n",
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def measure(fn, runs: int) -> list[float]:
    fn()                                   # warm the page cache; not counted
    return [fn() for _ in range(runs)]


def ensure_image(path: Path) -> Path:
    if path.exists():
        return path
    from tyn.build import bootimage, kernel
    print(f"building {path} ...", file=sys.stderr)
    elf = kernel.build_kernel(kernel.KernelBuild())
    bootimage.write_boot_image(elf, None, path)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--accel", choices=["all", "kvm", "tcg"], default="all")
    ap.add_argument("--image", type=Path, default=REPO / "build" / "tyn.elf")
    args = ap.parse_args(argv)
    image = ensure_image(args.image)
    qemu.check_image(image)

    accels = ["kvm", "tcg"] if args.accel == "all" else [args.accel]
    kvm_ok, why = qemu.kvm_status()
    if "kvm" in accels and not kvm_ok:
        print(f"skipping kvm: {why}", file=sys.stderr)
        accels.remove("kvm")

    rows = []                               # (label, samples, exit samples or None)
    ref = measure(time_qemu_none, args.runs)
    rows.append(("qemu -M none (tcg) start->exit", ref, None))
    for accel in accels:
        for machine, firmware in CONFIGS:
            cfg = qemu.Config(image=image, accel=accel, machine=machine,
                              firmware=firmware if firmware != "-" else "qboot")
            label = f"{accel:3} {machine}" + (f"+{firmware}" if firmware != "-" else "")
            print(f"  {label} ...", file=sys.stderr, flush=True)
            both = measure(lambda: time_to_banner(qemu.command(cfg), to_exit=True), args.runs)
            rows.append((label, [b for b, _ in both], [e for _, e in both]))
    run_cmd = [sys.executable, "-m", "tyn.run", "-q", str(image)]
    rows.append(("via tyn.run (auto, microvm)", measure(lambda: time_to_banner(run_cmd), args.runs), None))

    ref_med = statistics.median(ref)
    width = max(len(label) for label, _, _ in rows)
    print(f"\nQEMU start -> 'Tyn ' banner, {args.runs} runs each ({image.name}, "
          f"{os.cpu_count()} CPUs, {qemu.QEMU_BINARY})")
    print(f"{'configuration':{width}}  {'median':>8} {'min':>8} {'max':>8}  {'x ref':>6}  {'exit med':>8}")
    for label, samples, exits in rows:
        med = statistics.median(samples)
        ex = f"{statistics.median(exits) * 1e3:6.1f}ms" if exits else f"{'-':>8}"
        print(f"{label:{width}}  {med * 1e3:6.1f}ms {min(samples) * 1e3:6.1f}ms "
              f"{max(samples) * 1e3:6.1f}ms  {med / ref_med:6.1f}  {ex}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
