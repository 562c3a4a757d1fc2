# The family-independent socket layer (Linux's struct socket + net/socket.c's core):
# one `socket` per socket file, the SOL_SOCKET options common to all families, readiness
# and wakeups, blocking waits, and the registry of protocol families.  A protocol plugs
# in with a `sock_proto_ops` table and a create function registered for a (family, type,
# protocol); the system calls (tyn.sys.socket_syscall) do the user-memory work and call
# the ops.
#
# Ownership and locks (see docs/ARCHITECTURE.md, "Sockets"):
# - family, type, protocol, ops, proto, file and ino are set at creation and never change.
# - Everything else in a socket (state, flags, err, events, opt) belongs to its protocol
#   and changes only under the protocol's lock (ops.lock / ops.unlock: net_lock for inet,
#   unix_lock for unix).  The socket layer takes that lock itself to read or change those
#   fields (SO_ERROR, setsockopt, connect state).
# - Ops are called WITHOUT the protocol lock; each takes it as it needs and releases it
#   before sleeping (socket_wait) and before user copies where it can.
# - ops.poll and wait conditions run with waitq_lock held (poll/epoll, iowait), which
#   comes after every protocol lock: they must not take the protocol lock.  They read
#   single words the protocol keeps current (sock.state, sock.err, sock.events).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file
from tyn.fs.wakeups cimport io_wakeups
from tyn.fs.iowait cimport iowait_cond_fn

cdef enum:
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
    MSG_DONTROUTE = 0x4
    MSG_CTRUNC = 0x8
    MSG_TRUNC = 0x20
    MSG_DONTWAIT = 0x40
    MSG_EOR = 0x80
    MSG_WAITALL = 0x100
    MSG_NOSIGNAL = 0x4000
    MSG_CMSG_CLOEXEC = 0x40000000
    MSG_CMSG_COMPAT = 0x80000000

    SOL_SOCKET = 1
    SO_DEBUG = 1
    SO_REUSEADDR = 2
    SO_TYPE = 3
    SO_ERROR = 4
    SO_DONTROUTE = 5
    SO_BROADCAST = 6
    SO_SNDBUF = 7
    SO_RCVBUF = 8
    SO_KEEPALIVE = 9
    SO_OOBINLINE = 10
    SO_PRIORITY = 12
    SO_LINGER = 13
    SO_REUSEPORT = 15
    SO_PASSCRED = 16
    SO_PEERCRED = 17
    SO_RCVLOWAT = 18
    SO_SNDLOWAT = 19
    SO_RCVTIMEO_OLD = 20
    SO_SNDTIMEO_OLD = 21
    SO_ACCEPTCONN = 30
    SO_SNDBUFFORCE = 32
    SO_RCVBUFFORCE = 33
    SO_PROTOCOL = 38
    SO_DOMAIN = 39
    SO_RCVTIMEO_NEW = 66
    SO_SNDTIMEO_NEW = 67

    SHUT_RD = 0
    SHUT_WR = 1
    SHUT_RDWR = 2
    RCV_SHUTDOWN = 1                # shutdown modes as protocols get them
    SEND_SHUTDOWN = 2
    SHUTDOWN_MASK = 3

    # socket.state: Linux's socket_state (the BSD-level connection state)
    SS_FREE = 0
    SS_UNCONNECTED = 1
    SS_CONNECTING = 2
    SS_CONNECTED = 3
    SS_DISCONNECTING = 4

    # socket.flags
    SOCKET_ACCEPTCONN = 1 << 0      # listening (SO_ACCEPTCONN): set by listen, a protocol clears it
    SOCKET_CONNECT_UNREPORTED = 1 << 1  # connected after connect() said EINPROGRESS: the next
                                    #   connect() returns 0 once (Linux's sock->state stays
                                    #   SS_CONNECTING until a connect() call sees the outcome)

    # socket_options.flags: the boolean SOL_SOCKET options
    SOCKOPT_REUSEADDR = 1 << 0
    SOCKOPT_REUSEPORT = 1 << 1
    SOCKOPT_KEEPALIVE = 1 << 2
    SOCKOPT_LINGER = 1 << 3
    SOCKOPT_BROADCAST = 1 << 4
    SOCKOPT_OOBINLINE = 1 << 5
    SOCKOPT_DONTROUTE = 1 << 6
    SOCKOPT_PASSCRED = 1 << 7
    SOCKOPT_DEBUG = 1 << 8
    SOCKOPT_SNDBUF_LOCK = 1 << 9    # SO_SNDBUF/SO_RCVBUF were set (Linux's sk_userlocks): the
    SOCKOPT_RCVBUF_LOCK = 1 << 10   #   protocol follows them instead of its own sizing

    # poll bits beyond tyn.fs.vfs's
    POLLRDBAND = 0x080
    POLLWRBAND = 0x200
    POLLRDHUP = 0x2000

    IPPROTO_MAX = 263               # AF_INET protocols are 0 .. IPPROTO_MAX - 1
    SOMAXCONN = 4096                # net.core.somaxconn: listen's backlog ceiling
    SOCK_WMEM_MAX = 212992          # net.core.wmem_max / rmem_max (= the defaults)
    SOCK_RMEM_MAX = 212992
    SOCK_WMEM_DEFAULT = 212992
    SOCK_RMEM_DEFAULT = 212992
    SOCK_MIN_SNDBUF = 4608
    SOCK_MIN_RCVBUF = 2304
    SOCK_OPTMEM_MAX = 20480         # net.core.optmem_max: the largest control buffer
    SOCKFS_DEV = 8                  # st_dev of sockets (0:8)
    MSGHDR_SIZE = 56                # struct user_msghdr
    CMSGHDR_SIZE = 16               # struct cmsghdr
    UIO_MAXIOV = 1024
    IOVEC_SIZE = 16

