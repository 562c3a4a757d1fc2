# The ChaCha20 block function (RFC 8439 section 2.3): 256-bit key, 32-bit block counter,
# 96-bit nonce -> 64 bytes of key stream.  Words are little-endian as the RFC's.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef enum:
    CHACHA20_KEY_WORDS = 8
    CHACHA20_NONCE_WORDS = 3
    CHACHA20_BLOCK_BYTES = 64
    CHACHA20_STATE_WORDS = 16

cdef extern void chacha20_block(const uint32_t *key, uint32_t counter, const uint32_t *nonce,
                                uint8_t *out) noexcept nogil
# XOR the key stream from block `counter` on into data (RFC 8439 section 2.4 encryption).
cdef extern void chacha20_xor(const uint32_t *key, uint32_t counter, const uint32_t *nonce,
                              uint8_t *data, uint64_t length) noexcept nogil
