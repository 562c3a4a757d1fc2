"""One TCP tester, two stacks under test: the conformance cases of tcp-conformance.md written
once (tests/test_tcp_conformance.py) against a *target*:

  host   the host build of the stack (tcp_harness.Stack: tcp_input in, output captured,
         a simulated clock that the target advances while it "waits");
  guest  a booted kernel under QEMU (TCG), its NIC on a `-netdev dgram` socket of this
         process.  The tester sends scapy-built Ethernet frames, answers the guest's ARP
         requests for its addresses, and sorts the guest's TCP segments by the tester's
         port.  The application side is the BEAM: tests/erlang/tcp_ctl.erl runs gen_tcp
         commands typed on the console.  Time is real.

What a case can see is what a peer on the wire and an application can see: segments, and
the results of listen/accept/connect/send/recv/close.  Internal state is inferred from
behaviour (a probe segment outside the window is ACKed by a synchronized connection and
reset when there is none).

Waiting has one meaning on both targets: `one()`, `none()` and `segments()` let `quiet`
seconds pass with nothing more from S (the host advances its clock by that much, running
timers), so a case that is correct in real time is correct in both.
"""

from __future__ import annotations

import itertools
import queue
import re
import socket
import threading
import time
from dataclasses import dataclass

import pexpect
from scapy.layers.inet import ICMP, IP, TCP, in4_chksum
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

LOCAL = "10.0.2.15"              # S
PEER = "10.0.2.2"                # T
PREFIX = 24
GUEST_MAC = "52:54:00:ab:cd:ef"
TESTER_MAC = "02:00:00:00:00:01"
QUIET = 0.3                      # seconds of silence that end a wait (> TCP_DELACK_MS = 40 ms)
REPLY_WITHIN = 5.0               # a reply S owes at once, under TCG on a loaded host: a liveness bound
SOCKET_BUFFER = 8 << 20
ETH_P_IP, ETH_P_ARP = 0x0800, 0x0806
ARPOP_REQUEST = 1
IPPROTO_ICMP, IPPROTO_TCP = 1, 6
MSS_DEFAULT = 536                # RFC 9293 MUST-15: without an MSS option
SEC_NS = 1_000_000_000


def pattern(n: int) -> bytes:
    """What tcp_ctl's `send NAME N` sends: byte i is i mod 256."""
    return bytes(i % 256 for i in range(n))


def flags_of(seg: TCP) -> str:
    return "".join(sorted(str(seg.flags)))


def F(s: str) -> str:
    return "".join(sorted(s))


def payload(seg: TCP) -> bytes:
    return bytes(seg.payload)


def opt(seg: TCP, name: str):
    for k, v in seg.options:
        if k == name:
            return v
    return None


def summary(seg: TCP) -> str:
    return (f"{flags_of(seg)} {seg.sport}->{seg.dport} seq={seg.seq} ack={seg.ack} win={seg.window} "
            f"len={len(payload(seg))}")


def check_from_s(ip_pkt: IP) -> TCP:
    """A segment S sent, checked as the host harness does: checksum under the pseudo-header
    right, reserved bits zero.  The segment gets .t (arrival, seconds)."""
    whole = bytes(ip_pkt)
    raw = whole[(whole[0] & 0xF) * 4:ip_pkt.len]      # without the Ethernet padding
    seg = TCP(raw)
    zeroed = bytearray(raw)
    zeroed[16:18] = b"\0\0"
    assert in4_chksum(IPPROTO_TCP, ip_pkt, bytes(zeroed)) == seg.chksum, "bad checksum from S"
    assert raw[12] & 0x0F == 0, "reserved bits set by S"
    return seg


# =============================================================== the common interface

