"""SMP bring-up under TCG: every CPU the MADT lists comes up and idles, on microvm, pc and
q35 (qboot and SeaBIOS); the TSC check reports; the BEAM still boots (on the boot CPU)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BootFailure  # noqa: E402

CPUS_LINE = re.compile(r"tyn: smp: (\d+) CPUs? \(MADT: (\d+)\)(, APs up in (\d+) us)?\r?\n")
TSC_LINE = re.compile(r"tyn: smp: TSC (invariant|not invariant \(CPUID 80000007h\))"
                      r"(, in sync across CPUs: max skew 0 cycles in (\d+) handshakes"
                      r"|, NOT in sync across CPUs: [^\r\n]*)?\r?\n")
HELLO = "Hello from OTP 27 on Tyn!"
CONFIGS = [(machine, firmware, cpus)
           for machine, firmware in [("microvm", None), ("pc", "qboot"), ("q35", "qboot")]
           for cpus in (1, 2, 4)]
BOOT_TIMEOUT = 60


def args_for(firmware, cpus):
    return ["--smp", str(cpus)] + (["--firmware", firmware] if firmware else [])


def check_bring_up(vm, cpus):
    """The CPU line says every CPU came up, the TSC line follows; the kernel powers off."""
    line = vm.expect(CPUS_LINE)
    m = CPUS_LINE.search(line)
    assert (int(m.group(1)), int(m.group(2))) == (cpus, cpus), line
    assert (m.group(3) is not None) == (cpus > 1), line
    tsc = TSC_LINE.search(vm.expect(TSC_LINE))
    if cpus > 1:
        # TCG derives every vCPU's TSC from one host clock: in sync.
        assert tsc.group(2) and "max skew 0 cycles" in tsc.group(2), vm.log
        assert int(tsc.group(3)) > 0
    else:
        assert tsc.group(2) is None
    vm.expect_exit(0)
    assert "skipped" not in vm.log and "unexpected interrupt" not in vm.log, vm.log


@pytest.mark.parametrize("machine,firmware,cpus", CONFIGS,
                         ids=[f"{m}-{c}cpu" for m, _, c in CONFIGS])
def test_every_cpu_comes_up(kernel_image, boot, machine, firmware, cpus):
    vm = boot(kernel_image, accel="tcg", machine=machine, args=args_for(firmware, cpus),
              timeout=BOOT_TIMEOUT)
    check_bring_up(vm, cpus)


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_seabios_madt(kernel_image, boot, machine):
    vm = boot(kernel_image, accel="tcg", machine=machine, args=args_for("seabios", 2),
              timeout=BOOT_TIMEOUT)
    check_bring_up(vm, 2)


def test_more_cpus_than_one_host_core_each(kernel_image, boot):
    """8 vCPUs on this 2-core host: APs answer late, still every one comes up."""
    vm = boot(kernel_image, accel="tcg", args=args_for(None, 8), timeout=BOOT_TIMEOUT)
    check_bring_up(vm, 8)


@pytest.fixture(scope="module")
def beam_hello(tmp_path_factory):
    out = tmp_path_factory.mktemp("smp") / "hello.img"
    subprocess.run([sys.executable, "-m", "tyn.build", "image", "--eval",
                    f'io:format("{HELLO}~n"), halt(3).', "-o", str(out)],
                   check=True, capture_output=True)
    return out


def test_beam_boots_with_two_cpus(beam_hello, boot):
    vm = boot(beam_hello, accel="tcg", args=["--smp", "2"], timeout=120)
    line = vm.expect(CPUS_LINE)
    assert CPUS_LINE.search(line).group(1) == "2"
    vm.expect(HELLO)
    vm.expect_exit(3)


@pytest.mark.slow
def test_each_configuration_boots_5_times(kernel_image, boot):
    failures = []
    for machine, firmware, cpus in CONFIGS:
        for run in range(1, 6):
            vm = boot(kernel_image, accel="tcg", machine=machine, args=args_for(firmware, cpus),
                      timeout=BOOT_TIMEOUT)
            try:
                check_bring_up(vm, cpus)
            except (BootFailure, AssertionError) as e:
                failures.append(f"===== {machine} --smp {cpus}, run {run} =====\n{e}")
            finally:
                vm.close()
    assert not failures, f"{len(failures)} boots failed\n" + "\n".join(failures)
