"""Images as tyn.build makes them by default (stripped .beam files; only the
applications needed) booted in the guest: a release (exactly its .rel's applications), and
a hello with gzip-compressed .beam files (--beams gz).
The Erlang exercise program (test_erlang_exercise.py), Elixir (test_userland.py) and
common_test (test_common_test.py) run on default images too."""

from tyn.build import beamstrip
from tyn.build.cpio import read_members
from tyn.hostrun import extract_cpio
from test_image_support import build_image, make_tiny_release

TINY_UP = 'tiny: up greeting="from sys.config" flag={ok,[["hello"]]} async=7'


def test_release_runs_in_the_guest(tmp_path, boot):
    rel = make_tiny_release(tmp_path / "rel")
    image = tmp_path / "rel.img"
    build_image("--release", rel, "-o", image)
    fs = {m.name: m for m in read_members(extract_cpio(image.read_bytes(), str(image)))}
    kept = [cid for cid, _ in beamstrip.parse_chunks(fs["otp/lib/tiny-0.1.0/ebin/tiny.beam"].data)]
    assert b"Code" in kept and set(kept) <= set(beamstrip.KEPT_CHUNKS)
    assert not any(n.startswith(("otp/lib/compiler-", "otp/lib/sasl-", "otp/lib/inets-")) for n in fs)
    vm = boot(image, accel="tcg", timeout=180)
    vm.expect(TINY_UP)
    vm.expect_exit(0)


def test_compressed_beams_load_in_the_guest(tmp_path, boot):
    image = tmp_path / "gz.img"
    build_image("--beams", "gz", "--eval", 'io:format("gz: ~p~n", [lists:sum([1, 2])]), halt(4).', "-o", image)
    vm = boot(image, accel="tcg", timeout=180)
    vm.expect("gz: 3")
    vm.expect_exit(4)
