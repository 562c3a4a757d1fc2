"""Fixtures for tests against a booted kernel on a dgram link (tcp_target.GuestTarget):
the tcp_ctl image (built once per session) and a VM booted once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

import harness
from tcp_target import GUEST_MAC, LOCAL, PREFIX, Console, GuestTarget, HostTarget, Link

HERE = Path(__file__).resolve().parent
CTL_SOURCE = HERE / "erlang" / "tcp_ctl.erl"
REPO = HERE.parent
BOOT_TIMEOUT = 120


def build_ctl_image(d: Path) -> Path:
    """An image whose BEAM runs tcp_ctl:main() (gen_tcp commands from the console), in d."""
    from tyn.build import erts
    from test_image_support import build_image
    ebin = d / "ebin"
    ebin.mkdir(exist_ok=True)
    erts.compile_erlang(erts.HostBeam(erts.ensure_erts()), CTL_SOURCE, ebin)
    out = d / "tcp_ctl.img"
    build_image("--add", f"{ebin}:/app/ebin", "--eval", "tcp_ctl:main().", "-o", out)
    return out


@pytest.fixture(scope="session")
def ctl_image(tmp_path_factory) -> Path:
    return build_ctl_image(tmp_path_factory.mktemp("tcp_ctl"))


class GuestVM:
    """One booted guest: its VM, link and console; rebooted if a case killed it."""

    def __init__(self, image: Path):
        self.image = image
        self.vm = self.link = self.console = None

    def ensure(self) -> "GuestVM":
        if self.vm is not None and self.vm.child.isalive():
            return self
        self.stop()
        self.link = Link()
        self.vm = harness.boot(self.image, accel="tcg", timeout=BOOT_TIMEOUT,
                               append=f"ip={LOCAL}/{PREFIX} net_wait=0",
                               args=["--net", f"dgram:{self.link.qemu_port}:{self.link.port}",
                                     "--mac", GUEST_MAC])
        self.vm.expect("tcp_ctl: ready")
        self.console = Console(self.vm)
        return self

    def stop(self) -> None:
        if self.vm is not None:
            self.vm.close()
        if self.link is not None:
            self.link.close()
        self.vm = self.link = None


@pytest.fixture(scope="module")
def guest_vm(ctl_image):
    g = GuestVM(ctl_image)
    yield g
    g.stop()


def make_target(request, kind: str, backend: str = "inet"):
    if kind == "host":
        return HostTarget()
    g = request.getfixturevalue("guest_vm").ensure()
    return GuestTarget(g.vm, g.link, g.console, backend=backend)
