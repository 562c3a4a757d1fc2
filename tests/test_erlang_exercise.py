"""The Erlang exercise program (tests/erlang/tyn_exercise.erl) on Tyn and on Linux.

One image, built once: the module compiled by the host beam.smp, added with
`tyn.build image --add`, run with `--eval 'tyn_exercise:main().'`.  It is booted with
tyn.run and run with `python -m tyn.hostrun` (the same beam.smp and files on Linux); every
"ex <check>: <term>" line must be identical, except the checks named in DIFFERENT, each
with the reason and the value Tyn must print instead.
"""
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tyn.build import erts

import conftest

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "erlang" / "tyn_exercise.erl"
REPO = HERE.parent
PREFIX = "ex "
# The program prints 189 checks; far fewer means it lost some.
MIN_CHECKS = 180


def _host_cpus() -> str:
    return str(len(os.sched_getaffinity(0)))


def _host_os_version() -> str:
    nums = [int("".join(c for c in part if c.isdigit()) or 0) for part in platform.release().split("-")[0].split(".")]
    return "{" + ",".join(str(n) for n in (nums + [0, 0, 0])[:3]) + "}"


# check -> (why it legitimately differs, what Tyn prints, what Linux prints (None: not checked))
_CPUS = "the guest has --smp N CPUs (1, 2 or 4: one scheduler each); hostrun sees the host's CPUs"
_RO = "the guest's root filesystem is read-only (EROFS, as a read-only mount); hostrun's unpacked copy is writable"
DIFFERENT = {
    "rootfs.file_info": (_RO + " (access(W_OK))", "{regular,true,read}", "{regular,true,read_write}"),
    "rootfs.dir_info": (_RO + " (access(W_OK))", "{directory,read}", "{directory,read_write}"),
    "rootfs.write": (_RO, "{{error,erofs},{error,erofs},{error,erofs},{error,erofs}}", "{ok,ok,ok,ok}"),
    "sys.schedulers": (_CPUS, "1", None),
    "sys.schedulers_online": (_CPUS, "1", None),
    "sys.logical_processors": (_CPUS, "1", None),
    "sys.logical_processors_available": (_CPUS, "1", _host_cpus()),
    "sys.logical_processors_online": (_CPUS, "1", None),
    "sys.dirty_cpu_schedulers": (_CPUS, "1", None),
    "sys.os_version": ("uname's release: Tyn says 6.1.0-tyn, hostrun shows the host's kernel",
                       "{6,1,0}", _host_os_version()),
}


def checks(text: str) -> list[tuple[str, str]]:
    """The program's lines, in order, as (check, value)."""
    out = []
    for line in text.replace("\r\n", "\n").splitlines():
        if line.startswith(PREFIX):
            key, sep, value = line[len(PREFIX):].partition(": ")
            assert sep, f"malformed line {line!r}"
            out.append((key, value))
    return out


@pytest.fixture(scope="module", params=["interpreter", "jit"])
def image(request, tmp_path_factory) -> Path:
    """The exercise image with either ERTS flavour (BeamAsm: `--jit`, its code in
    memfd_create's dual mapping); hostrun runs the same flavour for the reference."""
    d = tmp_path_factory.mktemp(f"exercise-{request.param}")
    ebin = d / "ebin"
    ebin.mkdir()
    erts.compile_erlang(erts.HostBeam(erts.ensure_erts()), SOURCE, ebin)
    out = d / "exercise.img"
    # --busybox: the ports section's /bin/sh and echo (hostrun uses the host's).  Without
    # a shell the section would race on every CPU count above 1, on Linux as here: the shell
    # child's failed exec can close the pipe before os:cmd writes the command (epipe).
    p = subprocess.run([sys.executable, "-m", "tyn.build", "image", "--add", f"{ebin}:/app/ebin",
                        "--busybox", "--eval", "tyn_exercise:main().", "-o", str(out)]
                       + (["--jit"] if request.param == "jit" else []),
                       capture_output=True, text=True, cwd=REPO)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


