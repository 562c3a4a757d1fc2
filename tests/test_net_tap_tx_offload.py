"""virtio-net's transmit offloads in the guest, over a tap device (QEMU offers CSUM and
HOST_TSO4 there): the driver negotiates them, and a multi-MiB stream from the guest to the
host, sent as TCP segments of up to 64 KiB with checksums left to the device (and cut up
by the host), arrives byte for byte.  The stream is the default image's echo server
answering a host client; tests/test_net_tap_offload.py has the receive side."""

from __future__ import annotations

import signal
import subprocess
import sys

import netload_support as nl
from test_net_tap_offload import CLIENT as ECHO_CLIENT, echo_image  # noqa: F401  (a fixture)

BULK_BYTES = 8 << 20
ETH_FRAME_LEN = 1514

# The echo client, reading the echo only after a pause: the guest's send queue fills behind
# the host's closed receive window, so when the reader opens it the guest has more than an
# MSS to send at once (without the pause, an echo that keeps pace may send one MSS at a time).
CLIENT = ECHO_CLIENT.replace("back = bytearray()", "import time; time.sleep(3)\nback = bytearray()")
assert CLIENT != ECHO_CLIENT

# Run inside the namespace: the longest frame that came in on the tap (from the guest), as a
# packet socket sees it before the host's stack cuts anything up; printed on SIGINT.
SNIFFER = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))   # ETH_P_ALL
s.bind((sys.argv[1], 0))
longest = 0
print("ready", flush=True)
try:
    while True:
        data, addr = s.recvfrom(1 << 17, socket.MSG_TRUNC)
        if addr[2] != socket.PACKET_OUTGOING:
            longest = max(longest, len(data))
except KeyboardInterrupt:
    print("longest", longest, flush=True)
"""


def test_bulk_to_host_through_transmit_offloads(echo_image, namespace):  # noqa: F811
    with nl.boot_on_tap(echo_image, namespace, accel="tcg", timeout=180) as vm:
        vm.expect("tyn-demo: listening on 5555")
        assert "transmit offloads checksum+TSO" in vm.log, vm.log[-2000:]
        sniffer = subprocess.Popen(namespace.exec_argv([sys.executable, "-c", SNIFFER, namespace.tap]),
                                   stdout=subprocess.PIPE, text=True)
        assert sniffer.stdout.readline().strip() == "ready"
        p = subprocess.run(namespace.exec_argv([sys.executable, "-c", CLIENT, namespace.guest_addr,
                                                str(BULK_BYTES), nl.GREETING.decode().rstrip("\n")]),
                           capture_output=True, text=True, timeout=300)
        sniffer.send_signal(signal.SIGINT)
        out, _ = sniffer.communicate(timeout=30)
        assert p.returncode == 0 and p.stdout.strip() == f"intact {BULK_BYTES}", (p.stdout, p.stderr[-2000:])
        longest = int(out.split()[-1])
        assert longest > ETH_FRAME_LEN, f"no segment larger than the MTU left the guest ({longest})"
        assert vm.child.isalive() and "panic" not in vm.log, vm.log[-3000:]