class Target:
    """What every case uses.  Subclasses: HostTarget, GuestTarget."""

    name = "?"
    _ports = itertools.count(20000)

    # ---- ports: every case takes fresh ones, so leftovers of other cases never mix in
    def port(self) -> int:
        p = next(Target._ports)
        self._mine.add(p)
        return p

    # ---- frames to S
    def send(self, seg: TCP, src: str = PEER, corrupt_checksum: bool = False) -> None:
        raw_ip = bytes(IP(src=src, dst=LOCAL) / seg)
        tcp_bytes = raw_ip[(raw_ip[0] & 0xF) * 4:]
        if corrupt_checksum:
            b = bytearray(tcp_bytes)
            b[16] ^= 0x5A
            tcp_bytes = bytes(b)
        self.send_raw(tcp_bytes, src)

    def send_raw(self, tcp_bytes: bytes, src: str = PEER) -> None:
        raise NotImplementedError

    # ---- segments from S (to this case's ports)
    def next(self, within: float = REPLY_WITHIN) -> TCP | None:
        """The next segment S sends, waiting up to `within` seconds; None if none came."""
        raise NotImplementedError

    def segments(self, quiet: float = QUIET) -> list[TCP]:
        """Everything S sends until it has been silent for `quiet` seconds."""
        out = []
        while (s := self.next(quiet)) is not None:
            out.append(s)
        return out

    def one(self, within: float = REPLY_WITHIN, quiet: float = QUIET) -> TCP:
        first = self.next(within)
        assert first is not None, f"expected a segment from S within {within}s, got none"
        rest = self.segments(quiet)
        assert rest == [], f"expected one segment, got {[summary(s) for s in [first] + rest]}"
        return first

    def none(self, quiet: float = QUIET) -> None:
        segs = self.segments(quiet)
        assert segs == [], f"expected silence, got {[summary(s) for s in segs]}"

    def wait(self, seconds: float) -> list[TCP]:
        """Let `seconds` pass; returns what S sent meanwhile."""
        raise NotImplementedError

    def now(self) -> float:
        raise NotImplementedError

    # ---- the application (all return strings as tcp_ctl prints them, or bytes for recv)
    def listen(self, port: int, backlog: int = 8):
        raise NotImplementedError

    def accept(self, listener):
        """An accepted connection's handle, or raises AssertionError."""
        raise NotImplementedError

    def connect(self, port: int, addr: str = PEER):
        """Start connecting; returns a handle for connect_result."""
        raise NotImplementedError

    def connect_result(self, handle, within: float = REPLY_WITHIN) -> str:
        """'ok' once established, 'error REASON' when it failed, 'pending' when still going."""
        raise NotImplementedError

    def app_send(self, conn, n: int) -> None:
        raise NotImplementedError

    def recv(self, conn, n: int = 0, timeout: float = 0.2):
        """bytes, or one of 'timeout', 'closed', 'econnreset'."""
        raise NotImplementedError

    def close(self, conn) -> None:
        raise NotImplementedError

    def shutdown_write(self, conn) -> None:
        raise NotImplementedError

    def nodelay(self, conn) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """End of a case (the guest VM lives on: what S still sends to this case's ports,
        retransmissions of connections left open, is dropped from then on)."""


# =============================================================== host

class HostTarget(Target):
    name = "host"

    def __init__(self):
        from tcp_harness import Stack, tw
        self.stack = Stack()
        self.tw = tw
        self._mine = set()
        self._pending: list[TCP] = []

    def send_raw(self, tcp_bytes, src=PEER):
        from tcp_harness import ip
        self.tw.input(ip(src), ip(LOCAL), tcp_bytes)

    def _collect(self) -> None:
        t = self.now()
        for s in self.stack.output():
            s.t = t
            self._pending.append(s)

    def _advance_until(self, end_ns: int, stop_on_output: bool) -> None:
        tw = self.tw
        self._collect()
        while not (stop_on_output and self._pending) and tw.now() < end_ns:
            d = tw.next_deadline()
            now = tw.now()
            step = end_ns - now if d == 0 or d > end_ns else max(d - now, 1)
            tw.advance(step)
            self._collect()

    def next(self, within=REPLY_WITHIN):
        self._advance_until(self.tw.now() + int(within * SEC_NS), stop_on_output=True)
        return self._pending.pop(0) if self._pending else None

    def wait(self, seconds):
        self._advance_until(self.tw.now() + int(seconds * SEC_NS), stop_on_output=False)
        out, self._pending = self._pending, []
        return out

    def now(self):
        return self.tw.now() / SEC_NS

    def listen(self, port, backlog=8):
        return self.stack.listener(port, backlog=backlog)

    def accept(self, listener):
        c, err = self.tw.accept(listener)
        assert err == 0 and c, f"accept: {err}"
        return c

    def connect(self, port, addr=PEER):
        from tcp_harness import ip
        p = self.tw.new()
        assert self.tw.connect(p, ip(addr), port) == -115
        return p

    def connect_result(self, handle, within=REPLY_WITHIN):
        tw = self.tw
        if tw.state(handle) == tw.ESTABLISHED:
            return "ok"
        err = tw.sock_error(handle)
        names = {110: "timeout", 111: "econnrefused", 104: "econnreset"}
        return f"error {names.get(err, err)}" if err else "pending"

    def app_send(self, conn, n):
        assert self.tw.send(conn, pattern(n)) == n

    def recv(self, conn, n=0, timeout=0.2):
        r = self.tw.recv(conn, n or (1 << 20))
        if isinstance(r, bytes):
            return r if r else "closed"
        return {-11: "timeout", -104: "econnreset"}.get(r, f"errno {r}")

    def close(self, conn):
        self.tw.close(conn)

    def shutdown_write(self, conn):
        assert self.tw.shutdown(conn, self.tw.SHUT_WR_) == 0

    def nodelay(self, conn):
        self.tw.set_nodelay(conn, True)


