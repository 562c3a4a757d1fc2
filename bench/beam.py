"""BEAM boot benchmark: the OTP 27 hello image on Tyn beside the same image on Linux.

    python bench/beam.py [--runs 10] [--accel tcg|kvm|all] [--timeout 300]

Builds (or reuses) `tyn.build image --eval 'io:format("Hello from OTP 27 on Tyn!~n"),
halt().'` with the current kernel, then for each accelerator boots it --runs times with
the exact QEMU command `tyn.run` uses (spawned directly, so the clock starts when QEMU
does) and reports the median/min/max of
  QEMU start -> hello           QEMU process start to the "Hello from OTP 27" line
  kernel entry -> first syscall kernel entry to init's first system call (the kernel's own
                                report, in TSC time)
The reference row in the same invocation is `python -m tyn.hostrun` of the same image:
the same beam.smp and files on the host's Linux, start to exit.  "x ref" is each median
over the hostrun median.  Beside each accelerator's Tyn row, the Linux baseline
(bench/linux_guest.py: Debian's 6.1 cloud kernel + a busybox initramfs holding the same
image's rootfs, on the same QEMU command line) boots the same image --runs times, QEMU start
-> hello, and "Tyn / Linux" is the ratio of the medians (--no-linux leaves it out; under a
PVM /dev/kvm it is skipped: Linux is unusably slow there).  Every row names its accelerator; an accelerator that cannot
run here is reported and skipped.  A failed boot is counted and shown, not fatal.
Not a test.
"""

from __future__ import annotations

import argparse
import os
import re
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

sys.path.insert(0, str(REPO / "bench"))
import linux_guest  # noqa: E402

PY = sys.executable
HELLO = b"Hello from OTP 27 on Tyn!"
FIRST_CALL = re.compile(rb"tyn: first system call (\d+) us after kernel entry")
EVAL = 'io:format("Hello from OTP 27 on Tyn!~n"), halt().'


def build_image(out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([PY, "-m", "tyn.build", "image", "--eval", EVAL, "-o", str(out)], cwd=REPO,
                   check=True, capture_output=True)


@dataclass
class Boot:
    """One boot: timings (None when not reached), QEMU's status and the whole console."""
    hello_s: float | None
    first_call_ms: float | None
    returncode: int | None          # None: killed at the timeout
    console: bytes
    stderr: bytes
    linux: bool = False             # the Linux baseline: its status is a console line

    @property
    def ok(self) -> bool:
        if self.linux:
            return self.hello_s is not None and self.returncode == 0 and \
                linux_guest.exit_status(self.console) == 0
        return self.hello_s is not None and self.returncode is not None and \
            qemu.interpret_exit(self.returncode, self.console, qemu_stderr=self.stderr.decode(
                errors="replace")).status == 0


def boot_once(image: Path, accel: str, timeout: float, linux: linux_guest.Guest | None = None,
              smp: int = 1) -> Boot:
    """Boot `image` with tyn.run's QEMU command (or the Linux baseline's, same machine) until
    QEMU exits (or `timeout`)."""
    cmd = linux_guest.command(linux, accel=accel) if linux else qemu.command(qemu.Config(image=image, accel=accel, smp=smp))
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO)
    seen, hello_at = b"", None
    try:
        while True:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                break
            ready, _, _ = select.select([proc.stdout], [], [], left)
            if not ready:
                break
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
            if hello_at is None and HELLO in seen:
                hello_at = time.monotonic() - start
        try:
            proc.wait(timeout=max(0.1, timeout - (time.monotonic() - start)))
        except subprocess.TimeoutExpired:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            rc = None
        else:
            rc = proc.returncode
    err = proc.stderr.read()
    m = FIRST_CALL.search(seen)
    return Boot(hello_at, int(m.group(1)) / 1000 if m else None, rc, seen, err, linux is not None)


def hostrun_once(image: Path) -> float:
    start = time.monotonic()
    r = subprocess.run([PY, "-m", "tyn.hostrun", str(image)], cwd=REPO, capture_output=True)
    if HELLO not in r.stdout:
        raise RuntimeError(f"hostrun printed no hello: {r.stderr[-1000:]!r}")
    return time.monotonic() - start


