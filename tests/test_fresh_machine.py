"""The README's demo command on what a newcomer has: a fresh clone, an empty TYN_CACHE and
no trixie apt source (scripts/fresh-check.sh).  Slow: it builds the ERTS from scratch."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="fresh-check removes and re-adds apt sources: needs root")
def test_demo_from_a_fresh_clone_with_an_empty_cache(tmp_path):
    p = subprocess.run([str(REPO / "scripts" / "fresh-check.sh"), str(tmp_path / "fresh")],
                       capture_output=True, text=True, timeout=3600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "fresh-check: ok: 'Hello from OTP 27 on Tyn!'" in p.stderr
    assert "source verified" in p.stderr
