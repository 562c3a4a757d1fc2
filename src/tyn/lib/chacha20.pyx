# ChaCha20 (RFC 8439), written from the RFC: the quarter round (2.1), the state layout and
# block function (2.3), the key stream used as a cipher (2.4).  crng builds on the block.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef enum:
    # "expand 32-byte k" as four little-endian words (RFC 8439 section 2.3).
    SIGMA_0 = 0x61707865
    SIGMA_1 = 0x3320646e
    SIGMA_2 = 0x79622d32
    SIGMA_3 = 0x6b206574
    DOUBLE_ROUNDS = 10              # 20 rounds: column round + diagonal round, ten times

cdef inline uint32_t rotl(uint32_t v, int n) noexcept nogil:
    return (v << n) | (v >> (32 - n))

cdef inline void quarter_round(uint32_t *s, int a, int b, int c, int d) noexcept nogil:
    s[a] += s[b]
    s[d] = rotl(s[d] ^ s[a], 16)
    s[c] += s[d]
    s[b] = rotl(s[b] ^ s[c], 12)
    s[a] += s[b]
    s[d] = rotl(s[d] ^ s[a], 8)
    s[c] += s[d]
    s[b] = rotl(s[b] ^ s[c], 7)

cdef void chacha20_block(const uint32_t *key, uint32_t counter, const uint32_t *nonce,
                         uint8_t *out) noexcept nogil:
    cdef uint32_t initial[CHACHA20_STATE_WORDS]
    cdef uint32_t s[CHACHA20_STATE_WORDS]
    cdef uint32_t v
    cdef int i
    initial[0] = SIGMA_0
    initial[1] = SIGMA_1
    initial[2] = SIGMA_2
    initial[3] = SIGMA_3
    for i in range(CHACHA20_KEY_WORDS):
        initial[4 + i] = key[i]
    initial[12] = counter
    for i in range(CHACHA20_NONCE_WORDS):
        initial[13 + i] = nonce[i]
    for i in range(CHACHA20_STATE_WORDS):
        s[i] = initial[i]
    for i in range(DOUBLE_ROUNDS):
        quarter_round(s, 0, 4, 8, 12)
        quarter_round(s, 1, 5, 9, 13)
        quarter_round(s, 2, 6, 10, 14)
        quarter_round(s, 3, 7, 11, 15)
        quarter_round(s, 0, 5, 10, 15)
        quarter_round(s, 1, 6, 11, 12)
        quarter_round(s, 2, 7, 8, 13)
        quarter_round(s, 3, 4, 9, 14)
    for i in range(CHACHA20_STATE_WORDS):
        v = s[i] + initial[i]
        out[4 * i] = <uint8_t>v
        out[4 * i + 1] = <uint8_t>(v >> 8)
        out[4 * i + 2] = <uint8_t>(v >> 16)
        out[4 * i + 3] = <uint8_t>(v >> 24)
        s[i] = 0                    # no key material left on the stack
        initial[i] = 0

cdef void chacha20_xor(const uint32_t *key, uint32_t counter, const uint32_t *nonce,
                       uint8_t *data, uint64_t length) noexcept nogil:
    cdef uint8_t stream[CHACHA20_BLOCK_BYTES]
    cdef uint64_t done = 0, i, n
    while done < length:
        chacha20_block(key, counter, nonce, stream)
        counter += 1
        n = length - done if length - done < CHACHA20_BLOCK_BYTES else CHACHA20_BLOCK_BYTES
        for i in range(n):
            data[done + i] ^= stream[i]
        done += n