cdef extern from *:
    """
    #define SOCKET_TIMEO_FOREVER ((uint64_t)0xffffffffffffffffULL)
    """
    # A timeout that never expires (SO_RCVTIMEO / SO_SNDTIMEO unset; Linux's
    # MAX_SCHEDULE_TIMEOUT).  A timeout of 0 means "do not wait".
    const uint64_t SOCKET_TIMEO_FOREVER

cdef struct socket
cdef struct sock_msg

# One message of sendmsg/recvmsg (and read/write/sendto/recvfrom), its data still in place.
cdef struct sock_msg:
    uint64_t *iov                   # (base, len) pairs: user addresses, or kernel pointers
    uint64_t iovcnt                 #   when not user
    uint64_t total                  # bytes the iovecs describe (at most MAX_RW_COUNT)
    bint user
    uint8_t *name                   # SOCKADDR_STORAGE_SIZE bytes of kernel memory, or NULL.
                                    #   send: the destination (namelen bytes; NULL: none)
                                    #   recv: where the protocol writes the source (NULL:
                                    #   not wanted) and sets namelen (0: no address)
    int32_t namelen
    const uint8_t *control          # send: the control messages (a kernel copy), or NULL
    uint64_t controllen
    uint64_t ucontrol               # recv: the user's control buffer (0: none), its size,
    uint64_t ucontrollen            #   and the bytes filled (socket_put_cmsg advances it)
    uint64_t control_used
    uint32_t msg_flags              # recv: flags for the user (MSG_TRUNC, MSG_CTRUNC, MSG_EOR);
                                    #   starts as the call's MSG_CMSG_CLOEXEC bit

# The SOL_SOCKET settings: a socket's, copied to the sockets accept() returns (Linux's
# sk_clone_lock copies them with the listener's sock).
cdef struct socket_options:
    uint32_t flags                  # SOCKOPT_*
    int32_t sndbuf                  # as SO_SNDBUF reports it (Linux's doubled value)
    int32_t rcvbuf
    int32_t linger_secs             # SO_LINGER's l_linger (meaningful with SOCKOPT_LINGER)
    int32_t priority
    int32_t rcvlowat
    uint64_t rcvtimeo_us            # SO_RCVTIMEO / SO_SNDTIMEO as a wait timeout (microseconds;
    uint64_t sndtimeo_us            #   SOCKET_TIMEO_FOREVER: unset; 0: a negative tv_sec was set)

