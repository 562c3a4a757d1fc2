"""Why bench/net.py's user-net row can time out: connections through QEMU's hostfwd, one
at a time and 4 in parallel (as net_client's connections/s phase), timing each connect and
reading the host's TcpExtListenOverflows/ListenDrops/TcpRetransSegs around each phase.

    python bench/hostfwd_probe.py

Finding (TCG, 2026-12-03): serial connects never overflow; 4 in parallel overflow the
host-side listen queue of slirp's hostfwd socket (QEMU listens with a backlog of 1): each
overflow is a SYN the host kernel drops, and the client's retransmission comes 1 s later
(4 overflows, 4 retransmits, 4 connects of 1.04 s in 200).  The guest never sees those
SYNs.  Repeated drops of the same connect back off 1, 2, 4, 8, 16, 32 s: six in a row
exceed net_client's 60 s timeout, which a loaded host (slirp's thread slow to accept) makes
likely over hundreds of connects: the "timed out" rows.  Not a Tyn stack fault; the tap
path (no hostfwd) has no such loss."""
import subprocess, sys, time, socket, threading, json
from pathlib import Path
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench")); sys.path.insert(0, str(REPO / "tests"))
import net as bn
import harness

def nstat():
    out = subprocess.run(["nstat", "-az", "TcpExtListenOverflows", "TcpExtListenDrops", "TcpRetransSegs"],
                         capture_output=True, text=True).stdout
    return {l.split()[0]: int(l.split()[1]) for l in out.splitlines()[1:] if l.strip() and not l.startswith("#")}

image = bn.build_image(REPO / "build" / "bench" / "net.img")
echo, bulk = bn.free_port(), bn.free_port()
with harness.boot(image, accel="tcg", timeout=600, args=["-p", f"{echo}:{bn.ECHO_PORT}", "-p", f"{bulk}:{bn.BULK_PORT}"]) as vm:
    vm.expect(bn.READY)
    for parallel in (1, 4):
        before = nstat()
        durs, errors = [], []
        lock = threading.Lock()
        left = [200]
        def worker():
            while True:
                with lock:
                    if left[0] == 0: return
                    left[0] -= 1
                t0 = time.perf_counter()
                try:
                    with socket.create_connection(("127.0.0.1", echo), timeout=60) as s:
                        t1 = time.perf_counter()
                        s.recv(100)
                    durs.append((t1 - t0, time.perf_counter() - t1))
                except OSError as e:
                    errors.append(repr(e))
        ts = [threading.Thread(target=worker) for _ in range(parallel)]
        t0 = time.perf_counter()
        [t.start() for t in ts]; [t.join() for t in ts]
        el = time.perf_counter() - t0
        after = nstat()
        c = sorted(d[0] for d in durs); g = sorted(d[1] for d in durs)
        print(json.dumps({"parallel": parallel, "elapsed_s": round(el, 2), "errors": len(errors),
                          "connect_max_s": round(c[-1], 3), "connect_over_0.9s": sum(x > 0.9 for x in c),
                          "greeting_p50_ms": round(g[len(g)//2]*1e3, 2), "greeting_max_s": round(g[-1], 3),
                          "greeting_over_0.9s": sum(x > 0.9 for x in g),
                          "counters_delta": {k: after.get(k, 0) - before.get(k, 0) for k in after}}), flush=True)
