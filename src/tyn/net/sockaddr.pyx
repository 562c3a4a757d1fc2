# sockaddr / sockaddr_in parse and emit (see sockaddr.pxd).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t
from tyn.sys.errno cimport EINVAL, EAFNOSUPPORT

cdef int32_t sockaddr_family(const uint8_t *addr, int32_t len) noexcept nogil:
    if len < SA_FAMILY_SIZE:
        return -EINVAL
    return <int32_t>(addr[0] | (<uint16_t>addr[1] << 8))      # sa_family_t: host order

cdef int32_t sockaddr_in_parse(const uint8_t *addr, int32_t len, int unspec,
                               uint32_t *ip, uint16_t *port) noexcept nogil:
    cdef int32_t family
    if len < SOCKADDR_IN_SIZE:
        return -EINVAL
    family = sockaddr_family(addr, len)
    port[0] = <uint16_t>((<uint16_t>addr[2] << 8) | addr[3])
    ip[0] = ((<uint32_t>addr[4] << 24) | (<uint32_t>addr[5] << 16) | (<uint32_t>addr[6] << 8)
             | <uint32_t>addr[7])
    if family == AF_INET:
        return 0
    if family == AF_UNSPEC:
        if unspec == SOCKADDR_UNSPEC_ACCEPTED:
            return 0
        if unspec == SOCKADDR_UNSPEC_IF_ANY and ip[0] == INADDR_ANY:
            return 0
    return -EAFNOSUPPORT

cdef int32_t sockaddr_in_emit(uint8_t *out, uint32_t ip, uint16_t port) noexcept nogil:
    cdef int i
    out[0] = AF_INET
    out[1] = 0
    out[2] = <uint8_t>(port >> 8)
    out[3] = <uint8_t>port
    out[4] = <uint8_t>(ip >> 24)
    out[5] = <uint8_t>(ip >> 16)
    out[6] = <uint8_t>(ip >> 8)
    out[7] = <uint8_t>ip
    for i in range(8, SOCKADDR_IN_SIZE):
        out[i] = 0
    return SOCKADDR_IN_SIZE
