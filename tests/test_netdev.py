"""net/netdev: the device list, the receive path's counting, MAC text; and the
virtio_mmio.device= parser (Linux's <size>@<base>:<irq> syntax)."""
import pytest

from tyn.twins import netdev_twin as nd

KEEP = []   # netdev structs must outlive the list that points at them


@pytest.fixture(autouse=True)
def fresh():
    nd.reset()
    yield
    nd.reset()


def device(name=b""):
    d = nd.Device(name)
    KEEP.append(d)
    return d


def test_register_names_and_indexes_in_order():
    a, b, c = device(), device(b"lo0"), device()
    assert [a.register(), b.register(), c.register()] == [1, 2, 3]
    assert (a.name, b.name, c.name) == ("eth0", "lo0", "eth2")
    assert nd.names() == ["eth0", "lo0", "eth2"]
    assert nd.by_index(2) == "lo0" and nd.by_index(4) is None
    assert nd.by_name(b"eth2") == 3 and nd.by_name(b"eth1") is None


def test_many_devices_get_multi_digit_names():
    devs = [device() for _ in range(12)]
    for d in devs:
        d.register()
    assert devs[11].name == "eth11"


def test_input_counts_and_delivers_frames():
    d = device()
    d.register()
    d.listen()
    d.input(b"\x01" * 60)
    d.input(b"\x02" * nd.FRAME_MAX)
    assert nd.received_frames() == [(1, b"\x01" * 60), (1, b"\x02" * nd.FRAME_MAX)]
    s = d.stats
    assert s["rx_packets"] == 2 and s["rx_bytes"] == 60 + nd.FRAME_MAX
    assert s["rx_errors"] == s["rx_dropped"] == 0


@pytest.mark.parametrize("length", [0, 1, nd.HLEN - 1, nd.FRAME_MAX + 1, 9000])
def test_frames_of_impossible_length_are_counted_as_errors(length):
    d = device()
    d.register()
    d.listen()
    d.input(b"\0" * length)
    assert nd.received_frames() == []
    assert d.stats["rx_errors"] == 1 and d.stats["rx_packets"] == 0


def test_frames_without_a_stack_are_dropped_and_counted():
    d = device()
    d.register()
    d.input(b"\0" * 60)
    assert d.stats["rx_dropped"] == 1 and d.stats["rx_packets"] == 0


def test_format_mac():
    assert nd.format_mac(bytes.fromhex("525400ABCDEF")) == "52:54:00:ab:cd:ef"
    assert nd.format_mac(bytes(6)) == "00:00:00:00:00:00"


@pytest.mark.parametrize("text,parsed", [
    (b"512@0xfeb00000:16", (0xFEB00000, 512, 16)),
    (b"0x200@0xfeb00e00:23", (0xFEB00E00, 512, 23)),
    (b"4K@0xd0000000:5", (0xD0000000, 4096, 5)),
    (b"1M@4096:7:3", (4096, 1 << 20, 7)),
    (b"1g@0x100000000:40", (1 << 32, 1 << 30, 40)),
])
def test_mmio_device_parses(text, parsed):
    assert nd.parse_mmio_device(text) == parsed


@pytest.mark.parametrize("text", [b"", b"512", b"512@", b"512@0xfeb00000", b"512@0xfeb00000:",
                                  b"@0xfeb00000:16", b"0@0xfeb00000:16", b"512@0xfeb00000:16x",
                                  b"512@0xzz:16", b"512@0xfeb00000:99999999999",
                                  b"512@0xfeb00000:16:", b"512X@0x1000:1"])
def test_mmio_device_rejects(text):
    assert nd.parse_mmio_device(text) is None
