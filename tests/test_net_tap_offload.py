"""virtio-net's receive offloads in the guest, over a tap device (the backend that passes
virtio headers, so QEMU offers GUEST_CSUM, GUEST_TSO4 and MRG_RXBUF): the driver negotiates
them, and a bulk stream from the host, arriving as segments of up to 64 KiB spread over
several receive buffers with checksums left to the device, comes back from the default
image's echo server byte for byte."""

from __future__ import annotations

import subprocess
import sys

import pytest

import netload_support as nl
from test_image_support import build_image

BULK_BYTES = 4 << 20

# Run inside the namespace: greeting, then BULK_BYTES of a pattern with no period that a
# lost, repeated or misplaced 64 KiB block could hide behind, sent from a thread while the
# echo is read back and compared.
CLIENT = r"""
import socket, sys, threading
host, n, greeting = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode() + b"\n"
data = bytes((i * 7 + (i >> 16) * 13) & 0xFF for i in range(n))
s = socket.create_connection((host, 5555), timeout=60)
got = b""
while len(got) < len(greeting):
    got += s.recv(len(greeting) - len(got))
assert got == greeting, got
threading.Thread(target=s.sendall, args=(data,), daemon=True).start()
back = bytearray()
while len(back) < n:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    back += chunk
if bytes(back) != data:
    at = next((i for i in range(min(len(back), n)) if back[i] != data[i]), min(len(back), n))
    print(f"differs at byte {at} of {n} (got {len(back)})")
    sys.exit(1)
print("intact", n)
"""


@pytest.fixture(scope="module")
def echo_image(tmp_path_factory):
    out = tmp_path_factory.mktemp("offload") / "echo.img"
    build_image("-o", out)
    return out


def test_bulk_from_host_through_receive_offloads(echo_image, namespace):
    with nl.boot_on_tap(echo_image, namespace, accel="tcg", timeout=180) as vm:
        vm.expect("tyn-demo: listening on 5555")
        assert "receive offloads checksum+TSO" in vm.log, vm.log[-2000:]
        p = subprocess.run(namespace.exec_argv([sys.executable, "-c", CLIENT, namespace.guest_addr,
                                                str(BULK_BYTES), nl.GREETING.decode().rstrip("\n")]),
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0 and p.stdout.strip() == f"intact {BULK_BYTES}", (p.stdout, p.stderr[-2000:])
        assert vm.child.isalive() and "panic" not in vm.log, vm.log[-3000:]
