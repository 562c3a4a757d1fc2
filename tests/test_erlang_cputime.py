"""erlang:statistics(runtime) reports real CPU time in the guest (tests/erlang/tyn_cputime.erl):
it grows with a busy loop and stays nearly flat while the VM sleeps, as under hostrun (Linux).
The kernel charges each thread's user and kernel time at kernel entry/exit and context
switches (proc/cputime); ERTS reads it through clock_gettime(CLOCK_PROCESS_CPUTIME_ID)/getrusage."""
import subprocess
import sys
from pathlib import Path

import pytest

from tyn.build import erts

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "erlang" / "tyn_cputime.erl"
REPO = HERE.parent
PREFIX = "cpu "
EXPECTED = [("busy_loop_accumulates_runtime", "true"), ("busy_not_more_than_wall", "true"),
            ("sleep_stays_flat", "true"), ("runtime_monotonic", "true"), ("done", "ok")]


def checks(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.replace("\r\n", "\n").splitlines():
        if line.startswith(PREFIX) and not line.startswith(PREFIX + "raw:"):
            key, _, value = line[len(PREFIX):].partition(": ")
            out.append((key, value))
    return out


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cputime")
    ebin = d / "ebin"
    ebin.mkdir()
    erts.compile_erlang(erts.HostBeam(erts.ensure_erts()), SOURCE, ebin)
    out = d / "cputime.img"
    p = subprocess.run([sys.executable, "-m", "tyn.build", "image", "--add", f"{ebin}:/app/ebin",
                        "--eval", "tyn_cputime:main().", "-o", str(out)],
                       capture_output=True, text=True, cwd=REPO)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


def test_linux_reference(image):
    p = subprocess.run([sys.executable, "-m", "tyn.hostrun", str(image)], capture_output=True,
                       text=True, timeout=300, cwd=REPO, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    assert checks(p.stdout) == EXPECTED, p.stdout


def test_guest_runtime_follows_cpu_use(image, boot):
    vm = boot(image, accel="tcg", timeout=300)
    vm.expect_exit(0)
    assert checks(vm.log) == EXPECTED, vm.log
