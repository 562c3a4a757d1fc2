"""Boot reliability: boot the OTP 27 hello image N times in a row and tally the outcomes.

    python bench/reliability.py [--count 100] [--accel tcg|kvm] [--timeout 120] [--image IMG]
                                [--logs DIR] [--smp 1,2,4]

Each boot uses tyn.run's exact QEMU command (spawned directly, see bench/beam.py) and
succeeds when the console shows "Hello from OTP 27 on Tyn!" and the guest exits with
status 0.  Prints: N ok / N, the failures classified by how they failed (timeout with
or without the hello, kernel panic, no guest status e.g. a triple fault, KVM internal
error, wrong exit status, exit without the hello), the failing run numbers, and the
boot time (QEMU start -> hello) median/min/max of the good boots, with the accelerator.
--smp takes a list of CPU counts: the boots go round it (run n uses the n-th count,
cyclically), and the tally is printed per CPU count with its slowest boot (300 boots over
--smp 1,2,4 is issue 10's acceptance run).
--logs DIR keeps the whole console of every failed boot as DIR/run-<n>.log.  Exit status
0 when every boot succeeded, 1 otherwise.  Not a test (tests/test_reliability.py is).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beam  # noqa: E402
from beam import REPO, qemu  # noqa: E402
from tyn.run import GUEST_STUCK_MARKERS  # noqa: E402


def classify(b: beam.Boot) -> str:
    """How a boot failed (or 'ok')."""
    err = b.stderr.decode(errors="replace")
    if any(m.decode() in err for m in GUEST_STUCK_MARKERS):
        return "KVM internal error"
    if b.returncode is None:
        return "timeout after the hello" if b.hello_s is not None else "timeout before the hello"
    out = qemu.interpret_exit(b.returncode, b.console, qemu_stderr=err)
    if out.status == qemu.GUEST_STATUS_PANIC:
        return "kernel panic"
    if out.guest_status is None:
        return "no guest status (" + (out.error or "?") + ")"
    if out.status != 0:
        return f"exit status {out.status}"
    if b.hello_s is None:
        return "exit 0 without the hello"
    return "ok"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100, help="boots (default 100)")
    ap.add_argument("--accel", choices=["tcg", "kvm"], default="tcg")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per boot (default 120)")
    ap.add_argument("--image", type=Path, help="boot this image instead of building the hello image")
    ap.add_argument("--logs", type=Path, help="write each failed boot's console here")
    ap.add_argument("--smp", default="1", help="CPU counts, comma-separated, used in turn (default 1)")
    args = ap.parse_args(argv)
    try:
        smps = [int(x) for x in args.smp.split(",")]
        if not smps or min(smps) < 1:
            raise ValueError
    except ValueError:
        print(f"--smp: expected CPU counts like 1,2,4, got {args.smp!r}", file=sys.stderr)
        return 2
    if args.accel == "kvm":
        ok, why = qemu.kvm_status()
        if not ok:
            print(f"kvm is not usable here: {why}", file=sys.stderr)
            return 2
    image = args.image
    if image is None:
        image = REPO / "build" / "bench-reliability.img"
        beam.build_image(image)
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)

    kinds: collections.Counter[str] = collections.Counter()
    failed_runs: dict[str, list[int]] = collections.defaultdict(list)
    times: list[float] = []
    per_smp: dict[int, collections.Counter[str]] = {n: collections.Counter() for n in smps}
    slowest: dict[int, tuple[float, int]] = {}
    began = time.monotonic()
    for i in range(1, args.count + 1):
        smp = smps[(i - 1) % len(smps)]
        b = beam.boot_once(image, args.accel, args.timeout, smp=smp)
        kind = classify(b)
        kinds[kind] += 1
        per_smp[smp][kind] += 1
        if kind == "ok":
            times.append(b.hello_s)
            if smp not in slowest or b.hello_s > slowest[smp][0]:
                slowest[smp] = (b.hello_s, i)
        else:
            failed_runs[kind].append(i)
            if args.logs:
                (args.logs / f"run-{i}.log").write_bytes(b.console + b"\n--- stderr ---\n" + b.stderr)
        print(f"  run {i}/{args.count} (--smp {smp}): {kind}" + (f" ({b.hello_s * 1000:.0f} ms)" if kind == "ok" else ""),
              file=sys.stderr, flush=True)

    ok = kinds.pop("ok", 0)
    print(f"{image.name} under {args.accel}: {ok} ok / {args.count} "
          f"({time.monotonic() - began:.0f} s wall, timeout {args.timeout:g} s per boot)")
    for kind, n in kinds.most_common():
        print(f"  {n:4} {kind}: runs {', '.join(map(str, failed_runs[kind]))}")
    if times:
        print(f"  boot time (QEMU start -> hello, {args.accel}, {len(times)} good boots): "
              f"median {statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms, "
              f"max {max(times) * 1000:.1f} ms")
    if len(smps) > 1 or smps != [1]:
        for n in smps:
            c = per_smp[n]
            total = sum(c.values())
            bad = ", ".join(f"{v} {k}" for k, v in c.items() if k != "ok")
            slow = f"; slowest boot {slowest[n][0] * 1000:.0f} ms (run {slowest[n][1]})" if n in slowest else ""
            print(f"  --smp {n}: {c['ok']} ok / {total}" + (f" ({bad})" if bad else "") + slow)
    return 0 if ok == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
