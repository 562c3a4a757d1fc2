"""The Linux baseline bench/ compares Tyn against (bench/linux_guest.py): Debian bookworm's cloud
kernel with a busybox initramfs holding a Tyn image's own rootfs, on tyn.run's QEMU command.

The boot is slow-marked (it fetches ~28 MB of packages once, then each boot takes ~7 s under
TCG); it keeps the baseline working.  The init script's quoting is checked without QEMU."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import pytest

import harness
from test_image_support import build_image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
import linux_guest  # noqa: E402

RUNNER = [sys.executable, str(REPO / "bench" / "linux_guest.py")]
HELLO = 'io:format("Hello from OTP 27 on Tyn!~n"), halt().'


def test_init_runs_argv_with_exactly_the_image_environment():
    argv = ["/otp/bin/beam.smp", "--", "-eval", 'io:format("a b\'c $HOME ~n"), halt().', ""]
    env = {"HOME": "/", "PATH": "/otp/bin:/bin", "ODD": "x y'z $1"}
    script = linux_guest.init_script(argv, env, ["virtio.ko"])
    [line] = [ln for ln in script.splitlines() if " env -i " in ln]
    words = shlex.split(line)
    assert words[:3] == ["$B", "env", "-i"]
    assert words[3:3 + len(env)] == [f"{k}={v}" for k, v in env.items()]
    assert words[3 + len(env):] == argv


def test_exit_status_is_the_last_line_init_printed():
    assert linux_guest.exit_status(b"x\r\nlinux-guest: exit status 3\r\nlinux-guest: exit status 0\r\n") == 0
    assert linux_guest.exit_status("no status here") is None


@pytest.mark.slow
@pytest.mark.parametrize("machine", ["microvm", "pc"])
def test_linux_guest_boots_the_hello_image(tmp_path, machine):
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        pytest.skip("the baseline is built from Debian packages (apt-get, dpkg-deb)")
    image = tmp_path / "hello.img"
    build_image("--eval", HELLO, "-o", image)
    guest = linux_guest.prepare(image)
    assert guest.kernel.vmlinuz.is_file() and guest.initramfs.is_file()
    with harness.boot(image, accel="tcg", machine=machine, runner=RUNNER, timeout=240) as vm:
        vm.expect("Hello from OTP 27")
        vm.expect("linux-guest: exit status")
        assert vm.wait_exit() == 0
        assert linux_guest.exit_status(vm.log) == 0, vm.log[-3000:]