# =============================================================== guest

class Link:
    """The tester's end of the guest NIC's dgram backend: one Ethernet frame per UDP
    datagram on 127.0.0.1.  A reader thread answers ARP for the tester's addresses at once
    and files the guest's TCP segments by destination port, ICMP apart; the rest (and
    anything not for the tester) is counted and dropped."""

    def __init__(self, tester_addrs=(PEER,)):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for opt_, force in ((socket.SO_RCVBUF, 33), (socket.SO_SNDBUF, 32)):   # SO_*BUFFORCE as root
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, force, SOCKET_BUFFER)
            except OSError:
                self.sock.setsockopt(socket.SOL_SOCKET, opt_, SOCKET_BUFFER)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.qemu_port = s.getsockname()[1]
        self.tester_addrs = set(tester_addrs)
        self.lock = threading.Lock()
        self.tcp: dict[int, queue.Queue] = {}
        self.ignored: set[int] = set()
        self.icmp: queue.Queue = queue.Queue()
        self.arp_replies: queue.Queue = queue.Queue()
        self.arp_requests = 0
        self.tcp_in = 0
        self.other = 0
        self.frames_in = 0
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def queue_for(self, port: int) -> queue.Queue:
        with self.lock:
            return self.tcp.setdefault(port, queue.Queue())

    def ignore_ports(self, ports) -> None:
        """Segments to these ports are counted, never kept."""
        with self.lock:
            self.ignored |= set(ports)
            for p in ports:
                self.tcp.pop(p, None)

    def forget_tcp(self) -> None:
        """Drop every segment filed so far (a fuzz run's replies)."""
        with self.lock:
            self.tcp = {}

    def send_frame(self, frame: bytes) -> None:
        self.sock.sendto(frame, ("127.0.0.1", self.qemu_port))

    def send_ip(self, ip_bytes: bytes) -> None:
        self.send_frame(bytes(Ether(dst=GUEST_MAC, src=TESTER_MAC, type=ETH_P_IP)) + ip_bytes)

    def _read(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            t = time.monotonic()
            self.frames_in += 1
            try:
                self._dispatch(Ether(data), t)
            except Exception:                   # a frame scapy cannot take apart
                self.other += 1

    def _dispatch(self, eth: Ether, t: float) -> None:
        if eth.type == ETH_P_ARP and ARP in eth:
            a = eth[ARP]
            if a.op != ARPOP_REQUEST:
                self.arp_replies.put(eth)
                return
            if a.op == ARPOP_REQUEST and a.pdst in self.tester_addrs:
                self.arp_requests += 1
                reply = Ether(dst=eth.src, src=TESTER_MAC) / ARP(
                    op=2, hwsrc=TESTER_MAC, psrc=a.pdst, hwdst=a.hwsrc, pdst=a.psrc)
                self.send_frame(bytes(reply))
            return
        if eth.type == ETH_P_IP and IP in eth and eth[IP].dst in self.tester_addrs:
            pkt = eth[IP]
            if pkt.proto == IPPROTO_TCP and TCP in pkt:
                pkt.t = t
                self.tcp_in += 1
                if pkt[TCP].dport not in self.ignored:
                    self.queue_for(pkt[TCP].dport).put(pkt)
                return
            if pkt.proto == IPPROTO_ICMP:
                self.icmp.put(pkt)
                return
        self.other += 1

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()


class Console:
    """tcp_ctl's console: `TAG COMMAND ...` typed, `=TAG RESULT` lines read back.  Replies
    come in any order (blocking commands answer from their own process), so they are
    looked up in the whole log, never consumed by pexpect's matching."""

    def __init__(self, vm):
        self.vm = vm
        self.tags = itertools.count(1)

    def start(self, command: str) -> str:
        tag = f"q{next(self.tags)}"
        self.vm.send(f"{tag} {command}\n")
        return tag

    def poll(self, tag: str) -> str | None:
        self._pump(0)
        # A reply is written whole, but the console's tty echoes typed commands, so the
        # rest of an echo may come before it on the same line: "=TAG " starts a reply anywhere.
        m = re.search(rf"={tag} ([^\n]*?)\r?\n", self.vm.log)
        return m.group(1) if m else None

    def result(self, tag: str, within: float = REPLY_WITHIN * 2) -> str:
        deadline = time.monotonic() + within
        while True:
            r = self.poll(tag)
            if r is not None:
                return r
            if time.monotonic() > deadline:
                raise self.vm.fail(f"no answer to {tag} within {within}s")
            self._pump(0.05)

    def run(self, command: str, within: float = REPLY_WITHIN * 2) -> str:
        return self.result(self.start(command), within)

    def _pump(self, timeout: float) -> None:
        try:
            while True:
                self.vm.child.read_nonblocking(65536, timeout)
                timeout = 0
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            raise self.vm.fail("the guest stopped") from None


@dataclass
class GuestConn:
    name: str
    peer_port: int | None = None


class GuestTarget(Target):
    name = "guest"
    _names = itertools.count(1)

    def __init__(self, vm, link: Link, console: Console, backend: str = "inet"):
        self.vm, self.link, self.console = vm, link, console
        self.backend = backend
        self._mine = set()
        self._held: list[TCP] = []

    def send_raw(self, tcp_bytes, src=PEER):
        self.link.send_ip(bytes(IP(src=src, dst=LOCAL, proto=IPPROTO_TCP) / Raw(tcp_bytes)))

    def _earliest(self) -> IP | None:
        """The first-arrived segment to any of this case's ports, taken off its queue."""
        best = None
        for p in self._mine:
            q = self.link.queue_for(p)
            with q.mutex:
                if q.queue and (best is None or q.queue[0].t < best[1].queue[0].t):
                    best = (p, q)
        return best[1].get_nowait() if best else None

    def next(self, within=REPLY_WITHIN):
        deadline = time.monotonic() + within
        while True:
            pkt = self._earliest()
            if pkt is not None:
                assert pkt.src == LOCAL, pkt.summary()
                seg = check_from_s(pkt)
                seg.t = pkt.t
                return seg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(0.01, left))

    def wait(self, seconds):
        end = time.monotonic() + seconds
        out = []
        while (left := end - time.monotonic()) > 0:
            s = self.next(left)
            if s is not None:
                out.append(s)
        return out

    def now(self):
        return time.monotonic()

    def _name(self) -> str:
        return f"s{next(GuestTarget._names)}"

    def _backend(self) -> str:
        return " socket" if self.backend == "socket" else ""

    def listen(self, port, backlog=8):
        name = self._name()
        r = self.console.run(f"listen {name} {port} {backlog}{self._backend()}")
        assert r == "ok", r
        return name

    def accept(self, listener):
        name = self._name()
        r = self.console.run(f"accept {listener} {name} 3000")
        assert r.startswith("ok "), r
        return GuestConn(name, int(r.split()[1]))

    def connect(self, port, addr=PEER):
        name = self._name()
        tag = self.console.start(f"connect {name} {addr} {port} 60000{self._backend()}")
        return (tag, GuestConn(name))

    def connect_result(self, handle, within=REPLY_WITHIN):
        tag, conn = handle
        deadline = time.monotonic() + within
        while (r := self.console.poll(tag)) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if r is None:
            return "pending"
        return "ok" if r.startswith("ok") else r

    def conn_of(self, handle) -> GuestConn:
        return handle[1] if isinstance(handle, tuple) else handle

    def app_send(self, conn, n):
        # gen_tcp:send returns once the bytes are queued; it may wait (a closed window), so
        # the reply is not awaited.
        self.console.start(f"send {self.conn_of(conn).name} {n}")

    def recv(self, conn, n=0, timeout=0.2):
        r = self.console.run(f"recv {self.conn_of(conn).name} {n} {int(timeout * 1000)}",
                             within=timeout + REPLY_WITHIN * 2)
        if r.startswith("data "):
            return bytes.fromhex(r[5:])
        return r.removeprefix("error ")

    def close(self, conn):
        assert self.console.run(f"close {self.conn_of(conn).name}") == "ok"

    def shutdown_write(self, conn):
        assert self.console.run(f"shutdown {self.conn_of(conn).name} write") == "ok"

    def nodelay(self, conn):
        assert self.console.run(f"nodelay {self.conn_of(conn).name}") == "ok"

    def finish(self):
        self.link.ignore_ports(self._mine)


