"""Shared fixtures: kernel images built once per session, accelerators, boots.

  kernel_image    build/tyn.elf-equivalent (normal build), built once per session
  selftest_image  the selftest build (`python -m tyn.build kernel --selftest`)
  accel           parametrized "kvm" (skipped with the reason when /dev/kvm does not work) and "tcg"
  boot            factory: boot(image, accel=..., append=..., timeout=...) -> harness.Boot,
                  stopped at teardown
  stub_guest      factory: a tiny multiboot ELF (tyn.qemu.stub_guest) for testing tyn.run itself

Slow tests (@pytest.mark.slow) run only with --run-slow or TYN_SLOW=1.
Kernels are built (incrementally, under a lock, so concurrent sessions are safe) in
build/test/ beside the developer's build/kernel; TYN_TEST_BUILD_DIR overrides the place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hyp_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from tyn import qemu  # noqa: E402


# ------------------------------------------------------------- Hypothesis
# The default profile is derandomized: the README's test command (and so CI) draws the
# same examples on every run, so two runs give the same pass/fail set.  Examples a random
# run once found are kept as explicit @example regression cases beside their tests.
# `scripts/explore.sh` runs the Hypothesis tests with random seeds and EXPLORE_SCALE times
# as many examples, to find new ones.
HYPOTHESIS_PROFILE_ENV = "TYN_HYPOTHESIS"
EXPLORE_SCALE_ENV = "TYN_HYPOTHESIS_SCALE"
hyp_settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
hyp_settings.register_profile("explore", derandomize=False, print_blob=True)
_profile = os.environ.get(HYPOTHESIS_PROFILE_ENV, "deterministic")
if _profile not in ("deterministic", "explore"):
    raise pytest.UsageError(f"{HYPOTHESIS_PROFILE_ENV}={_profile!r}: want deterministic or explore")
hyp_settings.load_profile(_profile)


def _explore_more(items) -> None:
    """Under the explore profile, scale every Hypothesis test's own max_examples."""
    scale = int(os.environ.get(EXPLORE_SCALE_ENV, "10"))
    for item in items:
        fn = getattr(item, "obj", None)
        current = getattr(fn, "_hypothesis_internal_use_settings", None)
        if current is not None:
            fn._hypothesis_internal_use_settings = hyp_settings(
                current, max_examples=current.max_examples * scale, derandomize=False)
        cls = getattr(item, "cls", None)
        machine = getattr(cls, "settings", None)
        if isinstance(machine, hyp_settings) and getattr(cls, "_tyn_scaled", False) is False:
            cls.settings = hyp_settings(machine, max_examples=machine.max_examples * scale,
                                        derandomize=False)
            cls._tyn_scaled = True


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run tests marked slow (or set TYN_SLOW=1)")


def _slow_enabled(config) -> bool:
    return config.getoption("--run-slow") or os.environ.get("TYN_SLOW", "") not in ("", "0")


def pytest_collection_modifyitems(config, items):
    if _profile == "explore":
        _explore_more(items)
    if _slow_enabled(config):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow or TYN_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


# ------------------------------------------------------------------ kernels

@pytest.fixture(scope="session")
def kernel_build_dir() -> Path:
    from tyn.build import layout
    d = Path(os.environ.get("TYN_TEST_BUILD_DIR") or layout.DEFAULT_BUILD_DIR / "test")
    d.mkdir(parents=True, exist_ok=True)
    return d


def _build_image(build_dir: Path, selftest: bool, out_dir: Path) -> Path:
    """Build into build_dir (shared, locked); the boot image goes to this session's out_dir."""
    from tyn.build import bootimage, kernel
    out = out_dir / ("tyn-selftest.elf" if selftest else "tyn.elf")
    try:
        elf = harness.build_kernel(build_dir, selftest)
        bootimage.write_boot_image(elf, None, out)
    except (kernel.BuildError, bootimage.ImageError) as e:
        pytest.fail(f"kernel build ({'selftest' if selftest else 'kernel'}) failed: {e}", pytrace=False)
    return out


@pytest.fixture(scope="session")
def _images_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("images")


@pytest.fixture(scope="session")
def kernel_image(kernel_build_dir, _images_dir) -> Path:
    return _build_image(kernel_build_dir, False, _images_dir)


@pytest.fixture(scope="session")
def selftest_image(kernel_build_dir, _images_dir) -> Path:
    return _build_image(kernel_build_dir, True, _images_dir)


# ------------------------------------------------------------ accelerators

_kvm = None


def kvm_status() -> tuple[bool, str]:
    global _kvm
    if _kvm is None:
        _kvm = qemu.kvm_status()
    return _kvm


# KVM runs are slow-marked: /dev/kvm on our build machines is PVM, where a boot takes
# ~15x longer than under TCG (users run hardware KVM, so these still run with --run-slow).
@pytest.fixture(params=[pytest.param("kvm", marks=[pytest.mark.kvm, pytest.mark.slow]), "tcg"])
def accel(request) -> str:
    if request.param == "kvm":
        ok, reason = kvm_status()
        if not ok:
            pytest.skip(f"KVM not usable here: {reason}")
    return request.param


# ------------------------------------------------------------------- boots

@pytest.fixture
def boot():
    """boot(image, accel=..., append=..., timeout=..., machine=..., args=[...]) -> harness.Boot."""
    started: list[harness.Boot] = []

    def start(image, **kwargs) -> harness.Boot:
        vm = harness.boot(image, **kwargs)
        started.append(vm)
        return vm

    yield start
    for vm in started:
        vm.close()


@pytest.fixture
def stub_guest(tmp_path):
    """stub_guest(message=b'', status=0, triple_fault=False, echo_until=None) -> Path."""
    count = [0]

    def make(*args, **kwargs) -> Path:
        count[0] += 1
        return qemu.write_stub_guest(tmp_path / f"stub{count[0]}.elf", *args, **kwargs)

    return make


@pytest.fixture
def namespace():
    """A network namespace with a tap device for a guest (tests/netload_support.py), or a
    skip naming what this machine lacks."""
    import netload_support as nl
    ok, why = nl.namespace_available()
    if not ok:
        pytest.skip(f"no network namespace with a tap device here: {why}")
    with nl.tap_namespace() as ns:
        yield ns


@pytest.fixture
def netns():
    """A private network namespace with only its loopback up (its name): port forwards and
    host-side nodes meet there, not on the machine's own loopback."""
    import subprocess
    name = f"tyn-netns-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace (needs root and iproute2)")
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
