"""Malformed and mutated frames into a booted kernel over a dgram link (tests/guest_fuzz.py).

    python bench/guest_fuzz.py [--frames 10000] [--seed 1] [--sync-every 100]

Boots the tcp_ctl image (tests/erlang/tcp_ctl.erl) under TCG with a static address, opens a
listener and an established connection (data in flight) for the fuzz to hit, sends the frames (pinging every --sync-every, so none is lost
on the host), then checks the guest still answers ping and serves a new TCP connection with
data both ways.  Prints counts and the rate.  Not a test (tests/test_net_guest_fuzz.py is).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import guest_fuzz  # noqa: E402
from guest_tcp_support import GuestVM, build_ctl_image  # noqa: E402
from tcp_target import GuestTarget, passive_open, ping  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sync-every", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        g = GuestVM(build_ctl_image(Path(d))).ensure()
        try:
            t = GuestTarget(g.vm, g.link, g.console)
            port = t.port()
            t.listen(port, 4)
            victim = passive_open(t)
            t.app_send(victim.app, 2000)
            start = time.monotonic()
            stats = guest_fuzz.run(g.link, args.seed, args.frames, port, args.sync_every,
                                   conn=(victim.sport, victim.dport, victim.snd, victim.rcv))
            took = time.monotonic() - start
            alive = ping(g.link, 4242)
            c = passive_open(t)
            c.send("PA", b"still there?")
            t.segments()
            served = t.recv(c.app, 0, 5) == b"still there?"
        finally:
            g.stop()
    print(f"guest fuzz (TCG, dgram link): seed {args.seed}: {stats['frames']} frames in {took:.1f} s "
          f"({stats['frames'] / took:.0f}/s), {stats['pings']} pings answered, guest sent "
          f"{stats['tcp_replies']} TCP segments and {stats['arp_requests']} ARP requests for the tester; "
          f"afterwards ping {'ok' if alive else 'FAILED'}, TCP {'ok' if served else 'FAILED'}")
    return 0 if alive and served else 1


if __name__ == "__main__":
    sys.exit(main())
