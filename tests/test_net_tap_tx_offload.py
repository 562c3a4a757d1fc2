"""virtio-net's transmit offloads in the guest, over a tap device (QEMU offers CSUM and
HOST_TSO4 there): the driver negotiates them, and a multi-MiB stream from the guest to the
host, sent as TCP segments of up to 64 KiB with checksums left to the device (and cut up
by the host), arrives byte for byte.  The stream is the default image's echo server
answering a host client; tests/test_net_tap_offload.py has the receive side."""

from __future__ import annotations

import subprocess
import sys

import netload_support as nl
from test_net_tap_offload import CLIENT, echo_image, namespace  # noqa: F401  (fixtures)

BULK_BYTES = 8 << 20


def test_bulk_to_host_through_transmit_offloads(echo_image, namespace):  # noqa: F811
    with nl.boot_on_tap(echo_image, namespace, accel="tcg", timeout=180) as vm:
        vm.expect("tyn-demo: listening on 5555")
        assert "transmit offloads checksum+TSO" in vm.log, vm.log[-2000:]
        p = subprocess.run(namespace.exec_argv([sys.executable, "-c", CLIENT, namespace.guest_addr,
                                                str(BULK_BYTES), nl.GREETING.decode().rstrip("\n")]),
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0 and p.stdout.strip() == f"intact {BULK_BYTES}", (p.stdout, p.stderr[-2000:])
        assert vm.child.isalive() and "panic" not in vm.log, vm.log[-3000:]
