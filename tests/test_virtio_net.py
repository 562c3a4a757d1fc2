"""virtio-net in the guest: selftest=netreflect sends every received Ethernet frame back
with its MAC addresses swapped.  QEMU's dgram backend carries one raw frame per UDP
datagram between the NIC and a socket of this test on 127.0.0.1, for each machine type
(microvm: virtio-mmio; pc, q35: PCI with MSI-X).  The burst test uses the stream backend
instead: over UDP the host itself drops what QEMU's socket buffer cannot hold (about 256
small datagrams), which would make the guest's counts depend on the host's timing."""
from __future__ import annotations

import os
import random
import re
import queue
import socket
import threading

import pytest

from tyn import qemu

GUEST_MAC = "52:54:00:ab:cd:ef"
TESTER_MAC = bytes.fromhex("020000000001")
ETH_P_802_EX1 = 0x88B5          # the selftest's command frames
ETH_P_802_EX2 = 0x88B6          # the frames it reflects (any type would do)
RX_RING = 256                   # VIRTIO_NET_QUEUE_SIZE_MAX (QEMU offers 256)
FRAME_SIZES = (60, 61, 64, 100, 128, 512, 1000, 1499, 1514)
REPLY_TIMEOUT = 60              # liveness bound for one reply under TCG, not a speed check
SOCKET_BUFFER = 8 << 20
# The reflector must own the NIC alone: ip=off keeps the IPv4 stack from sending on it
# (DHCP would otherwise broadcast DISCOVERs into the reflected stream).
NETREFLECT = "selftest=netreflect ip=off"
COUNTERS = re.compile(r"tyn: netreflect: virtio-net0 rx_packets (\d+) rx_bytes (\d+) rx_drops (\d+) "
                      r"tx_packets (\d+) tx_bytes (\d+) tx_drops (\d+) commands (\d+)")