# Protocol operations.  Results are >= 0 or -errno.  Called without the protocol lock
# (except lock/unlock themselves); NULL entries get Linux's sock_no_* answer (noted).
ctypedef uint64_t (*sock_lock_fn)(socket *sock) noexcept nogil
ctypedef void (*sock_unlock_fn)(socket *sock, uint64_t flags) noexcept nogil
# The socket's file is gone (close): free proto; SO_LINGER is in sock.opt.  The socket
# layer frees sock itself afterwards.
ctypedef void (*sock_release_fn)(socket *sock) noexcept nogil
# bind / connect: the address as user space gave it (a kernel copy of len bytes, len <=
# SOCKADDR_STORAGE_SIZE).  connect's flags: MSG_DONTWAIT when the file is non-blocking.
ctypedef int64_t (*sock_bind_fn)(socket *sock, const uint8_t *addr, int32_t len) noexcept nogil
ctypedef int64_t (*sock_connect_fn)(socket *sock, const uint8_t *addr, int32_t len, uint32_t flags) noexcept nogil
# backlog already clamped to 0..SOMAXCONN.  On success the socket layer sets SOCKET_ACCEPTCONN.
ctypedef int64_t (*sock_listen_fn)(socket *sock, int32_t backlog) noexcept nogil
# Attach the next connection to newsock (allocated by the socket layer with the
# listener's family/type/protocol/ops/options; the protocol sets newsock.proto).  flags:
# MSG_DONTWAIT when the listener's file is non-blocking.  May wait (socket_wait).
ctypedef int64_t (*sock_accept_fn)(socket *sock, socket *newsock, uint32_t flags) noexcept nogil
# flags: the call's MSG_* with MSG_DONTWAIT added for a non-blocking file.  Bytes sent /
# received.  A stream protocol returning -EPIPE gets SIGPIPE raised for it unless
# MSG_NOSIGNAL (the socket layer does it).
ctypedef int64_t (*sock_msg_fn)(socket *sock, sock_msg *msg, uint32_t flags) noexcept nogil
# mode: RCV_SHUTDOWN | SEND_SHUTDOWN (how is validated by the socket layer).
ctypedef int64_t (*sock_shutdown_fn)(socket *sock, uint32_t mode) noexcept nogil
# Write the local (peer false) or remote address to addr (SOCKADDR_STORAGE_SIZE bytes):
# its length, or -ENOTCONN & co.
ctypedef int32_t (*sock_getname_fn)(socket *sock, uint8_t *addr, bint peer) noexcept nogil
# Readiness (POLL* bits).  Runs under waitq_lock: no protocol lock (see above).  NULL:
# sock.events, which the protocol keeps current under its lock.
ctypedef uint32_t (*sock_poll_fn)(socket *sock) noexcept nogil
# Options at levels other than SOL_SOCKET; uval/ulen are user pointers (socket_opt_get_int
# / socket_opt_put_int do Linux's length rules).  NULL: -EOPNOTSUPP.
ctypedef int64_t (*sock_setsockopt_fn)(socket *sock, int32_t level, int32_t name, uint64_t uval, uint32_t ulen) noexcept nogil
ctypedef int64_t (*sock_getsockopt_fn)(socket *sock, int32_t level, int32_t name, uint64_t uval, uint64_t ulen) noexcept nogil
# A SOL_SOCKET option changed (name: SO_*), called with the protocol lock held after the
# socket layer stored it in sock.opt: apply it (buffer sizes, keepalive...).  May be NULL.
ctypedef void (*sock_option_changed_fn)(socket *sock, int32_t name) noexcept nogil
# The size SO_SNDBUF (send) or SO_RCVBUF reports while the protocol sizes that buffer itself
# (Linux's sk_sndbuf/sk_rcvbuf after autotuning), called with the protocol lock held.
# NULL: sock.opt's.
ctypedef uint32_t (*sock_buffer_size_fn)(socket *sock, bint send) noexcept nogil
# ioctl on the socket file (FIONREAD/SIOCINQ, SIOCOUTQ, ...).  NULL: -ENOTTY.
ctypedef int64_t (*sock_ioctl_fn)(socket *sock, uint64_t cmd, uint64_t arg) noexcept nogil
# Connect two fresh sockets of this type to each other (socketpair).  NULL: -EOPNOTSUPP.
ctypedef int64_t (*sock_socketpair_fn)(socket *a, socket *b) noexcept nogil

