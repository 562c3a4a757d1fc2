"""The kernel's random generator at boot under QEMU: one console line names the sources
that seeded it; tyn.run's virtio-rng device is found and read on every machine type
(virtio-mmio on microvm, PCI on pc/q35), and without it the line says so."""
import re

import pytest

RANDOM_LINE = re.compile(r"tyn: random: ChaCha20 generator seeded from ([^\r\n]*)")


@pytest.mark.parametrize("machine", ["microvm", "pc", "q35"])
def test_virtio_rng_seeds_the_generator_on_each_machine(kernel_image, machine, boot):
    vm = boot(kernel_image, accel="tcg", machine=machine)
    vm.expect(RANDOM_LINE)
    vm.expect_exit(0)
    sources = RANDOM_LINE.search(vm.log).group(1)
    assert "virtio-rng (64 bytes)" in sources, vm.log
    assert "timing jitter (2048 samples)" in sources, vm.log
    assert vm.log.count("tyn: random:") == 1, vm.log


def test_without_virtio_rng_the_line_says_what_seeded_it(kernel_image, boot):
    vm = boot(kernel_image, accel="tcg", args=["--no-rng"])
    vm.expect(RANDOM_LINE)
    vm.expect_exit(0)
    sources = RANDOM_LINE.search(vm.log).group(1)
    assert "virtio-rng" not in sources and "timing jitter" in sources, vm.log
    assert "virtio-rng:" not in vm.log, vm.log          # no device, no complaint
