# AF_UNIX stream sockets, as far as socketpair(2) needs them: two connected endpoints,
# each direction a byte ring (tyn.fs.bytering) plus the SCM_RIGHTS file sets that ride
# with the bytes they were sent with.  Also the socket syscalls, which dispatch on the
# file kind (only unix stream sockets exist so far; socket(2) creates nothing yet).
from libc.stdint cimport int32_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file
from tyn.fs.bytering cimport bytering
from tyn.fs.wakeups cimport io_wakeups

cdef enum:
    AF_UNSPEC = 0
    AF_UNIX = 1
    AF_INET = 2
    AF_INET6 = 10
    NPROTO = 46                     # AF_MAX
    SOCK_STREAM = 1
    SOCK_DGRAM = 2
    SOCK_RAW = 3
    SOCK_SEQPACKET = 5
    SOCK_MAX = 11
    SOCK_TYPE_MASK = 0xf
    SOCK_CLOEXEC = 0o2000000
    SOCK_NONBLOCK = 0o4000

    MSG_OOB = 0x1
    MSG_PEEK = 0x2
    MSG_CTRUNC = 0x8
    MSG_TRUNC = 0x20
    MSG_DONTWAIT = 0x40
    MSG_WAITALL = 0x100
    MSG_NOSIGNAL = 0x4000
    MSG_CMSG_CLOEXEC = 0x40000000

    SOL_SOCKET = 1
    SCM_RIGHTS = 1
    SCM_CREDENTIALS = 2
    SCM_MAX_FD = 253

    SO_TYPE = 3
    SO_ERROR = 4
    SO_SNDBUF = 7
    SO_RCVBUF = 8
    SO_PASSCRED = 16
    SO_ACCEPTCONN = 30
    SO_SNDBUFFORCE = 32
    SO_RCVBUFFORCE = 33
    SO_PROTOCOL = 38
    SO_DOMAIN = 39

    SHUT_RD = 0
    SHUT_WR = 1
    SHUT_RDWR = 2
    RCV_SHUTDOWN = 1
    SEND_SHUTDOWN = 2
    SHUTDOWN_MASK = 3

    SIOCINQ = 0x541B                # FIONREAD
    SIOCOUTQ = 0x5411               # TIOCOUTQ

    UNIX_RING = 65536               # bytes in flight per direction
    UNIX_WMEM_DEFAULT = 212992      # net.core.wmem_default / rmem_default / *_max
    SOCK_MIN_SNDBUF = 4608
    SOCK_MIN_RCVBUF = 2304
    SOCKFS_DEV = 8                  # st_dev of sockets (0:8)
    MSGHDR_SIZE = 56
    CMSGHDR_SIZE = 16
    UNIX_OPTMEM_MAX = 20480         # net.core.optmem_max: the largest control buffer
    UNIX_SKB_MARKS = 64             # send boundaries remembered per receiver (unix_sock)

# Files passed with SCM_RIGHTS, queued with the byte range [seq, end) of the stream they
# arrived with (the first chunk of their sendmsg): they are received with the first of
# those bytes, and a read stops at end.
cdef struct unix_rights:
    unix_rights *next
    uint64_t seq
    uint64_t end
    uint32_t nfds
    uint32_t reserved
    vfs_file *files[SCM_MAX_FD]

cdef struct unix_pair

cdef struct unix_sock:
    unix_pair *pair
    uint32_t side                   # 0 or 1: the peer is pair.ends[1 - side]
    uint32_t shutdown               # RCV_SHUTDOWN | SEND_SHUTDOWN
    int32_t err                     # pending SO_ERROR (positive errno)
    bint open                       # its file is alive
    int32_t sndbuf
    int32_t rcvbuf
    uint64_t ino
    bytering rx                     # bytes sent to this endpoint
    unix_rights *rights_head        # rights in rx, in stream order
    unix_rights *rights_tail
    io_wakeups wq                   # its socket's queue: data sent to it, space freed in
                                    # the peer, shutdowns (sk_data_ready & co.)
    # Where the chunks queued in rx end (stream offsets, oldest first): Linux's skbs, whose
    # freeing -- once read whole -- wakes the sender.  When full, the newest one grows.
    uint64_t skb_ends[UNIX_SKB_MARKS]
    uint32_t skb_first
    uint32_t skb_count

cdef struct unix_pair:
    unix_sock ends[2]

# socketpair(AF_UNIX, SOCK_STREAM): two files with one reference each (O_RDWR | the
# O_NONBLOCK of flags).  0 or -ENOMEM.
cdef extern int64_t unix_stream_pair(uint32_t flags, vfs_file **a, vfs_file **b) noexcept nogil
cdef extern bint unix_file_is_socket(vfs_file *f) noexcept nogil

cdef extern int64_t sys_socket(uint64_t family, uint64_t type, uint64_t protocol) noexcept nogil                     # 41
cdef extern int64_t sys_sendto(uint64_t fd, uint64_t buf, uint64_t len, uint64_t flags, uint64_t addr, uint64_t addrlen) noexcept nogil  # 44
cdef extern int64_t sys_recvfrom(uint64_t fd, uint64_t buf, uint64_t len, uint64_t flags, uint64_t addr, uint64_t addrlen) noexcept nogil  # 45
cdef extern int64_t sys_sendmsg(uint64_t fd, uint64_t msg, uint64_t flags) noexcept nogil                          # 46
cdef extern int64_t sys_recvmsg(uint64_t fd, uint64_t msg, uint64_t flags) noexcept nogil                          # 47
cdef extern int64_t sys_shutdown(uint64_t fd, uint64_t how) noexcept nogil                                         # 48
cdef extern int64_t sys_getsockname(uint64_t fd, uint64_t addr, uint64_t addrlen) noexcept nogil                   # 51
cdef extern int64_t sys_getpeername(uint64_t fd, uint64_t addr, uint64_t addrlen) noexcept nogil                   # 52
cdef extern int64_t sys_socketpair(uint64_t family, uint64_t type, uint64_t protocol, uint64_t sv) noexcept nogil  # 53
cdef extern int64_t sys_setsockopt(uint64_t fd, uint64_t level, uint64_t name, uint64_t val, uint64_t len) noexcept nogil   # 54
cdef extern int64_t sys_getsockopt(uint64_t fd, uint64_t level, uint64_t name, uint64_t val, uint64_t len) noexcept nogil   # 55
