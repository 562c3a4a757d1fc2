# Socket addresses as user space passes them (struct sockaddr, sockaddr_in): the family
# constants and the parse/emit pair of sockaddr_in with Linux's checks.  Addresses and
# ports come out in HOST byte order (the stack's convention); the wire order
# (sin_port, sin_addr are big-endian) exists only inside these functions.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t

cdef enum:
    AF_UNSPEC = 0
    AF_UNIX = 1
    AF_INET = 2
    AF_INET6 = 10
    NPROTO = 46                     # AF_MAX: families are 0 .. NPROTO - 1
    SA_FAMILY_SIZE = 2              # sizeof(sa_family_t)
    SOCKADDR_STORAGE_SIZE = 128     # sizeof(struct sockaddr_storage): the largest address
    SOCKADDR_IN_SIZE = 16           # sizeof(struct sockaddr_in)
    UNIX_SOCKADDR_MAX = 110         # sizeof(struct sockaddr_un)
    INADDR_ANY = 0
    # How sockaddr_in_parse treats sin_family == AF_UNSPEC
    SOCKADDR_UNSPEC_REFUSED = 0     # connect (tcp_v4_connect, __ip4_datagram_connect)
    SOCKADDR_UNSPEC_IF_ANY = 1      # bind: only with INADDR_ANY (inet_bind's "compatibility games")
    SOCKADDR_UNSPEC_ACCEPTED = 2    # sendto (udp_sendmsg): taken as AF_INET

# The family of an address of len bytes: -EINVAL when len < sizeof(sa_family_t).
cdef extern int32_t sockaddr_family(const uint8_t *addr, int32_t len) noexcept nogil
# An IPv4 address: 0 with *ip, *port (host order), -EINVAL (len < sizeof(sockaddr_in)),
# -EAFNOSUPPORT (another family, AF_UNSPEC as `unspec` says).
cdef extern int32_t sockaddr_in_parse(const uint8_t *addr, int32_t len, int unspec,
                                      uint32_t *ip, uint16_t *port) noexcept nogil
# Write a sockaddr_in (sin_zero cleared) to out (SOCKADDR_IN_SIZE bytes); its length.
cdef extern int32_t sockaddr_in_emit(uint8_t *out, uint32_t ip, uint16_t port) noexcept nogil