# =============================================================== T's side of a connection

class Conn:
    """T's side of one connection: its next sequence number (snd), what it has received
    from S (rcv), and the application's handle (app)."""

    def __init__(self, t: Target, app, sport, dport, snd, rcv, synack=None, syn=None):
        self.t, self.app = t, app
        self.sport, self.dport, self.snd, self.rcv = sport, dport, snd, rcv
        self.synack, self.syn = synack, syn
        self.our_fin = None
        self.listener = None

    def seg(self, flags="A", data=b"", seq=None, ack=None, window=65535, options=None, **kw) -> TCP:
        s = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=self.snd if seq is None else seq,
                ack=self.rcv if ack is None else ack, window=window, options=options or [], **kw)
        return s / Raw(data) if data else s

    def send(self, flags="A", data=b"", advance=True, corrupt_checksum=False, **kw):
        self.t.send(self.seg(flags, data, **kw), corrupt_checksum=corrupt_checksum)
        if advance and kw.get("seq") is None:
            self.snd += len(data) + (1 if "F" in flags else 0) + (1 if "S" in flags else 0)

    def take(self, segs) -> bytes:
        """The in-order bytes of segs; advances rcv past them (and a FIN)."""
        got = b""
        for s in segs:
            if s.seq == self.rcv and payload(s):
                got += payload(s)
                self.rcv += len(payload(s))
            if "F" in str(s.flags) and s.seq + len(payload(s)) == self.rcv:
                self.rcv += 1
        return got

    def probe(self) -> TCP | None:
        """A 1-byte segment far left of S's window: a synchronized connection (TIME-WAIT
        included) answers with an ACK of RCV.NXT; no connection answers with RST."""
        self.t.send(self.seg("A", b"?", seq=(self.snd - 50000) % (1 << 32),
                             ack=self.our_fin + 1 if self.our_fin is not None else self.rcv))
        return self.t.next()


