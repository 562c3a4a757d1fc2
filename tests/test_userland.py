"""Real static musl programs and the real BEAM as init, booted under QEMU.

Each program is built with musl-gcc, put in an image as /init (tyn.build image --init)
and booted with tyn.run; its output and exit status are checked.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from guest import musl  # noqa: E402
import harness  # noqa: E402

USERLAND = Path(__file__).resolve().parent / "userland"
pytestmark = pytest.mark.skipif(musl.available() is not None, reason=str(musl.available()))


def init_image(tmp_path_factory, source: str) -> Path:
    exe = musl.build(USERLAND / source)
    out = tmp_path_factory.mktemp("img") / (Path(source).stem + ".img")
    subprocess.run([sys.executable, "-m", "tyn.build", "image", "--init", str(exe), "-o", str(out)],
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return {name: init_image(tmp_path_factory, name)
            for name in ("threads_hello.c", "signals.c", "forkexec.c", "procsig.c", "orphan.c")}


def program_output(log: str) -> str:
    return "\n".join(line for line in log.splitlines()
                     if not line.startswith(("tyn", "Tyn ")) and line.strip())


def test_threads_malloc_sleep_and_exit_status(images, accel, boot):
    vm = boot(images["threads_hello.c"], accel=accel)
    vm.expect_exit(3)
    out = program_output(vm.log)
    assert "hello from musl on tyn: argc=1 argv0=/init" in out
    assert "malloc ok 7" in out and "threads ok sum=12" in out and "slept >=20ms: 1" in out


def test_signals_match_linux(images, accel, boot):
    exe = musl.build(USERLAND / "signals.c")
    host = subprocess.run([str(exe)], capture_output=True, text=True)
    vm = boot(images["signals.c"], accel=accel)
    vm.expect_exit(134)                                   # abort(): SIGABRT, 128 + 6
    assert host.returncode == -6
    assert program_output(vm.log).splitlines() == host.stdout.splitlines()


def test_thread_and_process_signals_and_multithreaded_exit_match_linux(images, accel, boot):
    """pthread_kill to another thread, kill() of pids that exist or not, a child exiting
    while a second thread of it still runs, and the parent's SIGCHLD."""
    host = subprocess.run([str(musl.build(USERLAND / "procsig.c"))], capture_output=True, text=True)
    vm = boot(images["procsig.c"], accel=accel)
    vm.expect_exit(0)
    assert host.returncode == 0
    assert program_output(vm.log).splitlines() == host.stdout.splitlines()


def test_fork_exec_wait_and_the_process_limit(images, accel, boot):
    vm = boot(images["forkexec.c"], accel=accel, append="nproc=2")
    vm.expect_exit(0)
    out = program_output(vm.log)
    assert "grandchild fork: -1 errno=Resource temporarily unavailable" in out   # the limit nproc=2
    assert "child: exec ok, arg=hello pid>1:1 ppid=1" in out
    assert "parent: waited 1, exited=1 code=7" in out


def test_profile_counts_system_calls_and_page_faults(images):
    """profile=1: the kernel's counts when init exits (TCG: the figures, not the time)."""
    with harness.boot(images["threads_hello.c"], accel="tcg", append="profile=1") as vm:
        vm.expect_exit(3)
    counts = {m.group(1): int(m.group(2))
              for m in re.finditer(r"tyn: profile: (?:syscall )?([a-z_0-9 -]+?) count (\d+) total_us \d+", vm.log)}
    assert counts.get("page fault", 0) > 10, vm.log
    assert counts.get("clone", 0) >= 1 and counts.get("writev", 0) >= 1, vm.log
    assert counts.get("context switch", 0) >= 1, vm.log


def test_orphans_are_adopted_by_init(images, accel, boot):
    vm = boot(images["orphan.c"], accel=accel, append="nproc=3")
    vm.expect_exit(0)
    out = program_output(vm.log).splitlines()
    assert "grandchild: ppid after parent exit 1" in out
    assert "init: child reaped 1 code=0" in out
    assert "init: adopted grandchild reaped 1 code=5" in out
    assert "init: no more children 1" in out and "init: sigchld seen 1" in out


@pytest.fixture(scope="module")
def beam_hello(tmp_path_factory):
    out = tmp_path_factory.mktemp("beam") / "hello.img"
    subprocess.run([sys.executable, "-m", "tyn.build", "image", "--eval",
                    'io:format("Hello from OTP 27 on Tyn!~n"), halt(3).', "-o", str(out)],
                   check=True, capture_output=True)
    return out


def test_otp27_hello(beam_hello, accel, boot):
    # Under the PVM-based nested KVM of our build machines the boot takes a minute or
    # more (page-table writes trap into the hypervisor); under TCG about 1.5 s.
    vm = boot(beam_hello, accel=accel, timeout=300)
    vm.expect("Hello from OTP 27 on Tyn!")
    vm.expect_exit(3)


def test_spawning_ports_fails_cleanly_and_the_vm_keeps_running(tmp_path, boot):
    """The BEAM forks erl_child_setup for real (process 2); booted with nproc=2 its own
    forks meet the process limit (EAGAIN, as at RLIMIT_NPROC), which ERTS turns into an
    Erlang error.  (Without the limit and without /bin/sh: tests/test_busybox_ports.py.)"""
    image = tmp_path / "spawn.img"
    expr = ('io:format("cmd: ~p~n", [element(1, catch os:cmd("ls"))]), '
            'io:format("port: ~p~n", [catch element(1, element(2, catch open_port({spawn, "ls"}, [])))]), '
            'io:format("still running~n"), halt(5).')
    subprocess.run([sys.executable, "-m", "tyn.build", "image", "--eval", expr, "-o", str(image)],
                   check=True, capture_output=True)
    vm = boot(image, accel="tcg", timeout=180, append="nproc=2")
    vm.expect("cmd: 'EXIT'")
    vm.expect("port: eagain")
    vm.expect("still running")
    vm.expect_exit(5)


def test_elixir_runs(tmp_path, boot):
    image = tmp_path / "elixir.img"
    subprocess.run([sys.executable, "-m", "tyn.build", "image", "--elixir", "--eval",
                    "'Elixir.IO':puts('Elixir.System':version()), halt().", "-o", str(image)],
                   check=True, capture_output=True)
    vm = boot(image, accel="tcg", timeout=180)
    vm.expect("1.18.3")
    vm.expect_exit(0)