def row(name: str, values: list[float], ref: float | None, unit: str = "ms", scale: float = 1000,
        is_reference: bool = False, runs: int | None = None) -> str:
    med = statistics.median(values)
    ratio = "   ref " if is_reference else (f"{med / ref:6.1f}x" if ref else "     - ")
    count = f"{len(values)} runs" if runs is None or runs == len(values) else f"{len(values)} of {runs} runs"
    return (f"{name:<40} {med * scale:10.1f} {min(values) * scale:10.1f} {max(values) * scale:10.1f}"
            f"  {ratio}  ({count}, {unit})")


def usable_accels(requested: str) -> list[str]:
    accels = ["tcg", "kvm"] if requested == "all" else [requested]
    if "kvm" in accels:
        ok, why = qemu.kvm_status()
        if not ok:
            print(f"kvm: skipped ({why})")
            accels.remove("kvm")
    return accels


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--accel", choices=["tcg", "kvm", "all"], default="all")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per boot")
    ap.add_argument("--image", type=Path, help="boot this image instead of building the hello image")
    ap.add_argument("--no-linux", dest="linux", action="store_false", help="leave out the Linux-guest rows")
    args = ap.parse_args()
    image = args.image
    if image is None:
        image = REPO / "build" / "bench-beam.img"
        build_image(image)
    accels = usable_accels(args.accel)
    host = [hostrun_once(image) for _ in range(args.runs)]
    ref = statistics.median(host)
    print(f"{image.name}, {args.runs} runs each, {os.cpu_count()} host CPUs; "
          f"accelerators: {', '.join(accels) or 'none'}")
    print(f"{'':<40} {'median':>10} {'min':>10} {'max':>10}  x ref")
    print(row("hostrun (Linux) start -> exit", host, None, is_reference=True), flush=True)
    linux = None
    if args.linux:
        try:
            linux = linux_guest.prepare(image, log=lambda _msg: None)
            print(f"Linux guest: {linux.kernel.package} {linux.kernel.version}")
        except linux_guest.LinuxGuestError as e:
            print(f"Linux guest: unavailable ({e})")
    for accel in accels:
        hello, first, failed = boots(image, accel, args, None)
        if hello:
            print(row(f"{accel}: QEMU start -> hello", hello, ref, runs=args.runs))
        if first:
            print(row(f"{accel}: kernel entry -> first syscall", first, None, runs=args.runs))
        report_failures(f"{accel}", failed, args.runs)
        sys.stdout.flush()
        if linux is None:
            continue
        if accel == "kvm" and qemu.kvm_is_pvm():
            print(f"{accel}: Linux guest skipped (/dev/kvm is PVM: a Linux guest is unusably slow there)")
            continue
        base, _, failed = boots(image, accel, args, linux)
        if base:
            print(row(f"{accel}: Linux guest, QEMU start -> hello", base, ref, runs=args.runs))
        report_failures(f"{accel}: Linux guest", failed, args.runs)
        if hello and base:
            print(f"{accel}: Tyn / Linux guest (QEMU start -> hello, medians): "
                  f"{statistics.median(hello) / statistics.median(base):.2f}x")
        sys.stdout.flush()
    return 0


def boots(image: Path, accel: str, args, linux: linux_guest.Guest | None):
    """--runs boots: (hello times, first-syscall times, failed run numbers)."""
    hello, first, failed = [], [], []
    for i in range(args.runs):
        b = boot_once(image, accel, args.timeout, linux)
        if b.ok:
            hello.append(b.hello_s)
        else:
            failed.append(i + 1)
            tail = b.console[-1500:].decode(errors="replace")
            print(f"{accel}{' Linux guest' if linux else ''}: run {i + 1} failed (QEMU status "
                  f"{b.returncode}); console tail:\n{tail}", file=sys.stderr)
        if b.first_call_ms is not None:
            first.append(b.first_call_ms / 1000)
    return hello, first, failed


def report_failures(what: str, failed: list[int], runs: int) -> None:
    if failed:
        print(f"{what}: {len(failed)} of {runs} boots failed (runs {', '.join(map(str, failed))})")


if __name__ == "__main__":
    sys.exit(main())