def passive_open(t: Target, mss=1460, window=65535, wscale=None, backlog=8, listener=None, port=None,
                 sack=False):
    """T opens a connection to a listener of the application, which accepts it; sack:
    T's SYN offers SACK-permitted."""
    port = port if port is not None else t.port()
    l = listener if listener is not None else t.listen(port, backlog)
    sport = t.port()
    isn = 1000
    opts = [("MSS", mss)] if mss is not None else []
    if wscale is not None:
        opts.append(("WScale", wscale))
    if sack:
        opts.append(("SAckOK", b""))
    t.send(TCP(sport=sport, dport=port, flags="S", seq=isn, window=window, options=opts))
    synack = t.next()
    assert synack is not None and flags_of(synack) == F("SA"), synack and summary(synack)
    t.send(TCP(sport=sport, dport=port, flags="A", seq=isn + 1, ack=synack.seq + 1, window=window))
    c = Conn(t, t.accept(l), sport=sport, dport=port, snd=isn + 1, rcv=synack.seq + 1, synack=synack)
    c.listener = l
    return c


def active_open(t: Target, isn=7000, mss=1460, wscale=None, window=65535):
    """The application connects to T's port; T answers; returns the Conn."""
    port = t.port()
    h = t.connect(port)
    syn = t.next()
    assert syn is not None and flags_of(syn) == "S", syn and summary(syn)
    opts = [("MSS", mss)] if mss is not None else []
    if wscale is not None:
        opts.append(("WScale", wscale))
    t.send(TCP(sport=port, dport=syn.sport, flags="SA", seq=isn, ack=syn.seq + 1, window=window, options=opts))
    ack = t.next()
    assert ack is not None and flags_of(ack) == "A" and ack.ack == isn + 1, ack and summary(ack)
    assert t.connect_result(h) == "ok"
    return Conn(t, h, sport=port, dport=syn.sport, snd=isn + 1, rcv=syn.seq + 1, syn=syn)


def ping(link: Link, seq: int, within: float = REPLY_WITHIN) -> bool:
    """ICMP echo to S through the link; True when the matching reply came."""
    while not link.icmp.empty():
        link.icmp.get_nowait()
    data = b"tyn-ping-%d" % seq
    link.send_ip(bytes(IP(src=PEER, dst=LOCAL) / ICMP(type=8, id=0x7979, seq=seq) / Raw(data)))
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            r = link.icmp.get(timeout=left)
        except queue.Empty:
            return False
        if ICMP in r and r[ICMP].type == 0 and r[ICMP].seq == seq and Raw in r and r[Raw].load == data:
            return True
    return False