@pytest.fixture(scope="module")
def linux(image) -> list[tuple[str, str]]:
    p = subprocess.run([sys.executable, "-m", "tyn.hostrun", str(image)], capture_output=True,
                       text=True, errors="replace", timeout=300, cwd=REPO, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    got = checks(p.stdout)
    _complete(got, p.stdout + p.stderr)
    return got


def _complete(got: list[tuple[str, str]], log: str) -> None:
    keys = [k for k, _ in got]
    assert len(keys) == len(set(keys)), "a check printed twice"
    assert "section_crashed" not in keys, log
    assert len(got) >= MIN_CHECKS and got[-1] == ("done", "ok"), log


@pytest.fixture(params=[pytest.param("kvm", marks=[pytest.mark.kvm, pytest.mark.slow]), "tcg"])
def exercise_accel(request) -> str:
    # The BEAM boots in ~45 s under the PVM KVM of our build machines (page-table writes
    # trap), in seconds under TCG: the KVM run is a slow test.
    if request.param == "kvm":
        ok, reason = conftest.kvm_status()
        if not ok:
            pytest.skip(f"KVM not usable here: {reason}")
    return request.param


def test_linux_reference_is_what_the_program_means(linux, image):
    """The reference run itself: a few values that pin down the program's meaning."""
    ref = dict(linux)
    assert ref["sys.emu_flavor"] == ("jit" if "jit" in image.parent.name else "emu")
    assert ref["proc.ring"] == "{300,3001}"
    assert ref["proc.fan_out"] == "{500,41791750,true}"
    assert ref["proc.linked_kill"] == "true"
    assert ref["ets.heir_transfer"] == "{inherited,true,[{from,heir_test}]}"
    assert ref["timer.order"] == "[a,b,c]"
    assert ref["tmp.eexist"] == "{{error,eexist},{error,eexist}}"
    assert ref["tmp.enotdir"] == "{{error,enotdir},{error,enotdir},{error,enotdir}}"
    assert ref["tmp.eisdir"] == "{{error,eisdir},{error,eisdir}}"
    assert ref["rootfs.otp_version"] == '{ok,<<"27.3.4.1\\n">>}'
    assert ref["sys.otp_release"] == '"27"'
    assert ref["port.os_cmd"] == '{ok,"hello\\n"}'
    assert ref["port.open_spawn"] == '{ok,{<<"port\\n">>,0}}'
    for key, (_why, _tyn, on_linux) in DIFFERENT.items():
        if on_linux is not None:
            assert ref[key] == on_linux, key


# Every CPU count: TCG runs --smp 2 really in parallel on this host's 2 cores; 4 is slow.
@pytest.mark.parametrize("smp", [1, 2, pytest.param(4, marks=pytest.mark.slow)])
def test_tyn_prints_what_linux_prints(image, linux, exercise_accel, smp, boot):
    vm = boot(image, accel=exercise_accel, args=["--smp", str(smp)],
              timeout=900 if exercise_accel == "kvm" else 300)
    vm.expect_exit(0)
    tyn = checks(vm.log)
    _complete(tyn, vm.log)
    assert [k for k, _ in tyn] == [k for k, _ in linux], "the checks ran in a different order"
    ref = dict(linux)
    same = [f"{k}: tyn {v} / linux {ref[k]}" for k, v in tyn if k not in DIFFERENT and v != ref[k]]
    assert not same, "differs from Linux:\n" + "\n".join(same)
    def tyn_expects(k):     # the CPU counts are the --smp given
        return str(smp) if DIFFERENT[k][0] == _CPUS else DIFFERENT[k][1]
    expected = [f"{k}: tyn {v}, expected {tyn_expects(k)} ({DIFFERENT[k][0]})"
                for k, v in tyn if k in DIFFERENT and v != tyn_expects(k)]
    assert not expected, "the named differences are not what Tyn should print:\n" + "\n".join(expected)
