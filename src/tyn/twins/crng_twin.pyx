# Host face of lib/chacha20 and lib/crng for tests.
from libc.stdint cimport uint8_t, uint32_t
from tyn.lib.chacha20 cimport chacha20_block, chacha20_xor, CHACHA20_BLOCK_BYTES
from tyn.lib.crng cimport *


cdef void words(bytes raw, uint32_t *out, int n):
    cdef int i
    for i in range(n):
        out[i] = <uint32_t>int.from_bytes(raw[4 * i:4 * i + 4], "little")


def block(bytes key, uint32_t counter, bytes nonce):
    """ChaCha20 block function: 32-byte key, counter, 12-byte nonce -> 64 bytes."""
    cdef uint32_t k[8]
    cdef uint32_t n[3]
    cdef uint8_t out[64]
    assert len(key) == 32 and len(nonce) == 12
    words(key, k, 8)
    words(nonce, n, 3)
    chacha20_block(k, counter, n, out)
    return bytes(out[:64])


def encrypt(bytes key, uint32_t counter, bytes nonce, bytes data):
    """ChaCha20 encryption (XOR with the key stream from block `counter`)."""
    cdef uint32_t k[8]
    cdef uint32_t n[3]
    cdef bytearray buf = bytearray(data)
    cdef uint8_t *p = buf
    words(key, k, 8)
    words(nonce, n, 3)
    chacha20_xor(k, counter, n, p, len(buf))
    return bytes(buf)


def reset():
    """A fresh, unseeded generator (zero key)."""
    crng_init()


def mix(bytes data):
    crng_mix(<const uint8_t *><char *>data, len(data))


def device_bytes(bytes data):
    crng_add_device_bytes(<const uint8_t *><char *>data, len(data))


def random(Py_ssize_t n):
    cdef bytearray buf = bytearray(n)
    cdef uint8_t *p = buf
    if n:
        crng_random_bytes(p, n)
    return bytes(buf)


def seed_boot():
    crng_seed_boot()


def ready():
    return crng_ready()


def sources():
    return crng_sources()


def report():
    crng_report()