cdef struct sock_proto_ops:
    sock_lock_fn lock               # required
    sock_unlock_fn unlock           # required
    sock_release_fn release         # required
    sock_bind_fn bind               # NULL: -EOPNOTSUPP
    sock_listen_fn listen           # NULL: -EOPNOTSUPP
    sock_accept_fn accept           # NULL: -EOPNOTSUPP
    sock_connect_fn connect         # NULL: -EOPNOTSUPP
    sock_msg_fn sendmsg             # required
    sock_msg_fn recvmsg             # required
    sock_shutdown_fn shutdown       # NULL: -EOPNOTSUPP
    sock_getname_fn getname         # NULL: -EOPNOTSUPP
    sock_poll_fn poll
    sock_setsockopt_fn setsockopt
    sock_getsockopt_fn getsockopt
    sock_option_changed_fn option_changed
    sock_buffer_size_fn buffer_size
    sock_ioctl_fn ioctl
    sock_socketpair_fn socketpair

cdef struct socket:
    # fixed at creation
    uint16_t family                 # AF_*
    uint16_t type                   # SOCK_*
    int32_t protocol                # as SO_PROTOCOL reports it
    const sock_proto_ops *ops
    void *proto                     # the protocol's state (its pcb / unix_sock)
    vfs_file *file                  # its file (no reference: the file owns the socket)
    uint64_t ino
    # the protocol's, under its lock
    uint32_t state                  # SS_*
    uint32_t flags                  # SOCKET_*
    int32_t err                     # pending error (SO_ERROR), a positive errno; 0: none
    int32_t err_soft                # a soft error (Linux's sk_err_soft, e.g. an ICMP error on
                                    #   a connection): SO_ERROR reports it when err is 0
    uint32_t events                 # readiness for ops.poll == NULL (POLL* bits)
    socket_options opt
    io_wakeups wakeups              # counted wakeups of its queue (exact EPOLLET)

# Make a socket of family/type for a create request: set sock.ops and sock.proto (and
# sock.protocol when the registered protocol was 0).  for_pair: the socket is one end
# of a socketpair.  0 or -errno (-EPROTONOSUPPORT, -ENOMEM, ...).
ctypedef int64_t (*socket_create_fn)(socket *sock, int32_t protocol, bint for_pair) noexcept nogil

cdef enum:
    SOCKET_REGISTRY_SIZE = 16       # registered (family, type, protocol) entries at most

# Forget every registration (boot, before the protocols register; tests).
cdef extern void socket_init() noexcept nogil
# socket(family, type, protocol) creates through create from now on.  protocol 0: a
# wildcard whose create checks the protocol itself; otherwise socket() with protocol 0
# or this protocol matches and sock.protocol is set to it.  A (family, type) registered
# with another protocol only gets -EPROTONOSUPPORT for a mismatch.  0, -EEXIST, -ENOSPC,
# -EINVAL.
cdef extern int socket_register_family(int32_t family, int32_t type, int32_t protocol,
                                       socket_create_fn create) noexcept nogil
# Create a socket per the registry (Linux's __sock_create checks and errors): *out owns
# it (no file yet).  0, -EAFNOSUPPORT, -EINVAL, -ESOCKTNOSUPPORT, -EPROTONOSUPPORT, -ENOMEM,
# or the create function's error.
cdef extern int64_t socket_create(int32_t family, int32_t type, int32_t protocol, bint for_pair,
                                  socket **out) noexcept nogil
# A socket with the same family/type/protocol/ops/options as listener and no proto
# (accept's newsock), or NULL (no memory).
cdef extern socket *socket_clone_for_accept(socket *listener) noexcept nogil
# Free a socket that has no file (ops.release runs when proto is set).
cdef extern void socket_destroy(socket *sock) noexcept nogil
# A file for sock (O_RDWR | flags & O_NONBLOCK) with one reference, or NULL (no memory;
# sock stays the caller's).  From then on the file owns sock.
cdef extern vfs_file *socket_file_new(socket *sock, uint32_t flags) noexcept nogil
# The socket of a socket file, or NULL.
cdef extern socket *socket_of_file(vfs_file *f) noexcept nogil

# sock_sendmsg: ops.sendmsg, then SIGPIPE for -EPIPE on a stream without MSG_NOSIGNAL.
cdef extern int64_t socket_sendmsg(socket *sock, sock_msg *msg, uint32_t flags) noexcept nogil

