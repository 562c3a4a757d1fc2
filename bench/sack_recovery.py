"""Loss recovery with SACK (RFC 6675) beside NewReno (RFC 6582), on the host build of the stack.

    python bench/sack_recovery.py [--runs 5] [--bytes 400000] [--loss 0.03] [--rtt-ms 40]

The stack under test (tcp_twin, simulated clock) sends --bytes to a receiver modelled here
(cumulative ACK per segment; SACK blocks as RFC 2018 §4 orders them when SACK is agreed)
across a link with --rtt-ms of round trip that drops each data segment with probability
--loss (the same seeded losses for both runs of a seed).  For each of --runs seeds it runs
the transfer with the `sack` tunable on and off and prints the medians of: simulated
completion time, bytes retransmitted, retransmission timeouts, and SACK recoveries, with
the ratio SACK / NewReno.  No accelerator: the host build with a simulated clock (the times
are protocol time, not CPU time).  Not a test.
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from scapy.layers.inet import IP, TCP  # noqa: E402

from tcp_harness import LOCAL, MS, PEER, Stack, ip  # noqa: E402
from tyn.twins import tcp_twin as tw  # noqa: E402

PORT, SPORT = 80, 40000
MSS = 1460
GIVE_UP_NS = 600_000 * MS           # simulated; a stuck transfer ends the run


class Receiver:
    """The peer: in-order delivery, an ACK per segment, SACK blocks newest first."""

    def __init__(self, rcv_nxt: int, sack: bool):
        self.rcv_nxt, self.sack = rcv_nxt, sack
        self.held: list[list[int]] = []        # out-of-order [left, right), sorted
        self.recent: list[int] = []            # a byte in each recently reported block

    def segment(self, seq: int, n: int) -> None:
        before = self.rcv_nxt
        if seq + n <= before:
            return
        merged: list[list[int]] = []
        for lo, hi in sorted(self.held + [[max(seq, before), seq + n]]):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        if merged[0][0] <= before:
            self.rcv_nxt = merged.pop(0)[1]
        self.held = merged
        if seq > before and seq >= self.rcv_nxt:
            self.recent.insert(0, seq)                 # its block goes first

    def blocks(self) -> list[tuple[int, int]]:
        out = []
        for b in self.recent:
            for lo, hi in self.held:
                if lo <= b < hi and (lo, hi) not in out:
                    out.append((lo, hi))
        self.recent = [hi - 1 for _, hi in out][:4]
        return out[:4] if self.sack else []


def transfer(total: int, loss: float, rtt_ns: int, seed: int, sack: bool) -> dict[str, float]:
    Stack()
    tw.set_tunable("sack", 1 if sack else 0)
    l = tw.new()
    tw.bind(l, 0, PORT)
    tw.listen(l, 8)
    syn_opts = [("MSS", MSS), ("SAckOK", b"")]
    tw.input(ip(PEER), ip(LOCAL), tcp_bytes(TCP(sport=SPORT, dport=PORT, flags="S", seq=1, window=65535,
                                                options=syn_opts)))
    synack = TCP(tw.take_output()[0][3])
    tw.input(ip(PEER), ip(LOCAL), tcp_bytes(TCP(sport=SPORT, dport=PORT, flags="A", seq=2, ack=synack.seq + 1,
                                                window=65535)))
    pcb, _ = tw.accept(l)
    tw.set_nodelay(pcb, True)
    start_seq = synack.seq + 1
    rx = Receiver(start_seq, sack)
    rng = random.Random(seed)
    sent, t0, retrans, seen = 0, tw.now(), 0, set()
    events: list[tuple[int, int, str, tuple]] = []
    order = 0
    while rx.rcv_nxt - start_seq < total:
        if tw.now() - t0 > GIVE_UP_NS:
            raise SystemExit(f"bench/sack_recovery.py: seed {seed} did not finish in simulated {GIVE_UP_NS // MS} ms")
        if sent < total:
            n = tw.send(pcb, b"b" * min(65536, total - sent))
            sent += max(n, 0)
        for _, _, _, data in tw.take_output():
            seg = TCP(data)
            n = len(bytes(seg.payload))
            if n == 0:
                continue
            key = (seg.seq, n)
            if key in seen:
                retrans += n
            seen.add(key)
            # each transmission is lost or not on its own draw, repeatable per seed
            if rng.random() >= loss:
                order += 1
                heapq.heappush(events, (tw.now() + rtt_ns // 2, order, "data", (seg.seq, n)))
        if not events:
            d = tw.next_deadline()
            if not d:
                break
            tw.advance(d - tw.now())
            continue
        when, _, kind, arg = heapq.heappop(events)
        d = tw.next_deadline()
        if d and d < when:
            heapq.heappush(events, (when, 0, kind, arg))
            tw.advance(d - tw.now())
            continue
        tw.advance(max(0, when - tw.now()))
        if kind == "data":
            rx.segment(*arg)
            order += 1
            heapq.heappush(events, (tw.now() + rtt_ns // 2, order, "ack", (rx.rcv_nxt, tuple(rx.blocks()))))
        else:
            ack, blocks = arg
            opts = [("SAck", tuple(x for b in blocks for x in b))] if blocks else []
            tw.input(ip(PEER), ip(LOCAL), tcp_bytes(TCP(sport=SPORT, dport=PORT, flags="A", seq=2, ack=ack,
                                                        window=65535, options=opts)))
    st = tw.stats()
    return {"time_ms": (tw.now() - t0) / MS, "retransmitted_bytes": retrans, "rtos": st["retransmits"],
            "sack_recoveries": st["sack_recoveries"], "fast_retransmits": st["fast_retransmits"],
            "sack_bytes_not_resent": st["sack_bytes_not_resent"]}


def tcp_bytes(seg: TCP) -> bytes:
    raw = bytes(IP(src=PEER, dst=LOCAL) / seg)
    return raw[(raw[0] & 0xF) * 4:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bytes", type=int, default=400_000)
    ap.add_argument("--loss", type=float, default=0.03)
    ap.add_argument("--rtt-ms", type=int, default=40)
    args = ap.parse_args()
    if not 0 <= args.loss < 1 or args.runs < 1 or args.bytes < 1 or args.rtt_ms < 1:
        raise SystemExit("bench/sack_recovery.py: need --runs >= 1, --bytes >= 1, --rtt-ms >= 1, 0 <= --loss < 1")
    rows = {name: [transfer(args.bytes, args.loss, args.rtt_ms * MS, seed, name == "sack")
                   for seed in range(args.runs)] for name in ("newreno", "sack")}
    print(f"{args.bytes} bytes, loss {args.loss}, RTT {args.rtt_ms} ms, {args.runs} seeds; "
          "host build, simulated clock (no accelerator)")
    print(f"{'figure':22} {'newreno':>10} {'sack':>10} {'sack/newreno':>13}")
    for key in rows["sack"][0]:
        a = statistics.median(r[key] for r in rows["newreno"])
        b = statistics.median(r[key] for r in rows["sack"])
        ratio = f"{b / a:.2f}" if a else "-"
        print(f"{key:22} {a:10.1f} {b:10.1f} {ratio:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
