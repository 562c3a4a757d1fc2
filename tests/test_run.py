"""python -m tyn.run: booting, the exit protocol, bad input, command lines.

Protocol tests boot stub guests (tyn.qemu.stub_guest: a few bytes of 32-bit code
that print a line and write a status to isa-debug-exit), so they test tyn.run and
not the kernel.  Kernel tests boot the real kernel image through the same CLI.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest

import harness
from tyn import qemu, run

BANNER = "Tyn 0.1.0 ("
PY = sys.executable


def tyn_run(*args, env=None, timeout=60) -> subprocess.CompletedProcess:
    """`python -m tyn.run ...` without a terminal (stdin /dev/null)."""
    return subprocess.run([PY, "-m", "tyn.run", *map(str, args)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout,
                          env={**os.environ, **(env or {})})


def dry_run(*args, env=None) -> list[str]:
    proc = tyn_run("--dry-run", *args, env=env)
    assert proc.returncode == 0, proc.stderr
    return shlex.split(proc.stdout)


def user_append(cmd: list[str]) -> str | None:
    """The -append value minus keys tyn.run adds itself (realtime=<ns>, virtio_mmio.device=);
    None without -append."""
    if "-append" not in cmd:
        return None
    return re.sub(r"\s*\b(realtime|virtio_mmio\.device)=\S+", "", cmd[cmd.index("-append") + 1]).strip()


def has_seq(cmd: list[str], *seq: str) -> bool:
    return any(cmd[i:i + len(seq)] == list(seq) for i in range(len(cmd)))


# ------------------------------------------------------------ the kernel

def test_banner(kernel_image, accel, boot):
    vm = boot(kernel_image, accel=accel, timeout=30)
    vm.expect(BANNER)
    assert f"tyn.run: accel={accel} machine=microvm" in vm.log
    vm.expect_exit(0)


@pytest.mark.parametrize("machine,firmware", [("pc", "qboot"), ("q35", "qboot"), ("pc", "seabios"),
                                              ("q35", "seabios")])
def test_banner_other_machines(kernel_image, accel, boot, machine, firmware):
    if accel == "kvm" and firmware == "seabios":
        pytest.skip("SeaBIOS under nested KVM takes ~3.5 s per boot; covered under TCG")
    vm = boot(kernel_image, accel=accel, machine=machine, args=["--firmware", firmware])
    vm.expect(BANNER)
    assert f"machine={machine} firmware={firmware}" in vm.log
    vm.expect_exit(0)


def test_auto_picks_tcg_over_pvm_and_says_why(kernel_image, boot):
    """On this kind of machine /dev/kvm is PVM: auto boots under TCG and says so."""
    ok, reason = qemu.kvm_status()
    vm = boot(kernel_image, accel="auto")
    vm.expect(BANNER)
    if ok and qemu.kvm_is_pvm():
        assert "accel=tcg machine=microvm (/dev/kvm is PVM (kvm_pvm)" in vm.log
    else:
        assert f"accel={'kvm' if ok else 'tcg'}" in vm.log, reason
    vm.expect_exit(0)


def _modules_dir(tmp_path, *names):
    d = tmp_path / "sys-module"
    for n in names:
        (d / n).mkdir(parents=True)
    d.mkdir(exist_ok=True)
    return str(d)


@pytest.mark.parametrize("modules,pvm", [(["kvm", "kvm_pvm"], True), (["kvm", "kvm_intel"], False),
                                         (["kvm", "kvm_amd"], False), (["kvm"], False),
                                         (["kvm", "kvm_pvm", "kvm_intel"], False)])
def test_pvm_recognised_from_the_kvm_module(tmp_path, modules, pvm):
    assert qemu.kvm_is_pvm(_modules_dir(tmp_path, *modules)) is pvm


def test_auto_keeps_hardware_kvm(tmp_path, monkeypatch):
    """With a hardware KVM module (simulated), auto chooses KVM whenever /dev/kvm works."""
    ok, reason = qemu.kvm_status()
    if not ok:
        pytest.skip(f"KVM not usable here: {reason}")
    monkeypatch.setenv("TYN_KVM_MODULES_DIR", _modules_dir(tmp_path, "kvm", "kvm_intel"))
    assert qemu.choose_accel("auto") == ("kvm", "")
    monkeypatch.setenv("TYN_KVM_MODULES_DIR", _modules_dir(tmp_path / "p", "kvm", "kvm_pvm"))
    accel, note = qemu.choose_accel("auto")
    assert accel == "tcg" and "PVM" in note
    assert qemu.choose_accel("kvm") == ("kvm", "")      # --accel kvm still insists


def test_auto_falls_back_to_tcg(kernel_image, boot):
    vm = boot(kernel_image, accel="auto", env={"TYN_KVM_DEVICE": "/nonexistent/kvm"})
    vm.expect(BANNER)
    assert "accel=tcg machine=microvm (kvm unavailable: /nonexistent/kvm" in vm.log
    vm.expect_exit(0)


@pytest.mark.parametrize("status", [0, 1, 42, 125, 126, 127, 200, 300])
def test_kernel_exit_status(selftest_image, boot, status):
    """selftest=exit:N: banner, then power off with N; tyn.run exits with N & 0xff."""
    vm = boot(selftest_image, accel="auto", append=f"selftest=exit:{status}")
    vm.expect(BANNER)
    vm.expect_exit(status & 0xFF)
    if status == 127:                        # the kernel's exit status for a panic
        assert "tyn.run: kernel panic" in vm.log
    elif status > 125:
        assert f"tyn: exit status {status}" in vm.log


# ------------------------------------------------------- exit protocol (stubs)

@pytest.mark.parametrize("status", [0, 1, 3, 42, 99, 125])
def test_status_passes_through(stub_guest, status):
    proc = tyn_run(stub_guest(b"hi\n", status), "--accel", "tcg")
    assert proc.returncode == status, proc.stderr
    assert proc.stdout == "hi\n"
    assert "error" not in proc.stderr


@pytest.mark.parametrize("real", [126, 200, 255, 256, 300, 1000, -1])
def test_clipped_status_read_from_console(stub_guest, real):
    image = stub_guest(f"booting\ntyn: exit status {real}\n".encode(), qemu.GUEST_STATUS_CLIPPED)
    proc = tyn_run(image, "--accel", "tcg")
    assert proc.returncode == real & 0xFF, proc.stderr


def test_clipped_status_without_console_line(stub_guest):
    proc = tyn_run(stub_guest(b"no status line\n", qemu.GUEST_STATUS_CLIPPED), "--accel", "tcg")
    assert proc.returncode == qemu.EXIT_PROTOCOL
    assert "tyn.run: error:" in proc.stderr and "tyn: exit status N" in proc.stderr


def test_panic_status(stub_guest):
    proc = tyn_run(stub_guest(b"tyn: PANIC\n", qemu.GUEST_STATUS_PANIC), "--accel", "tcg")
    assert proc.returncode == 127
    assert proc.stderr.splitlines()[-1] == "tyn.run: kernel panic"


def test_triple_fault_is_not_a_guest_status(stub_guest, accel):
    proc = tyn_run(stub_guest(b"about to fault\n", None, triple_fault=True), "--accel", accel)
    assert proc.returncode == qemu.EXIT_NO_GUEST_STATUS, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("tyn.run: error: QEMU exited with status 0 and no guest exit status"), last


def test_qemu_start_failure(stub_guest):
    proc = tyn_run(stub_guest(b"x\n"), "--accel", "tcg", "--machine", "pc", "--", "-bios", "no-such.rom")
    assert proc.returncode == qemu.EXIT_QEMU_FAILED
    assert "tyn.run: error: QEMU failed to start:" in proc.stderr and "no-such.rom" in proc.stderr


@pytest.mark.parametrize("console,expected", [
    ("tyn: exit status 300\n", 300),
    ("Tyn 0.1.0 booting\r\ntyn: exit status 4096\r\n", 4096),
    ("tyn: exit status 7\nlater\ntyn: exit status 900\n", 900),      # the last one counts
    ("tyn: exit status -5\n", -5),
    ("tyn: exit status 130", 130),                                   # no final newline
    ("xtyn: exit status 300\n", None),                               # not at line start
    ("tyn: exit status 3x\n", None),
    ("tyn: exit status \n", None),
    ("", None),
])
def test_parse_clipped_status(console, expected):
    assert qemu.parse_clipped_status(console) == expected
    assert qemu.parse_clipped_status(console.encode()) == expected


@pytest.mark.parametrize("returncode,console,status,error", [
    (1, "", 0, None),
    (85, "", 42, None),
    ((125 << 1) | 1, "", 125, None),
    ((126 << 1) | 1, "tyn: exit status 300\n", 300 & 0xFF, None),
    ((126 << 1) | 1, "tyn: exit status 512\n", 0, None),
    ((126 << 1) | 1, "nothing\n", qemu.EXIT_PROTOCOL, "tyn: exit status N"),
    ((127 << 1) | 1, "", 127, "kernel panic"),
    (0, "", qemu.EXIT_NO_GUEST_STATUS, "triple fault"),
    (2, "", qemu.EXIT_NO_GUEST_STATUS, "status 2"),
    (-9, "", qemu.EXIT_NO_GUEST_STATUS, "SIGKILL"),
])
def test_interpret_exit(returncode, console, status, error):
    out = qemu.interpret_exit(returncode, console)
    assert out.status == status
    if error is None:
        assert out.error is None
    else:
        assert error in out.error


def test_interpret_exit_qemu_stopped_by_signal():
    out = qemu.interpret_exit(0, b"hi\n", qemu_stderr="qemu-system-x86_64: terminating on signal 15 from pid 7\n")
    assert out.status == qemu.EXIT_NO_GUEST_STATUS and "SIGTERM" in out.error


def test_qemu_killed_outside(stub_guest, boot):
    vm = boot(stub_guest(b"ready\n", None), accel="tcg", timeout=20)
    vm.expect("ready")
    os.kill(_qemu_child(vm), signal.SIGTERM)
    vm.expect_exit(qemu.EXIT_NO_GUEST_STATUS)
    assert "tyn.run: error: QEMU was stopped by SIGTERM before the guest exited" in vm.log


def test_interpret_exit_startup_failure():
    out = qemu.interpret_exit(1, b"", console_seen=False, qemu_stderr="qemu: could not load PC BIOS 'x'\n")
    assert out.status == qemu.EXIT_QEMU_FAILED and "could not load PC BIOS" in out.error
    # Same status with console output: the guest exited with 0 (stderr may hold warnings).
    assert qemu.interpret_exit(1, b"hi\n", console_seen=True, qemu_stderr="warning: x\n").status == 0


# ------------------------------------------------------ terminal behaviour

def test_stdin_reaches_the_guest(stub_guest, boot):
    vm = boot(stub_guest(b"echo> ", 7, echo_until=b"q"), accel="tcg", timeout=20)
    vm.expect("echo> ")
    vm.send("hello")
    vm.expect("hello")
    vm.send("q")
    vm.expect_exit(7)


def _qemu_child(vm) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = harness.child_pids(vm.pid)
        if pids:
            return pids[0]
        time.sleep(0.05)
    raise vm.fail("no QEMU child process")


def _gone(pid, timeout=10) -> bool:
    deadline = time.monotonic() + timeout
    while harness.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not harness.pid_alive(pid)


def test_ctrl_c_stops_qemu(stub_guest, boot):
    vm = boot(stub_guest(b"ready\n", None), accel="tcg", timeout=20)
    vm.expect("ready")
    qemu_pid = _qemu_child(vm)
    vm.interrupt()
    vm.expect_exit(qemu.EXIT_INTERRUPTED)
    assert "tyn.run: interrupted (SIGINT); QEMU stopped" in vm.log
    assert _gone(qemu_pid)


def test_sigterm_stops_qemu(stub_guest, boot):
    vm = boot(stub_guest(b"ready\n", None), accel="tcg", timeout=20)
    vm.expect("ready")
    qemu_pid = _qemu_child(vm)
    os.kill(vm.pid, signal.SIGTERM)
    vm.expect_exit(qemu.EXIT_INTERRUPTED)
    assert _gone(qemu_pid)


def test_qemu_dies_with_tyn_run(stub_guest, boot):
    vm = boot(stub_guest(b"ready\n", None), accel="tcg", timeout=20)
    vm.expect("ready")
    qemu_pid = _qemu_child(vm)
    os.kill(vm.pid, signal.SIGKILL)
    assert _gone(qemu_pid), "QEMU outlived a SIGKILLed tyn.run"


def test_harness_failure_carries_the_log(stub_guest, boot):
    vm = boot(stub_guest(b"line one\nline two\n", 5), accel="tcg", timeout=20)
    with pytest.raises(harness.BootFailure) as e:
        vm.expect("never printed")
    msg = str(e.value)
    assert "line one\nline two\n" in msg and "tyn.run" in msg and "exit status 5" in msg
    with pytest.raises(harness.BootFailure) as e:
        vm.expect_exit(0)


def test_harness_timeout_carries_the_log(stub_guest, boot):
    vm = boot(stub_guest(b"stuck here\n", None), accel="tcg", timeout=20)
    with pytest.raises(harness.BootFailure) as e:
        vm.expect("never printed", timeout=1)
    assert "timed out" in str(e.value) and "stuck here" in str(e.value)


# --------------------------------------------------------------- bad input

def _bad(proc, *words):
    assert proc.returncode == qemu.EXIT_BAD_INPUT, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tyn.run: error:"), proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert proc.stdout == ""


def test_missing_image(tmp_path):
    _bad(tyn_run(tmp_path / "nope.elf"), "nope.elf", "no such file")


def test_directory_image(tmp_path):
    _bad(tyn_run(tmp_path), "not a regular file")


def test_not_an_elf(tmp_path):
    p = tmp_path / "kernel.txt"
    p.write_text("hello\n")
    _bad(tyn_run(p), "not an ELF")


def test_64bit_elf(tmp_path):
    _bad(tyn_run(sys.executable), "64-bit ELF")


def test_elf_without_multiboot_header(tmp_path):
    raw = bytearray(qemu.stub_guest(b"x"))
    raw[84:88] = b"\0\0\0\0"
    p = tmp_path / "nomb.elf"
    p.write_bytes(raw)
    _bad(tyn_run(p), "no multiboot header")


@pytest.mark.parametrize("spec", ["80", "a:b", "8080:", ":80", "70000:80", "8080:0", "8080:80:1"])
def test_bad_port_forward(stub_guest, spec):
    _bad(tyn_run(stub_guest(), "-p", spec), "port forward", repr(spec))


def test_duplicate_host_port(stub_guest):
    _bad(tyn_run(stub_guest(), "-p", "8080:80", "-p", "8080:81"), "8080")


@pytest.mark.parametrize("mem", ["lots", "0", "12Q", "1M", "-5M", "2T", ""])
def test_bad_memory(stub_guest, mem):
    _bad(tyn_run(stub_guest(), f"--memory={mem}"), "memory size")


@pytest.mark.parametrize("smp", ["0", "x", "1000"])
def test_bad_smp(stub_guest, smp):
    _bad(tyn_run(stub_guest(), "--smp", smp), "--smp")


@pytest.mark.parametrize("args", [["--machine", "isapc"], ["--accel", "hvf"], ["--bogus"]])
def test_bad_options(stub_guest, args):
    _bad(tyn_run(stub_guest(), *args))


def test_qemu_missing(stub_guest, tmp_path):
    _bad(tyn_run(stub_guest(), "--accel", "tcg", env={"PATH": str(tmp_path)}),
         "qemu-system-x86_64 not found")


def test_kvm_requested_but_unusable(stub_guest):
    _bad(tyn_run(stub_guest(), "--accel", "kvm", env={"TYN_KVM_DEVICE": "/nonexistent/kvm"}),
         "--accel kvm", "/nonexistent/kvm")


# ------------------------------------------------------ --dry-run commands

def test_dry_run_microvm(stub_guest):
    image = stub_guest()
    cmd = dry_run(image, "--accel", "tcg")
    assert cmd[0] == "qemu-system-x86_64"
    for seq in (["-M", "microvm,x-option-roms=off,rtc=off,ioapic2=off"],
                ["-global", "virtio-mmio.force-legacy=false"], ["-accel", "tcg"], ["-cpu", "max"],
                ["-smp", "1"], ["-m", "512M"], ["-serial", "stdio"], ["-display", "none"],
                ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"], ["-kernel", str(image)]):
        assert has_seq(cmd, *seq), (seq, cmd)
    assert "-no-reboot" in cmd and "-nodefaults" in cmd
    for absent in ("-s", "-S", "-bios"):
        assert absent not in cmd
    assert user_append(cmd) in (None, "")
    # Every machine has a NIC, user networking by default.
    assert has_seq(cmd, "-netdev", "user,id=net0")
    assert has_seq(cmd, "-device", "virtio-net-device,netdev=net0,bus=virtio-mmio-bus.0")


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_dry_run_pc_q35(stub_guest, machine):
    cmd = dry_run(stub_guest(), "--accel", "tcg", "--machine", machine)
    assert has_seq(cmd, "-M", machine) and has_seq(cmd, "-bios", "qboot.rom")
    cmd = dry_run(stub_guest(), "--accel", "tcg", "--machine", machine, "--firmware", "seabios")
    assert has_seq(cmd, "-M", machine) and "-bios" not in cmd


def test_dry_run_kvm(stub_guest):
    ok, _ = qemu.kvm_status()
    if not ok:
        pytest.skip("KVM not usable here")
    cmd = dry_run(stub_guest(), "--accel", "kvm")
    assert has_seq(cmd, "-accel", "kvm") and has_seq(cmd, "-cpu", "host,-arch-capabilities")


@pytest.mark.parametrize("machine,nic", [("microvm", "virtio-net-device"), ("pc", "virtio-net-pci"),
                                         ("q35", "virtio-net-pci")])
def test_dry_run_port_forwards(stub_guest, machine, nic):
    cmd = dry_run(stub_guest(), "--accel", "tcg", "--machine", machine, "-p", "8080:80", "-p", "2222:22")
    assert has_seq(cmd, "-netdev", "user,id=net0,hostfwd=tcp::8080-:80,hostfwd=tcp::2222-:22")
    assert any(a.startswith(f"{nic},netdev=net0") for a in cmd)
    mmio_key = "virtio_mmio.device=512@0xfeb00000:16"
    assert (mmio_key in cmd[cmd.index("-append") + 1].split()) == (machine == "microvm")


@pytest.mark.parametrize("spec,netdev", [
    ("user", "user,id=net0"),
    ("tap:tyn0", "tap,id=net0,ifname=tyn0,script=no,downscript=no"),
    ("dgram:5000:5001", "dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=5000,"
                        "remote.type=inet,remote.host=127.0.0.1,remote.port=5001"),
    ("stream:6000", "stream,id=net0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=6000"),
    ("stream-listen:6001", "stream,id=net0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=6001"),
])
@pytest.mark.parametrize("machine,nic", [("microvm", "virtio-net-device"), ("q35", "virtio-net-pci")])
def test_dry_run_net_backends(stub_guest, spec, netdev, machine, nic):
    cmd = dry_run(stub_guest(), "--accel", "tcg", "--machine", machine, "--net", spec,
                  "--mac", "52:54:00:AB:cd:ef")
    assert has_seq(cmd, "-netdev", netdev)
    device = cmd[cmd.index("-netdev") + 3]
    assert device.startswith(f"{nic},netdev=net0") and device.endswith(",mac=52:54:00:ab:cd:ef")


def test_dry_run_net_none(stub_guest):
    cmd = dry_run(stub_guest(), "--accel", "tcg", "--net", "none")
    assert "-netdev" not in cmd and "@0xfeb00000:" not in cmd[cmd.index("-append") + 1]


@pytest.mark.parametrize("machine,device", [("microvm", "virtio-rng-device,bus=virtio-mmio-bus.1"),
                                            ("pc", "virtio-rng-pci"), ("q35", "virtio-rng-pci")])
def test_dry_run_offers_virtio_rng(stub_guest, machine, device):
    """Every machine gets a virtio-rng device by default (microvm: on the second transport,
    named on the command line); --no-rng leaves it out."""
    cmd = dry_run(stub_guest(), "--accel", "tcg", "--machine", machine)
    assert has_seq(cmd, "-device", device)
    rng_key = "virtio_mmio.device=512@0xfeb00200:17"
    assert (rng_key in cmd[cmd.index("-append") + 1].split()) == (machine == "microvm")
    cmd = dry_run(stub_guest(), "--accel", "tcg", "--machine", machine, "--no-rng")
    assert not any(a.startswith("virtio-rng") for a in cmd)
    assert rng_key not in cmd[cmd.index("-append") + 1]


@pytest.mark.parametrize("args,words", [
    (["--net", "bogus"], ["--net 'bogus'", "user, tap, dgram"]),
    (["--net", "user:1"], ["--net 'user:1'", "no parameters"]),
    (["--net", "tap"], ["tap:IFNAME"]),
    (["--net", "tap:bad name"], ["tap:IFNAME"]),
    (["--net", "dgram:5000"], ["dgram:LOCALPORT:REMOTEPORT"]),
    (["--net", "dgram:5000:70000"], ["port '70000'"]),
    (["--net", "stream:x"], ["port 'x'"]),
    (["--net", "tap:tyn0", "-p", "80:80"], ["-p", "--net tap:tyn0"]),
    (["--mac", "52:54:00:12:34"], ["MAC", "52:54:00:12:34"]),
    (["--mac", "01:00:5e:00:00:01"], ["multicast"]),
    (["--net", "none", "--mac", "52:54:00:12:34:56"], ["--net none"]),
])
def test_bad_net_options(stub_guest, args, words):
    _bad(tyn_run(stub_guest(), "--accel", "tcg", *args), *words)


def test_dry_run_options(stub_guest):
    cmd = dry_run(stub_guest(), "--accel", "tcg", "--smp", "2", "-m", "2G", "--append", "a=1 b='x y'",
                  "--gdb", "--", "-d", "int")
    assert has_seq(cmd, "-smp", "2") and has_seq(cmd, "-m", "2048M")
    assert user_append(cmd) == "a=1 b='x y'"
    assert has_seq(cmd, "-s", "-S")
    assert cmd[-2:] == ["-d", "int"]


@pytest.mark.parametrize("text,mib", [("512M", 512), ("512", 512), ("2G", 2048), ("1g", 1024),
                                      ("65536k", 64), ("1GiB", 1024), ("16M", 16)])
def test_parse_memory(text, mib):
    assert qemu.parse_memory(text) == mib


def test_dry_run_does_not_need_qemu(stub_guest, tmp_path):
    proc = tyn_run(stub_guest(), "--accel", "tcg", "--dry-run", env={"PATH": str(tmp_path)})
    assert proc.returncode == 0 and proc.stdout.startswith("qemu-system-x86_64 ")


def test_help_documents_exit_statuses():
    proc = tyn_run("--help")
    assert proc.returncode == 0
    for status in (qemu.EXIT_BAD_INPUT, qemu.EXIT_QEMU_FAILED, qemu.EXIT_INTERRUPTED,
                   qemu.EXIT_NO_GUEST_STATUS, qemu.EXIT_PROTOCOL):
        assert f"\n  {status}  " in proc.stdout


def test_main_is_importable():
    assert run.main(["--dry-run", "--accel", "tcg", "/nonexistent"]) == qemu.EXIT_BAD_INPUT
