# RFC 6528 initial sequence numbers.  See tcp_iss.pxd.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.net.tcp_types cimport tcp_secret_fn, tcp_stats
from tyn.net.tcp_pcb cimport tcp_pcb_stats

cdef enum:
    SECRET_BYTES = 16
    ISS_CLOCK_NS = 4000                 # RFC 6528 / RFC 9293: M ticks every 4 microseconds
    SIPHASH_LENGTH_BYTE = 16 << 24      # message length (16) in the top byte of the last block
    SIPHASH_FINALIZATION = 0xff

cdef extern from *:
    """
    #define TCP_SIP_C0 0x736f6d6570736575ULL
    #define TCP_SIP_C1 0x646f72616e646f6dULL
    #define TCP_SIP_C2 0x6c7967656e657261ULL
    #define TCP_SIP_C3 0x7465646279746573ULL
    """
    const uint64_t TCP_SIP_C0
    const uint64_t TCP_SIP_C1
    const uint64_t TCP_SIP_C2
    const uint64_t TCP_SIP_C3

cdef tcp_secret_fn secret_source
cdef uint64_t key0
cdef uint64_t key1
cdef bint keyed


cdef void tcp_iss_init() noexcept nogil:
    global keyed
    keyed = False

cdef void tcp_iss_set_secret_source(tcp_secret_fn fn) noexcept nogil:
    global secret_source, keyed
    secret_source = fn
    keyed = False


cdef inline uint64_t rotl(uint64_t x, int b) noexcept nogil:
    return (x << b) | (x >> (64 - b))

cdef inline uint64_t load64(const uint8_t *p) noexcept nogil:
    cdef uint64_t v = 0
    cdef int i
    for i in range(8):
        v |= (<uint64_t>p[i]) << (8 * i)
    return v


cdef void ensure_key(uint64_t now_ns) noexcept nogil:
    # Without a source the key is only as good as the clock: counted, so it shows.
    global key0, key1, keyed
    cdef uint8_t key[SECRET_BYTES]
    cdef int i
    if keyed:
        return
    if secret_source != NULL:
        secret_source(key, SECRET_BYTES)
        key0 = load64(key)
        key1 = load64(key + 8)
    else:
        tcp_pcb_stats().iss_unkeyed += 1
        key0 = now_ns ^ <uint64_t>&key0
        key1 = rotl(now_ns, 29) ^ <uint64_t>&secret_source
    keyed = True


cdef uint64_t tcp_iss_siphash(uint64_t m0, uint64_t m1) noexcept nogil:
    cdef uint64_t v0 = key0 ^ TCP_SIP_C0, v1 = key1 ^ TCP_SIP_C1
    cdef uint64_t v2 = key0 ^ TCP_SIP_C2, v3 = key1 ^ TCP_SIP_C3
    cdef uint64_t m
    cdef uint64_t blocks[3]
    cdef int b, r
    blocks[0] = m0
    blocks[1] = m1
    blocks[2] = (<uint64_t>SIPHASH_LENGTH_BYTE) << 32
    for b in range(4):
        if b < 3:
            m = blocks[b]
            v3 ^= m
        else:
            v2 ^= SIPHASH_FINALIZATION
        for r in range(2 if b < 3 else 4):
            v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
            v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
            v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
            v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
        if b < 3:
            v0 ^= m
    return v0 ^ v1 ^ v2 ^ v3


cdef uint32_t tcp_iss_generate(uint32_t local_addr, uint16_t local_port, uint32_t remote_addr,
                               uint16_t remote_port, uint64_t now_ns) noexcept nogil:
    ensure_key(now_ns)
    cdef uint64_t h = tcp_iss_siphash((<uint64_t>local_addr << 32) | remote_addr,
                                      (<uint64_t>local_port << 16) | remote_port)
    return <uint32_t>(now_ns // ISS_CLOCK_NS) + <uint32_t>h


cdef uint32_t tcp_iss_port_offset(uint32_t local_addr, uint32_t remote_addr,
                                  uint16_t remote_port) noexcept nogil:
    ensure_key(0)
    return <uint32_t>(tcp_iss_siphash((<uint64_t>local_addr << 32) | remote_addr,
                                      (<uint64_t>1 << 32) | remote_port) >> 32)
