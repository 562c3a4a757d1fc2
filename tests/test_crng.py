"""lib/chacha20 against RFC 8439's test vectors, and lib/crng (the kernel's generator):
its construction (fast key erasure over the block function), mixing, seeding sources and
the boot line that names them."""

import pytest

from tyn.twins import crng_twin as crng
from tyn.twins import machine

KEY_0_31 = bytes(range(32))

# RFC 8439 section 2.3.2: the block function.
BLOCK_NONCE = bytes.fromhex("000000090000004a00000000")
BLOCK_OUT = bytes.fromhex(
    "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
    "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e")

# RFC 8439 appendix A.1, test vectors #1 and #2 (all-zero key and nonce).
A1_BLOCK0 = bytes.fromhex(
    "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
    "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586")
A1_BLOCK1 = bytes.fromhex(
    "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
    "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f")

# RFC 8439 section 2.4.2: encryption.
SUNSCREEN = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
             b"the future, sunscreen would be it.")
SUNSCREEN_NONCE = bytes.fromhex("000000000000004a00000000")
SUNSCREEN_CIPHER = bytes.fromhex(
    "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
    "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
    "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
    "5af90bbf74a35be6b40b8eedf2785e42874d")


@pytest.fixture(autouse=True)
def fresh():
    machine.reset()
    crng.reset()


# ------------------------------------------------------------------ ChaCha20

def test_block_function_rfc8439_2_3_2():
    assert crng.block(KEY_0_31, 1, BLOCK_NONCE) == BLOCK_OUT


@pytest.mark.parametrize("counter,expected", [(0, A1_BLOCK0), (1, A1_BLOCK1)])
def test_block_function_rfc8439_a1(counter, expected):
    assert crng.block(bytes(32), counter, bytes(12)) == expected


def test_encryption_rfc8439_2_4_2():
    assert crng.encrypt(KEY_0_31, 1, SUNSCREEN_NONCE, SUNSCREEN) == SUNSCREEN_CIPHER
    assert crng.encrypt(KEY_0_31, 1, SUNSCREEN_NONCE, SUNSCREEN_CIPHER) == SUNSCREEN


def test_every_key_and_nonce_word_matters():
    base = crng.block(KEY_0_31, 1, BLOCK_NONCE)
    for i in range(32):
        key = bytearray(KEY_0_31)
        key[i] ^= 0x80
        assert crng.block(bytes(key), 1, BLOCK_NONCE) != base
    for i in range(12):
        nonce = bytearray(BLOCK_NONCE)
        nonce[i] ^= 1
        assert crng.block(KEY_0_31, 1, bytes(nonce)) != base
    assert crng.block(KEY_0_31, 2, BLOCK_NONCE) != base


# ------------------------------------------------------------------ the generator

class Model:
    """The construction crng.pyx documents, over the RFC-checked block function."""

    def __init__(self):
        self.key = bytes(32)

    def absorb(self, chunk: bytes):
        out = crng.block(self.key, int.from_bytes(chunk[:4], "little"), chunk[4:16])
        self.key = bytes(a ^ b for a, b in zip(self.key, out[:32]))

    def mix(self, data: bytes):
        for i in range(0, len(data), 16):
            self.absorb(data[i:i + 16].ljust(16, b"\0"))
        self.absorb(len(data).to_bytes(8, "little") + bytes(7) + b"\x80")

    def random(self, n: int) -> bytes:
        blk = crng.block(self.key, 0, bytes(12))
        self.key, once = blk[:32], blk[32:]
        return b"".join(crng.block(once, i, bytes(12)) for i in range((n + 63) // 64))[:n]


@pytest.mark.parametrize("inputs,sizes", [
    ([b""], [1]),
    ([b"seed"], [64, 65, 200]),
    ([bytes(range(256)) * 3, b"x" * 17], [32, 4096 + 3]),
])
def test_generator_follows_its_construction(inputs, sizes):
    m = Model()
    for data in inputs:
        crng.mix(data)
        m.mix(data)
    for n in sizes:
        assert crng.random(n) == m.random(n)


def test_fast_key_erasure_each_request_differs():
    crng.mix(b"seed")
    outputs = [crng.random(32) for _ in range(50)]
    assert len(set(outputs)) == 50


def test_mixing_is_sensitive_to_every_byte_and_the_length():
    results = set()
    for data in (b"ab", b"ab\0", b"ba", b"a", b"", bytes(16), bytes(17)):
        crng.reset()
        crng.mix(data)
        results.add(crng.random(32))
    assert len(results) == 7


def test_output_uses_every_byte_value_and_never_repeats_a_block():
    crng.mix(b"seed")
    out = crng.random(65536)
    assert len(set(out)) == 256
    blocks = [out[i:i + 16] for i in range(0, len(out), 16)]
    assert len(set(blocks)) == len(blocks)


def test_boot_seed_uses_cpu_sources_and_jitter_and_says_so():
    assert not crng.ready()
    crng.seed_boot()
    assert crng.ready()
    crng.report()
    line = [ln for ln in machine.console().decode().splitlines() if ln.startswith("tyn: random:")]
    assert len(line) == 1
    assert "timing jitter (2048 samples)" in line[0]
    src = crng.sources()
    assert src & 8                                     # jitter, always
    assert ("RDRAND" in line[0]) == bool(src & 2)
    assert ("RDSEED" in line[0]) == bool(src & 1)


def test_boot_seed_without_rdrand_rdseed_says_jitter_only():
    machine.hide_cpuid_bits(1, 2, 1 << 30)            # CPUID.1:ECX.RDRAND
    machine.hide_cpuid_bits(7, 1, 1 << 18)            # CPUID.7:EBX.RDSEED
    crng.seed_boot()
    crng.report()
    text = machine.console().decode()
    assert "seeded from timing jitter (2048 samples); no RDSEED/RDRAND and no virtio-rng" in text
    assert crng.sources() == 8


def test_boot_seeds_differ_between_boots():
    outs = set()
    for _ in range(3):
        crng.reset()
        crng.seed_boot()
        outs.add(crng.random(32))
    assert len(outs) == 3


def test_device_bytes_are_mixed_and_named():
    crng.mix(b"x")
    before = Model()
    before.mix(b"x")
    crng.device_bytes(b"D" * 64)
    before.mix(b"D" * 64)
    crng.report()
    assert "virtio-rng (64 bytes)" in machine.console().decode()
    assert crng.random(48) == before.random(48)
