# The socket system calls: argument decoding and user memory (msghdr, iovecs, addresses,
# option values) in Linux net/socket.c's order of checks, the SOL_SOCKET options common
# to all families (net/core/sock.c), then dispatch to the protocol through its
# sock_proto_ops (tyn.net.socket).
from libc.stdint cimport uint64_t, int64_t

cdef extern int64_t sys_socket(uint64_t family, uint64_t type, uint64_t protocol) noexcept nogil                     # 41
cdef extern int64_t sys_connect(uint64_t fd, uint64_t addr, uint64_t addrlen) noexcept nogil                       # 42
cdef extern int64_t sys_accept(uint64_t fd, uint64_t addr, uint64_t addrlen) noexcept nogil                        # 43
cdef extern int64_t sys_sendto(uint64_t fd, uint64_t buf, uint64_t len, uint64_t flags, uint64_t addr, uint64_t addrlen) noexcept nogil  # 44
cdef extern int64_t sys_recvfrom(uint64_t fd, uint64_t buf, uint64_t len, uint64_t flags, uint64_t addr, uint64_t addrlen) noexcept nogil  # 45
cdef extern int64_t sys_sendmsg(uint64_t fd, uint64_t msg, uint64_t flags) noexcept nogil                          # 46
cdef extern int64_t sys_recvmsg(uint64_t fd, uint64_t msg, uint64_t flags) noexcept nogil                          # 47
cdef extern int64_t sys_shutdown(uint64_t fd, uint64_t how) noexcept nogil                                         # 48
cdef extern int64_t sys_bind(uint64_t fd, uint64_t addr, uint64_t addrlen) noexcept nogil                          # 49
cdef extern int64_t sys_listen(uint64_t fd, uint64_t backlog) noexcept nogil                                       # 50
cdef extern int64_t sys_getsockname(uint64_t fd, uint64_t addr, uint64_t addrlen) noexcept nogil                   # 51
cdef extern int64_t sys_getpeername(uint64_t fd, uint64_t addr, uint64_t addrlen) noexcept nogil                   # 52
cdef extern int64_t sys_socketpair(uint64_t family, uint64_t type, uint64_t protocol, uint64_t sv) noexcept nogil  # 53
cdef extern int64_t sys_setsockopt(uint64_t fd, uint64_t level, uint64_t name, uint64_t val, uint64_t len) noexcept nogil   # 54
cdef extern int64_t sys_getsockopt(uint64_t fd, uint64_t level, uint64_t name, uint64_t val, uint64_t len) noexcept nogil   # 55
cdef extern int64_t sys_accept4(uint64_t fd, uint64_t addr, uint64_t addrlen, uint64_t flags) noexcept nogil       # 288
