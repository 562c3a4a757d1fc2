"""An image with common_test runs a small suite, in the guest and under hostrun.

Debian's erlang-common-test makes priv/jquery*.js symlinks into libjs-jquery(-tablesorter);
ct:run_test copies them into the log directory, so an image that dropped them could not
start a run ("Priv file ... could not be copied ... enoent").  The suite has two passing
cases, one failing and one skipped: ct's result {Ok, Failed, {UserSkipped, AutoSkipped}}
must be exactly {2,1,{1,0}}.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tyn.build import erts
from test_image_support import REPO, build_image

SUITE = REPO / "tests" / "erlang" / "ct" / "tyn_smoke_SUITE.erl"
# The suite is compiled on the host (the images carry no include/ directories, which
# Debian ships in erlang-dev), so ct runs it with auto_compile off.  Paths are relative to
# the working directory, the root filesystem in both the guest and hostrun.
RUN_SUITE = ('R = ct:run_test([{dir, "suites"}, {suite, tyn_smoke_SUITE}, {logdir, "tmp"}, '
             '{auto_compile, false}]), io:format("CT-RESULT ~p~n", [R]), halt(0).')
EXPECTED = "CT-RESULT {2,1,{1,0}}"


@pytest.fixture(scope="module")
def ct_image(tmp_path_factory):
    work = tmp_path_factory.mktemp("ct")
    suites = work / "suites"
    suites.mkdir()
    erts.compile_erlang(erts.HostBeam(erts.ensure_erts()), SUITE, suites)
    image = work / "ct.img"
    build_image("--otp-app", "common_test", "--add", f"{suites}:/suites", "--eval", RUN_SUITE, "-o", image)
    return image


def test_suite_runs_in_the_guest(ct_image, boot):
    vm = boot(ct_image, accel="tcg", timeout=300)
    vm.expect_exit(0)
    assert EXPECTED in vm.log, vm.log[-3000:]
    assert "TEST COMPLETE, 2 ok, 1 failed, 1 skipped of 4 test cases" in vm.log


def test_suite_runs_under_hostrun(ct_image):
    p = subprocess.run([sys.executable, "-m", "tyn.hostrun", str(ct_image)], capture_output=True, text=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert EXPECTED in p.stdout, p.stdout[-3000:]