# Wakeups (call with the protocol lock held, after changing the state): count the
# wakeup for EPOLLET and wake poll/epoll/select and blocked callers (io_notify).
# key: the POLL* bits the change is about (POLLIN: data, POLLOUT: space); 0 or POLLERR /
# POLLHUP: a wakeup every waiter sees.
cdef extern void socket_wake(socket *sock, uint32_t key) noexcept nogil
# A state change (connected, disconnected, shut down): an unkeyed wakeup (sk_state_change).
cdef extern void socket_state_changed(socket *sock) noexcept nogil
# Record a pending error (positive errno) and wake as sk_error_report.
cdef extern void socket_set_error(socket *sock, int32_t err) noexcept nogil
# Take the pending error (a positive errno, cleared; 0: none) -- sock_error.
cdef extern int32_t socket_take_error(socket *sock) noexcept nogil
# SO_ERROR: the pending error, else the soft error (both cleared), as sock_getsockopt.
cdef extern int32_t socket_take_so_error(socket *sock) noexcept nogil
# Connection-oriented protocols: a connect returning -EINPROGRESS has set sock.state =
# SS_CONNECTING under the protocol lock; completion calls one of these (lock held).
cdef extern void socket_connected(socket *sock) noexcept nogil
cdef extern void socket_connect_failed(socket *sock, int32_t err) noexcept nogil

# Blocking.  A timeout is microseconds left, SOCKET_TIMEO_FOREVER, or 0 (do not wait).
# socket_rcvtimeo / socket_sndtimeo: 0 with MSG_DONTWAIT in flags, else SO_RCVTIMEO /
# SO_SNDTIMEO (sock_rcvtimeo / sock_sndtimeo).
cdef extern uint64_t socket_rcvtimeo(socket *sock, uint32_t flags) noexcept nogil
cdef extern uint64_t socket_sndtimeo(socket *sock, uint32_t flags) noexcept nogil
# Sleep until cond(arg) (run under waitq_lock: no protocol lock in it), for at most
# *timeo, which is decreased by the time slept.  Call without the protocol lock.
# 0 (cond holds), -EAGAIN (*timeo was 0 or ran out), -ERESTARTSYS (a signal, no timeout
# set) or -EINTR (a signal with a timeout: Linux's sock_intr_errno).
cdef extern int64_t socket_wait(iowait_cond_fn cond, void *arg, uint64_t *timeo) noexcept nogil

# Message helpers for protocols.
# One stretch of a message's data: len bytes at addr (user memory when user), the stretch
# starting at byte `at` of the walk.  Returns the bytes it handled (fewer than len stops the
# walk) or a negative errno (stops it).
ctypedef int64_t (*sock_msg_segment_fn)(void *arg, uint64_t at, uint64_t addr, uint64_t len,
                                        bint user) noexcept nogil
# Walk n bytes of the message's data from byte skip on, one iovec stretch at a time: bytes
# handled, or -EFAULT if not even the first could be.  socket_msg_copy is this walk with
# copies; a protocol with its own buffers (unix's byte rings) passes its own segment.
cdef extern int64_t socket_msg_walk(sock_msg *m, uint64_t skip, uint64_t n,
                                    sock_msg_segment_fn segment, void *arg) noexcept nogil
# Copy n bytes between the message's data (from byte skip on) and the kernel buffer buf:
# to_msg true copies buf into the message (receive).  Bytes copied; -EFAULT if none could be.
cdef extern int64_t socket_msg_copy(sock_msg *m, uint64_t skip, uint8_t *buf, uint64_t n,
                                    bint to_msg) noexcept nogil
# put_cmsg: append one control message to the receive buffer; when it does not fit,
# what fits of it is written and MSG_CTRUNC set.  0 or -EFAULT.
cdef extern int64_t socket_put_cmsg(sock_msg *m, int32_t level, int32_t type, const void *data,
                                    uint32_t len) noexcept nogil
# setsockopt/getsockopt of an int option (Linux's rules): get: -EINVAL (ulen < 4),
# -EFAULT; put: reads *ulen (-EFAULT, -EINVAL if negative), writes min(*ulen, 4) bytes of v
# and the length back.
cdef extern int64_t socket_opt_get_int(uint64_t uval, uint32_t ulen, int32_t *v) noexcept nogil
cdef extern int64_t socket_opt_put_int(uint64_t uval, uint64_t ulen, int32_t v) noexcept nogil
# getsockopt of a value of klen bytes: as socket_opt_put_int for any size.
cdef extern int64_t socket_opt_put(uint64_t uval, uint64_t ulen, const void *kval, int32_t klen) noexcept nogil
