"""Host CPU of an idle VM whose NIC is up: the driver must not poll.

    python bench/idle_net.py [--seconds 10] [--accel tcg|kvm|all] [--machine microvm|pc|q35|all]

Boots the selftest kernel with selftest=netreflect (the virtio-net NIC up, receive buffers
posted, interrupts routed, then `hlt` until a frame arrives) on QEMU user networking, waits
for its ready line, and reads the QEMU process's utime+stime (/proc/PID/stat) over the
window.  Prints CPU % of one host core per row, naming machine and accelerator.  Not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import harness  # noqa: E402
from tyn import qemu  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS        # utime, stime


def qemu_pid(vm: harness.Boot) -> int:
    for pid in harness.child_pids(vm.pid):
        if "qemu-system" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            return pid
    raise SystemExit("bench/idle_net.py: no QEMU child of tyn.run found")


def measure(image: Path, accel: str, machine: str, net: str, seconds: float) -> float:
    with harness.boot(image, accel=accel, machine=machine, append="selftest=netreflect",
                      timeout=120, args=["--net", net]) as vm:
        vm.expect("ready")
        pid = qemu_pid(vm)
        time.sleep(1)                                       # let boot-time work settle
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        return 100.0 * (c1 - c0) / (t1 - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--accel", choices=("tcg", "kvm", "all"), default="tcg")
    ap.add_argument("--machine", choices=(*qemu.MACHINES, "all"), default="microvm")
    args = ap.parse_args()
    image = REPO / "build" / "bench" / "tyn-selftest.elf"
    image.parent.mkdir(parents=True, exist_ok=True)
    from tyn.build import bootimage
    elf = harness.build_kernel(REPO / "build" / "bench", selftest=True)
    bootimage.write_boot_image(elf, None, image)
    accels = ["tcg", "kvm"] if args.accel == "all" else [args.accel]
    machines = list(qemu.MACHINES) if args.machine == "all" else [args.machine]
    print(f"idle VM, NIC up (selftest=netreflect, --net user), QEMU process CPU over {args.seconds:g} s")
    for accel in accels:
        if accel == "kvm" and not qemu.kvm_status()[0]:
            print(f"{'kvm':>4}  skipped: {qemu.kvm_status()[1]}")
            continue
        for machine in machines:
            pct = measure(image, accel, machine, "user", args.seconds)
            print(f"{accel:>4}  {machine:<8} {pct:6.2f} % of one host core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
