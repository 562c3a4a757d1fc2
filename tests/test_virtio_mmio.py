"""drivers/virtio_mmio: the virtio_mmio.device= parser (Linux's <size>@<base>:<irq>[:<id>])."""
import pytest

from tyn.twins import virtio_mmio_twin as vm


@pytest.mark.parametrize("text,parsed", [
    (b"512@0xfeb00000:16", (0xFEB00000, 512, 16)),
    (b"0x200@0xfeb00e00:23", (0xFEB00E00, 512, 23)),
    (b"4K@0xd0000000:5", (0xD0000000, 4096, 5)),
    (b"1M@4096:7:3", (4096, 1 << 20, 7)),
    (b"1g@0x100000000:40", (1 << 32, 1 << 30, 40)),
])
def test_parses(text, parsed):
    assert vm.parse_device(text) == parsed


@pytest.mark.parametrize("text", [b"", b"512", b"512@", b"512@0xfeb00000", b"512@0xfeb00000:",
                                  b"@0xfeb00000:16", b"0@0xfeb00000:16", b"512@0xfeb00000:16x",
                                  b"512@0xzz:16", b"512@0xfeb00000:99999999999",
                                  b"512@0xfeb00000:16:", b"512X@0x1000:1"])
def test_rejects(text):
    assert vm.parse_device(text) is None
