"""The vDSO in both modes against Linux: tests/guest/vdso.c with vdso=tsc (clocks computed
in user mode) and vdso=syscall (every call falls back to the system call, as under KVM's
PVM), each printing exactly what it prints on the host.  The default (vdso=auto) runs in
test_guest_abi.py; the boot line names the mode chosen."""
from __future__ import annotations

import subprocess
import sys

import pytest

from test_guest_abi import REPO, RUN_TIMEOUT, boot_image, guest_stdout, musl_ok, program, reference  # noqa: F401



@pytest.mark.parametrize("mode", ["tsc", "syscall"])
def test_vdso_mode_matches_linux(musl_ok, mode, tmp_path, kernel_build_dir):
    want = reference("vdso", tmp_path)
    img = boot_image(program("vdso"), kernel_build_dir, tmp_path / "vdso.img")
    r = subprocess.run([sys.executable, "-m", "tyn.run", str(img), "--accel", "tcg", "--append", f"vdso={mode}"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT, cwd=REPO)
    console = r.stdout.decode(errors="replace")
    assert r.returncode == 0, console[-3000:]
    vdso_line = [line for line in console.splitlines() if line.startswith("tyn: vdso: ")]
    assert len(vdso_line) == 1 and ("read the TSC in user mode" in vdso_line[0]) == (mode == "tsc"), vdso_line
    assert guest_stdout(console) == want