def mac_bytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Wire:
    """The test's end of the dgram link: frames to and from the guest's NIC."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for opt, force in ((socket.SO_RCVBUF, 33), (socket.SO_SNDBUF, 32)):   # SO_*BUFFORCE as root
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, force, SOCKET_BUFFER)
            except OSError:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.qemu_port = free_udp_port()

    def send(self, frame: bytes) -> None:
        self.sock.sendto(frame, ("127.0.0.1", self.qemu_port))

    def recv(self, timeout: float = REPLY_TIMEOUT) -> bytes:
        self.sock.settimeout(timeout)
        data, _ = self.sock.recvfrom(65536)
        return data

    def drain(self) -> list[bytes]:
        frames = []
        self.sock.setblocking(False)
        try:
            while True:
                frames.append(self.sock.recvfrom(65536)[0])
        except BlockingIOError:
            return frames

    def close(self):
        self.sock.close()


def frame(size: int, body: bytes | None = None, ethertype: int = ETH_P_802_EX2) -> bytes:
    head = mac_bytes(GUEST_MAC) + TESTER_MAC + ethertype.to_bytes(2, "big")
    body = body if body is not None else random.randbytes(size - len(head))
    return (head + body)[:size].ljust(size, b"\0")


def reflected(sent: bytes) -> bytes:
    return sent[6:12] + sent[0:6] + sent[12:]


def command(wire: Wire, word: bytes) -> None:
    wire.send(frame(60, word, ETH_P_802_EX1))


@pytest.fixture
def reflector(selftest_image, boot):
    """boot(machine) -> (vm, wire): the guest running selftest=netreflect, ready."""
    wires = []

    def start(machine: str, qemu_args: tuple[str, ...] = ()):
        wire = Wire()
        wires.append(wire)
        extra = ["--", *qemu_args] if qemu_args else []
        vm = boot(selftest_image, accel="tcg", machine=machine, append=NETREFLECT, timeout=120,
                  args=["--net", f"dgram:{wire.qemu_port}:{wire.port}", "--mac", GUEST_MAC, *extra])
        m = vm.expect(re.compile(r"tyn: selftest netreflect: virtio-net0 MAC ([0-9a-f:]{17}) ready"))
        assert m.split()[5] == GUEST_MAC, vm.log
        return vm, wire

    yield start
    for w in wires:
        w.close()


def counters(vm, timeout: float | None = None) -> dict[str, int]:
    line = vm.expect(COUNTERS, timeout=timeout)
    names = ("rx_packets", "rx_bytes", "rx_drops", "tx_packets", "tx_bytes", "tx_drops", "commands")
    return dict(zip(names, map(int, COUNTERS.search(line).groups())))


@pytest.mark.parametrize("machine", qemu.MACHINES)
def test_frames_of_every_size_come_back_swapped_and_intact(reflector, machine):
    vm, wire = reflector(machine)
    transport = "virtio-mmio at 0xfeb00000 GSI 16" if machine == "microvm" else "PCI 0:"
    assert f"tyn: virtio-net0: virtio-net on {transport}" in vm.log
    if machine != "microvm":
        assert "MSI-X, vector 40" in vm.log
    sent_bytes = 0
    for size in FRAME_SIZES:
        f = frame(size)
        wire.send(f)
        assert wire.recv() == reflected(f), f"{size}-byte frame"
        sent_bytes += size
    command(wire, b"exit")
    c = counters(vm)
    vm.expect_exit(0)
    n = len(FRAME_SIZES)
    assert c["rx_packets"] == n + 1 and c["rx_bytes"] == sent_bytes + 60
    assert c["tx_packets"] == n and c["tx_bytes"] == sent_bytes
    assert c["rx_drops"] == c["tx_drops"] == 0


def intx_gsi(machine: str, slot: int) -> int:
    """Where QEMU's boards deliver INTA# of a bus-0 slot (hw/pci-host/i440fx + piix3,
    hw/isa/lpc_ich9): pc swizzles to PIRQ (slot - 1) & 3, which the kernel routes to ISA
    IRQ 10 (A, B) or 11 (C, D); q35 wires PIRQ 4 + slot % 4 to GSI 16 + PIRQ."""
    if machine == "pc":
        return 10 if (slot - 1) % 4 < 2 else 11
    return 16 + 4 + slot % 4


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_intx_without_msix(reflector, machine):
    # vectors=0: a virtio-net-pci with no MSI-X, so its legacy interrupt pin is the way.
    vm, wire = reflector(machine, ("-global", "virtio-net-pci.vectors=0"))
    line = next(ln for ln in vm.log.splitlines() if "tyn: virtio-net0: virtio-net on PCI" in ln)
    slot = int(re.search(r"on PCI 0:(\d+)\.0 ", line).group(1))
    assert "MSI-X" not in line and f"INTx GSI {intx_gsi(machine, slot)}," in line, line
    for size in (60, 1514, 300, 61):
        f = frame(size)
        wire.send(f)
        assert wire.recv() == reflected(f), f"{size}-byte frame"
    command(wire, b"exit")
    c = counters(vm)
    vm.expect_exit(0)
    assert c["rx_drops"] == c["tx_drops"] == 0 and c["tx_packets"] == 4


class StreamWire:
    """The test's end of a stream link (QEMU connects to it): each frame is preceded by its
    length (4 bytes, big-endian).  TCP's flow control means nothing is dropped on the host:
    when the guest's ring is full QEMU stops reading and our sends wait.  Replies are read
    by a thread, so QEMU's transmissions never wait on us."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conn = None
        self.frames: queue.Queue[bytes] = queue.Queue()

    def accept(self, timeout: float = REPLY_TIMEOUT) -> None:
        self.listener.settimeout(timeout)
        self.conn, _ = self.listener.accept()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        try:
            while data := self.conn.recv(1 << 16):
                buf += data
                while len(buf) >= 4 and len(buf) >= 4 + (n := int.from_bytes(buf[:4], "big")):
                    self.frames.put(buf[4:4 + n])
                    buf = buf[4 + n:]
        except OSError:
            pass

    def send(self, frame: bytes) -> None:
        self.conn.sendall(len(frame).to_bytes(4, "big") + frame)

    def recv(self, timeout: float = REPLY_TIMEOUT) -> bytes:
        return self.frames.get(timeout=timeout)

    def close(self) -> None:
        for s in (self.conn, self.listener):
            if s is not None:
                s.close()


@pytest.mark.parametrize("machine", ["microvm", "q35"])
def test_a_burst_larger_than_the_receive_ring(selftest_image, boot, machine):
    """3x the ring's buffers at once over a stream link (no host drops): the guest takes
    every frame, counts each, answers each once and intact, or counts what it could not
    send; then it still works (its buffers were re-posted)."""
    wire = StreamWire()
    try:
        vm = boot(selftest_image, accel="tcg", machine=machine, append=NETREFLECT, timeout=120,
                  args=["--net", f"stream:{wire.port}", "--mac", GUEST_MAC])
        wire.accept()
        vm.expect("netreflect: virtio-net0 MAC 52:54:00:ab:cd:ef ready")
        burst = [frame(60, i.to_bytes(4, "big") + os.urandom(20)) for i in range(3 * RX_RING)]
        for f in burst:
            wire.send(f)
        command(wire, b"stat")
        c = counters(vm)
        assert c["commands"] == 1 and c["rx_packets"] == len(burst) + 1, c
        assert c["tx_packets"] + c["tx_drops"] == len(burst), c
        assert c["rx_drops"] == 0, c
        expected = {reflected(f) for f in burst}
        got = [wire.recv() for _ in range(c["tx_packets"])]
        assert set(got) <= expected and len(set(got)) == len(got)
        f = frame(1514)
        wire.send(f)
        assert wire.recv() == reflected(f)
        command(wire, b"exit")
        after = counters(vm)
        vm.expect_exit(0)
        assert after["rx_packets"] == c["rx_packets"] + 2 and after["tx_packets"] == c["tx_packets"] + 1
    finally:
        wire.close()
