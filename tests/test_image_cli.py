"""python -m tyn.build image: contents of the root filesystem for each mode, and bad input."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tyn.build import beamstrip, erts
from test_image_support import build_image, init_config, make_tiny_release, rootfs_of

def apps_in(fs) -> set[str]:
    """The application directories under /otp/lib of a root filesystem."""
    return {n.split("/")[2] for n in fs if n.startswith("otp/lib/") and n.count("/") >= 2}


def chunks_of(member) -> list[bytes]:
    return [cid for cid, _ in beamstrip.parse_chunks(beamstrip.decompress(member.data))]

ERTS_BIN = "otp/erts-15.2.7/bin"


@pytest.fixture(scope="module")
def erts_dir():
    return erts.ensure_erts()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, erts_dir):
    out = tmp_path_factory.mktemp("demo") / "demo.cpio"
    p = build_image("-o", out, "--format", "cpio")
    return out, p.stdout


def test_default_image_is_the_demo(demo, erts_dir):
    out, report = demo
    fs = rootfs_of(out)
    assert fs[f"{ERTS_BIN}/beam.smp"].data == (erts_dir / "bin/beam.smp").read_bytes()
    assert fs[f"{ERTS_BIN}/erl_child_setup"].is_file
    assert apps_in(fs) == {"kernel-10.2.7.1", "stdlib-6.2.2.1"}     # no more: kernel + stdlib
    for app in ("kernel-10.2.7.1", "stdlib-6.2.2.1"):
        assert f"otp/lib/{app}/ebin/{app.split('-')[0]}.app" in fs
    for boot in ("start.boot", "start_clean.boot"):
        assert fs[f"otp/bin/{boot}"].data == (erts_dir / "otp/bin" / boot).read_bytes()
    assert "otp/releases/27/OTP_VERSION" in fs
    assert "app/ebin/tyn_demo.beam" in fs
    assert b"domain " in fs["etc/resolv.conf"].data
    assert b"." in fs["etc/hostname"].data and b"localhost" in fs["etc/hosts"].data
    argv, env = init_config(fs)
    assert argv[0] == f"/{ERTS_BIN}/beam.smp" and "--" in argv
    assert argv[argv.index("-boot") + 1] == "/otp/bin/start_clean"
    assert argv[-3:] == ["-s", "tyn_demo", "main"] and "/app/ebin" in argv
    assert env["BINDIR"] == f"/{ERTS_BIN}" and env["ROOTDIR"] == "/otp" and env["EMU"] == "beam"
    assert "beam.smp" in report and "otp lib" in report
    assert "applications (2; .beam files: stripped)" in report
    assert [line.split()[0] for line in report.splitlines() if line.endswith("MiB  boot (start_clean)")] == \
        ["kernel-10.2.7.1", "stdlib-6.2.2.1"]


def test_every_beam_is_stripped(demo):
    """Each .beam holds only the chunks the loader reads (no Dbgi, Docs, LocT)."""
    fs = rootfs_of(demo[0])
    beams = [m for n, m in fs.items() if n.endswith(".beam")]
    assert len(beams) > 150
    for m in beams:
        assert m.data[:4] == beamstrip.IFF_FORM, m.name
        kept = chunks_of(m)
        assert set(kept) <= set(beamstrip.KEPT_CHUNKS) and b"Code" in kept, (m.name, kept)
    assert b"Attr" in chunks_of(fs["otp/lib/stdlib-6.2.2.1/ebin/lists.beam"])


def test_full_beams_are_carried_as_shipped(tmp_path, erts_dir):
    out = tmp_path / "full.cpio"
    p = build_image("-o", out, "--format", "cpio", "--beams", "full", "--eval", "halt().")
    fs = rootfs_of(out)
    lists = "otp/lib/stdlib-6.2.2.1/ebin/lists.beam"
    assert fs[lists].data == (erts_dir / lists).read_bytes()
    assert b"Dbgi" in chunks_of(fs[lists]) and b"Docs" in chunks_of(fs[lists])
    assert ".beam files: as shipped" in p.stdout


def test_stripped_compressed_beams(tmp_path):
    out = tmp_path / "gz.cpio"
    p = build_image("-o", out, "--format", "cpio", "--beams", "gz", "--eval", "halt().")
    m = rootfs_of(out)["otp/lib/kernel-10.2.7.1/ebin/code.beam"]
    assert m.data[:2] == beamstrip.GZIP_MAGIC and b"Dbgi" not in chunks_of(m)
    assert ".beam files: stripped, gzip-compressed" in p.stdout


def test_image_is_reproducible(demo, tmp_path):
    again = tmp_path / "again.cpio"
    build_image("-o", again, "--format", "cpio")
    assert again.read_bytes() == demo[0].read_bytes()


def test_eval_and_elixir(tmp_path):
    out = tmp_path / "ex.cpio"
    p = build_image("-o", out, "--format", "cpio", "--elixir", "--eval", "'Elixir.IO':puts('Elixir.System':version()), halt().")
    fs = rootfs_of(out)
    assert "compiler-8.6.1" in p.stdout and "required by elixir" in p.stdout
    assert "otp/lib/elixir-1.18.3/ebin/elixir.app" in fs and "otp/lib/logger-1.18.3/ebin/logger.app" in fs
    assert apps_in(fs) == {"kernel-10.2.7.1", "stdlib-6.2.2.1", "compiler-8.6.1", "elixir-1.18.3", "logger-1.18.3"}
    assert "app/ebin/tyn_demo.beam" not in fs
    argv, _ = init_config(fs)
    assert argv[-2:] == ["-eval", "'Elixir.IO':puts('Elixir.System':version()), halt()."]


def test_otp_app_pulls_application_and_dependencies(tmp_path):
    out = tmp_path / "rt.cpio"
    p = build_image("-o", out, "--format", "cpio", "--otp-app", "runtime_tools", "--eval", "halt().")
    names = rootfs_of(out)
    assert any(n.startswith("otp/lib/runtime_tools-") and n.endswith("/ebin/runtime_tools.app") for n in names)
    assert apps_in(names) == {"kernel-10.2.7.1", "stdlib-6.2.2.1", "runtime_tools-2.1.1"}
    assert any(line.split()[0] == "runtime_tools-2.1.1" and line.endswith("--otp-app") for line in p.stdout.splitlines())
    assert not any(n.endswith(".so") for n in names)


def test_add_files_and_ebin(tmp_path, demo):
    ebin = tmp_path / "myapp" / "ebin"
    ebin.mkdir(parents=True)
    shutil.copy(next(Path("/").glob("nonexistent")) if False else _demo_beam(demo[0], tmp_path), ebin / "x.beam")
    (tmp_path / "notes.txt").write_text("hello")
    out = tmp_path / "add.cpio"
    build_image("-o", out, "--format", "cpio", "--eval", "halt().",
                "--add", f"{tmp_path / 'myapp'}:/srv/myapp", "--add", f"{tmp_path / 'notes.txt'}:/data/notes.txt")
    fs = rootfs_of(out)
    assert fs["data/notes.txt"].data == b"hello" and "srv/myapp/ebin/x.beam" in fs
    argv, _ = init_config(fs)
    assert argv[argv.index("-pa") + 1] == "/srv/myapp/ebin"


def _demo_beam(cpio, tmp_path):
    p = tmp_path / "tyn_demo.beam"
    p.write_bytes(rootfs_of(cpio)["app/ebin/tyn_demo.beam"].data)
    return p


def test_release_image(tmp_path):
    rel = make_tiny_release(tmp_path / "rel")
    out = tmp_path / "rel.cpio"
    p = build_image("-o", out, "--format", "cpio", "--release", rel)
    fs = rootfs_of(out)
    assert "otp/lib/tiny-0.1.0/ebin/tiny.beam" in fs
    # Exactly the .rel's applications: kernel and stdlib from OTP, tiny from the release.
    assert apps_in(fs) == {"kernel-10.2.7.1", "stdlib-6.2.2.1", "tiny-0.1.0"}
    assert chunks_of(fs["otp/lib/tiny-0.1.0/ebin/tiny.beam"])[0] in beamstrip.KEPT_CHUNKS
    assert "release tiny (its lib/)" in p.stdout and "kernel-10.2.7.1" in p.stdout
    assert "otp/releases/0.1.0/start.boot" in fs and "otp/releases/0.1.0/sys.config" in fs
    argv, env = init_config(fs)
    sep = argv.index("--")
    assert argv[1:sep] == ["-A", "7"]                      # +A 7 from vm.args: an emulator flag
    assert "-tiny_flag" in argv[sep:]
    assert argv[argv.index("-boot") + 1] == "/otp/releases/0.1.0/start"
    assert argv[argv.index("-config") + 1] == "/otp/releases/0.1.0/sys"
    assert env["RELEASE_VSN"] == "0.1.0"


# ---- bad input: one line on stderr, non-zero exit, no file left behind ----

def _fails_cleanly(outdir: Path, *args, match: str):
    before = set(os.listdir(outdir))
    p = build_image("-o", outdir / "img", *args, check=False)
    err = p.stderr.strip().splitlines()
    assert p.returncode != 0
    err = [l for l in err if not l.startswith("[erts-build]")]
    assert len(err) == 1, p.stderr
    assert match in err[0], err[0]
    assert set(os.listdir(outdir)) == before, "partial output left behind"


def test_missing_release_dir(tmp_path):
    _fails_cleanly(tmp_path, "--release", tmp_path / "nope", match="does not exist")


def test_release_without_start_boot(tmp_path):
    rel = make_tiny_release(tmp_path / "rel")
    (rel / "releases/0.1.0/start.boot").unlink()
    _fails_cleanly(tmp_path, "--release", rel, match="no releases/0.1.0/start.boot")


def test_release_with_garbage_boot_file(tmp_path):
    rel = make_tiny_release(tmp_path / "rel")
    (rel / "releases/0.1.0/start.boot").write_text("not a boot file")
    _fails_cleanly(tmp_path, "--release", rel, match="not a boot file")


def test_release_not_a_release(tmp_path):
    (tmp_path / "junk").mkdir()
    _fails_cleanly(tmp_path, "--release", tmp_path / "junk", match="no releases/ directory")


def test_release_for_another_otp_major(tmp_path):
    rel = make_tiny_release(tmp_path / "rel")
    (rel / "releases/start_erl.data").write_text("14.2.5 0.1.0\n")
    relfile = rel / "releases/0.1.0/tiny.rel"
    relfile.write_text(relfile.read_text().replace('"15.2.7"', '"14.2.5"'))
    _fails_cleanly(tmp_path, "--release", rel, match="built for OTP 26")


def test_release_needing_other_kernel(tmp_path):
    rel = make_tiny_release(tmp_path / "rel")
    relfile = rel / "releases/0.1.0/tiny.rel"
    relfile.write_text(relfile.read_text().replace('"10.2.7.1"', '"9.2.4"'))
    _fails_cleanly(tmp_path, "--release", rel, match="needs kernel-9.2.4")


@pytest.mark.parametrize("expr", ["io:format(\"hi\" halt().", "foo(", "1 + .", "\"unterminated"])
def test_invalid_eval(tmp_path, expr):
    _fails_cleanly(tmp_path, "--eval", expr, match="--eval is not valid Erlang")


def test_bad_add_spec(tmp_path):
    _fails_cleanly(tmp_path, "--add", "no-colon", match="expected HOSTPATH:/GUEST/PATH")
    _fails_cleanly(tmp_path, "--add", f"{tmp_path}/missing:/x", match="does not exist")


def test_unknown_otp_app(tmp_path):
    _fails_cleanly(tmp_path, "--otp-app", "no_such_app", "--eval", "halt().", match="no_such_app")


def test_unknown_option(tmp_path):
    _fails_cleanly(tmp_path, "--frobnicate", match="unrecognized arguments")


def test_no_disk_space(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({p.stderr.strip() or 'not root'})")
    try:
        for fmt in ("cpio", "boot"):
            _fails_cleanly(mnt, "--format", fmt, match="no space left on device")
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_boot_image_carries_the_rootfs(tmp_path, demo):
    from tyn.hostrun import extract_cpio
    out = tmp_path / "demo.img"
    p = build_image("-o", out, check=False)
    if p.returncode != 0 and "initfs_descriptor" in p.stderr:
        pytest.skip("the kernel does not embed a root filesystem yet: " + p.stderr.strip())
    assert p.returncode == 0, p.stderr
    assert out.read_bytes()[:4] == b"\x7fELF"
    assert extract_cpio(out.read_bytes(), str(out)) == demo[0].read_bytes()
    assert "kernel" in p.stdout and "rootfs" in p.stdout


def test_beams_option_needs_a_beam_image(tmp_path):
    _fails_cleanly(tmp_path, "--init", "/bin/sh", "--beams", "full", match="--init cannot be combined with --beams")


def test_bad_beams_mode(tmp_path):
    _fails_cleanly(tmp_path, "--beams", "tiny", match="invalid choice: 'tiny'")
