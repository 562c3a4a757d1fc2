# Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret), M a 4 us clock and
# F SipHash-2-4 keyed with a secret taken once from a source the kernel sets (its random
# generator).  The same keyed hash spreads ephemeral ports (RFC 6056 algorithm 3).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.net.tcp_types cimport tcp_secret_fn

# Forget the key (it is fetched again from the source on next use).
cdef extern void tcp_iss_init() noexcept nogil
cdef extern void tcp_iss_set_secret_source(tcp_secret_fn fn) noexcept nogil
cdef extern uint32_t tcp_iss_generate(uint32_t local_addr, uint16_t local_port, uint32_t remote_addr,
                                      uint16_t remote_port, uint64_t now_ns) noexcept nogil
# A keyed hash of the destination: where the ephemeral port search starts.
cdef extern uint32_t tcp_iss_port_offset(uint32_t local_addr, uint32_t remote_addr,
                                         uint16_t remote_port) noexcept nogil
# SipHash-2-4 of two 64-bit words under the current key (exported for tests).
cdef extern uint64_t tcp_iss_siphash(uint64_t m0, uint64_t m1) noexcept nogil
