"""Boot reliability: the OTP 27 hello image booted many times in a row, every boot must
print the hello and exit 0.  A short sample runs by default; the 100-boot loop is slow
(--run-slow / TYN_SLOW=1; TYN_RELIABILITY_ACCEL=kvm runs it under KVM).  Each failure
names its run and carries the whole console log.  bench/reliability.py prints the tally.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BootFailure  # noqa: E402

HELLO = "Hello from OTP 27 on Tyn!"
SAMPLE_BOOTS = 5
FULL_BOOTS = 100
SMP_SAMPLE_BOOTS = 4
SMP_FULL_BOOTS = 300
BOOT_TIMEOUT = 300           # a PVM-based nested KVM boot can take minutes; TCG ~1.5 s


@pytest.fixture(scope="module")
def hello_image(tmp_path_factory):
    out = tmp_path_factory.mktemp("reliability") / "hello.img"
    subprocess.run([sys.executable, "-m", "tyn.build", "image", "--eval",
                    f'io:format("{HELLO}~n"), halt().', "-o", str(out)],
                   check=True, capture_output=True)
    return out


def boot_many(boot, image, count: int, accel: str, smps=(1,)) -> None:
    """Boot `count` times (going round the CPU counts in `smps`); fail with every failed
    run's number, CPU count and whole log."""
    failures = []
    for run in range(1, count + 1):
        smp = smps[(run - 1) % len(smps)]
        vm = boot(image, accel=accel, timeout=BOOT_TIMEOUT, args=["--smp", str(smp)])
        try:
            vm.expect(HELLO)
            vm.expect_exit(0)
        except BootFailure as e:
            failures.append(f"===== run {run} of {count} ({accel}, --smp {smp}) failed =====\n{e}")
        finally:
            vm.close()
    if failures:
        pytest.fail(f"{len(failures)} of {count} boots failed under {accel}\n" + "\n".join(failures),
                    pytrace=False)


def test_hello_boots_reliably_sample(hello_image, boot):
    boot_many(boot, hello_image, SAMPLE_BOOTS, "tcg")


def test_hello_boots_reliably_sample_on_several_cpus(hello_image, boot):
    boot_many(boot, hello_image, SMP_SAMPLE_BOOTS, "tcg", smps=(2, 4))


@pytest.mark.slow
def test_hello_boots_300_times_over_1_2_4_cpus(hello_image, boot):
    """Issue 10's acceptance: 300 cold boots spread over --smp 1/2/4, no hang, no crash."""
    boot_many(boot, hello_image, SMP_FULL_BOOTS, "tcg", smps=(1, 2, 4))


@pytest.mark.slow
def test_hello_boots_100_times_in_a_row(hello_image, boot):
    accel = os.environ.get("TYN_RELIABILITY_ACCEL", "tcg")
    if accel == "kvm":
        from conftest import kvm_status
        ok, why = kvm_status()
        if not ok:
            pytest.skip(f"KVM not usable here: {why}")
    boot_many(boot, hello_image, FULL_BOOTS, accel)


def test_a_failing_boot_is_reported_with_its_run_number_and_log(stub_guest, boot):
    """The loop itself can fail: a guest that never prints the hello fails every run."""
    image = stub_guest(message=b"no greeting from this guest\n", status=0)
    with pytest.raises(pytest.fail.Exception) as failed:
        boot_many(boot, image, 2, "tcg")
    text = str(failed.value)
    assert "2 of 2 boots failed under tcg" in text
    assert "===== run 1 of 2 (tcg, --smp 1) failed" in text and "===== run 2 of 2 (tcg, --smp 1) failed" in text
    assert text.count("no greeting from this guest") == 2
