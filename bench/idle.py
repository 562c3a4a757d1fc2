"""Host CPU of an idle booted VM at --smp N: idle CPUs must HLT, not spin.

    python bench/idle.py [--seconds 10] [--smp 4] [--machine microvm|pc|q35|all] [--accel tcg|kvm]
                         [--beam]

Boots the selftest kernel with selftest=netreflect (the boot CPU idles in `hlt` once its NIC
is up; the APs idle in `sti; hlt` after bring-up), waits for its ready line, and reads the
QEMU process's utime+stime (/proc/PID/stat) over the window.  Prints CPU % of one host core
per row, beside the same machine at --smp 1.  --beam boots a BEAM instead (one scheduler per
CPU; the program says it is ready, then sleeps), so the figure includes ERTS's idle
schedulers on every CPU.  Not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))
import harness  # noqa: E402
from idle_net import cpu_seconds, qemu_pid  # noqa: E402
from tyn import qemu  # noqa: E402


BEAM_READY = "idle-bench-ready"
BEAM_EVAL = f'io:format("{BEAM_READY}~n"), timer:sleep(600000), halt().'


def measure(image: Path, accel: str, machine: str, cpus: int, seconds: float,
            beam: bool = False) -> tuple[float, str]:
    with harness.boot(image, accel=accel, machine=machine, append=None if beam else "selftest=netreflect",
                      timeout=300, args=["--smp", str(cpus), "--net", "user"]) as vm:
        line = vm.expect(harness_smp_line())
        vm.expect(BEAM_READY if beam else "ready")
        pid = qemu_pid(vm)
        time.sleep(1)                                       # let boot-time work settle
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        return 100.0 * (c1 - c0) / (t1 - t0), line.strip()


def harness_smp_line():
    import re
    return re.compile(r"tyn: smp: \d+ CPUs?[^\r\n]*\r?\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--smp", type=int, default=4)
    ap.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")
    ap.add_argument("--machine", choices=(*qemu.MACHINES, "all"), default="microvm")
    ap.add_argument("--beam", action="store_true", help="an idle BEAM instead of the selftest kernel")
    args = ap.parse_args()
    if args.beam:
        import subprocess
        image = REPO / "build" / "bench" / "idle-beam.img"
        image.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "tyn.build", "image", "--eval", BEAM_EVAL, "-o", str(image)],
                       cwd=REPO, check=True, capture_output=True)
        what = "an idle BEAM"
    else:
        image = REPO / "build" / "bench" / "tyn-selftest.elf"
        image.parent.mkdir(parents=True, exist_ok=True)
        from tyn.build import bootimage
        elf = harness.build_kernel(REPO / "build" / "bench", selftest=True)
        bootimage.write_boot_image(elf, None, image)
        what = "selftest=netreflect"
    machines = list(qemu.MACHINES) if args.machine == "all" else [args.machine]
    print(f"idle VM ({what}), QEMU process CPU over {args.seconds:g} s, {args.accel}")
    for machine in machines:
        for cpus in sorted({1, args.smp}):
            pct, line = measure(image, args.accel, machine, cpus, args.seconds, args.beam)
            print(f"{machine:<8} --smp {cpus:<2} {pct:6.2f} % of one host core   ({line})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
