# The socket system calls (see socket_syscall.pxd).  Each takes its own reference to the
# socket's file for the call (fdget), since a protocol may sleep and another thread may
# close the descriptor meanwhile.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file, vfs_file_put, O_NONBLOCK, VFS_MAX_RW_COUNT
from tyn.fs.fdtable cimport fdtable_fget, fdtable_install, fdtable_reserve, fdtable_close
from tyn.fs.context cimport fs_context, fs_current
from tyn.mm.heap cimport kmalloc, kfree
from tyn.arch.cpu cimport memset
from tyn.arch.uaccess cimport copy_to_user, copy_from_user, USER_ADDRESS_LIMIT
from tyn.net.sockaddr cimport AF_INET, AF_INET6, SOCKADDR_STORAGE_SIZE
from tyn.net.socket cimport *
from tyn.sys.errno cimport *

cdef enum:
    INT_MAX = 0x7fffffff
    SOCK_CTL_STACK = 36             # ___sys_sendmsg's on-stack control buffer: larger ones
                                    # come from sock_kmalloc, bounded by optmem_max
    TIMEVAL_SIZE = 16               # struct __kernel_old_timeval / __kernel_sock_timeval
    LINGER_SIZE = 8                 # struct linger
    USEC_PER_SEC = 1000000
    SOCK_FLAGS_MASK = SOCK_CLOEXEC | SOCK_NONBLOCK

cdef extern from *:
    """
    #define SOCKET_SSIZE_MAX ((uint64_t)0x7fffffffffffffffULL)
    """
    const uint64_t SOCKET_SSIZE_MAX

# ------------------------------------------------------------------ helpers

cdef int64_t sock_fget(uint64_t fd, vfs_file **fout, socket **out) noexcept nogil:
    # sockfd_lookup_light: -EBADF, -ENOTSOCK, or 0 with a new reference to the file.
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    if ctx == NULL:
        return -EBADF
    f = fdtable_fget(&ctx.fdt, fd)
    if f == NULL:
        return -EBADF
    out[0] = socket_of_file(f)
    if out[0] == NULL:
        vfs_file_put(f)
        return -ENOTSOCK
    fout[0] = f
    return 0

cdef inline uint32_t file_nonblock(vfs_file *f) noexcept nogil:
    return MSG_DONTWAIT if (f.flags & O_NONBLOCK) else 0

cdef inline bint range_ok(uint64_t buf, uint64_t n) noexcept nogil:
    return n == 0 or (buf < USER_ADDRESS_LIMIT and n <= USER_ADDRESS_LIMIT - buf)

cdef int64_t addr_from_user(uint64_t uaddr, int32_t len, uint8_t *kaddr) noexcept nogil:
    # move_addr_to_kernel
    if len < 0 or len > SOCKADDR_STORAGE_SIZE:
        return -EINVAL
    if len == 0:
        return 0
    if copy_from_user(kaddr, uaddr, <uint64_t>len) < 0:
        return -EFAULT
    return 0

cdef int64_t addr_to_user(uint64_t uaddr, uint64_t ulen, const uint8_t *kaddr, int32_t klen) noexcept nogil:
    # move_addr_to_user: min(*ulen, klen) bytes, then klen itself into *ulen (the length
    # before truncation, 1003.1g).
    cdef int32_t n
    if copy_from_user(&n, ulen, sizeof(int32_t)) < 0:
        return -EFAULT
    if n > klen:
        n = klen
    if n < 0:
        return -EINVAL
    if n > 0 and copy_to_user(uaddr, kaddr, <uint64_t>n) < 0:
        return -EFAULT
    if copy_to_user(ulen, &klen, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

cdef int64_t import_iov(uint64_t uiov, uint64_t iovcnt, sock_msg *m) noexcept nogil:
    # import_iovec: -EMSGSIZE (too many), -EFAULT, -EINVAL (a length above SSIZE_MAX); the
    # total is capped at MAX_RW_COUNT by shortening segments, as Linux does.
    cdef uint64_t i, length, total = 0
    m.iov = NULL
    m.iovcnt = iovcnt
    m.total = 0
    m.user = True
    if iovcnt > UIO_MAXIOV:
        return -EMSGSIZE
    if iovcnt == 0:
        return 0
    m.iov = <uint64_t *>kmalloc(iovcnt * IOVEC_SIZE)
    if m.iov == NULL:
        return -ENOMEM
    if copy_from_user(m.iov, uiov, iovcnt * IOVEC_SIZE) < 0:
        kfree(m.iov)
        m.iov = NULL
        return -EFAULT
    for i in range(iovcnt):
        length = m.iov[2 * i + 1]
        if length > SOCKET_SSIZE_MAX:
            kfree(m.iov)
            m.iov = NULL
            return -EINVAL
        if length > VFS_MAX_RW_COUNT - total:
            length = VFS_MAX_RW_COUNT - total
            m.iov[2 * i + 1] = length
        if length > 0 and not range_ok(m.iov[2 * i], length):
            kfree(m.iov)
            m.iov = NULL
            return -EFAULT          # access_ok
        total += length
    m.total = total
    return 0

cdef inline void one_buffer(sock_msg *m, uint64_t *iov, uint64_t buf, uint64_t len) noexcept nogil:
    # sendto/recvfrom (import_ubuf): a message of one user buffer.
    iov[0] = buf
    iov[1] = len
    m.iov = iov
    m.iovcnt = 1
    m.total = len
    m.user = True

cdef int64_t install_file(fs_context *ctx, socket *sock, uint32_t flags) noexcept nogil:
    # sock_map_fd: a file for sock at the lowest free descriptor.  On failure sock is gone.
    cdef vfs_file *f = socket_file_new(sock, flags)
    cdef int64_t fd
    if f == NULL:
        socket_destroy(sock)
        return -ENFILE
    fd = fdtable_install(&ctx.fdt, f, 0, (flags & SOCK_CLOEXEC) != 0)
    if fd < 0:
        vfs_file_put(f)             # releases the socket
    return fd

# ------------------------------------------------------------------ creation

cdef int64_t sys_socket(uint64_t family, uint64_t type, uint64_t protocol) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef int32_t t = <int32_t>type
    cdef uint32_t flags = <uint32_t>(t & ~SOCK_TYPE_MASK)
    cdef socket *sock
    cdef int64_t rc
    if flags & ~(<uint32_t>SOCK_FLAGS_MASK):
        return -EINVAL
    if ctx == NULL:
        return -ENOSYS
    rc = socket_create(<int32_t>family, t & SOCK_TYPE_MASK, <int32_t>protocol, False, &sock)
    if rc < 0:
        return rc
    return install_file(ctx, sock, flags)

cdef int64_t sys_socketpair(uint64_t family, uint64_t type, uint64_t protocol, uint64_t usv) noexcept nogil:
    # __sys_socketpair's order: flags, two free fds, the fds stored to sv (so EFAULT comes
    # before any family/type check), both sockets, ops.socketpair, the files.
    cdef fs_context *ctx = fs_current()
    cdef int32_t fam = <int32_t>family
    cdef int32_t t = <int32_t>type
    cdef uint32_t flags = <uint32_t>(t & ~SOCK_TYPE_MASK)
    cdef int64_t fd1, fd2, rc
    cdef int32_t v
    cdef socket *a = NULL
    cdef socket *b = NULL
    cdef vfs_file *fa
    cdef vfs_file *fb
    if flags & ~(<uint32_t>SOCK_FLAGS_MASK):
        return -EINVAL
    t &= SOCK_TYPE_MASK
    if ctx == NULL:
        return -ENOSYS
    fd1 = fdtable_reserve(&ctx.fdt, 0)
    if fd1 < 0:
        return fd1
    fd2 = fdtable_reserve(&ctx.fdt, <uint64_t>fd1 + 1)
    if fd2 < 0:
        return fd2
    v = <int32_t>fd1
    if copy_to_user(usv, &v, 4) < 0:
        return -EFAULT
    v = <int32_t>fd2
    if copy_to_user(usv + 4, &v, 4) < 0:
        return -EFAULT
    rc = socket_create(fam, t, <int32_t>protocol, True, &a)
    if rc == -EAFNOSUPPORT and (fam == AF_INET or fam == AF_INET6):
        # Linux always has these families and its inet ops refuse pairs; until a protocol
        # registers for them here, answer as Linux does.
        return -EOPNOTSUPP
    if rc < 0:
        return rc
    rc = socket_create(fam, t, <int32_t>protocol, True, &b)
    if rc < 0:
        socket_destroy(a)
        return rc
    rc = a.ops.socketpair(a, b) if a.ops.socketpair != NULL else -EOPNOTSUPP
    if rc < 0:
        socket_destroy(a)
        socket_destroy(b)
        return rc
    fa = socket_file_new(a, flags)
    fb = socket_file_new(b, flags) if fa != NULL else NULL
    if fb == NULL:
        if fa != NULL:
            vfs_file_put(fa)
        else:
            socket_destroy(a)
        socket_destroy(b)
        return -ENFILE
    rc = fdtable_install(&ctx.fdt, fa, <uint64_t>fd1, (flags & SOCK_CLOEXEC) != 0)
    if rc < 0:
        vfs_file_put(fa)
        vfs_file_put(fb)
        return rc
    rc = fdtable_install(&ctx.fdt, fb, <uint64_t>fd2, (flags & SOCK_CLOEXEC) != 0)
    if rc < 0:
        fdtable_close(&ctx.fdt, <uint64_t>fd1)
        vfs_file_put(fb)
        return rc
    return 0

# ------------------------------------------------------------------ addresses, connections

cdef int64_t sys_bind(uint64_t fd, uint64_t uaddr, uint64_t addrlen) noexcept nogil:
    cdef vfs_file *f
    cdef socket *sock
    cdef uint8_t addr[SOCKADDR_STORAGE_SIZE]
    cdef int64_t rc = sock_fget(fd, &f, &sock)
    if rc < 0:
        return rc
    rc = addr_from_user(uaddr, <int32_t>addrlen, addr)
    if rc == 0:
        rc = sock.ops.bind(sock, addr, <int32_t>addrlen) if sock.ops.bind != NULL else -EOPNOTSUPP
    vfs_file_put(f)
    return rc

cdef int64_t sys_listen(uint64_t fd, uint64_t backlog) noexcept nogil:
    cdef vfs_file *f
    cdef socket *sock
    cdef uint64_t flags
    cdef int32_t n = <int32_t>backlog
    cdef int64_t rc = sock_fget(fd, &f, &sock)
    if rc < 0:
        return rc
    if <uint32_t>n > SOMAXCONN:
        n = SOMAXCONN               # negative backlogs too (an unsigned comparison)
    rc = sock.ops.listen(sock, n) if sock.ops.listen != NULL else -EOPNOTSUPP
    if rc == 0:
        flags = sock.ops.lock(sock)
        sock.flags |= SOCKET_ACCEPTCONN
        sock.ops.unlock(sock, flags)
    vfs_file_put(f)
    return rc

cdef int64_t sys_accept4(uint64_t fd, uint64_t uaddr, uint64_t ulen, uint64_t uflags) noexcept nogil:
    # __sys_accept4 / do_accept: flags, the fd, a free descriptor, the new socket, the
    # protocol's accept (which may wait), the peer's address, then the descriptor.
    cdef fs_context *ctx = fs_current()
    cdef uint32_t flags = <uint32_t>uflags
    cdef vfs_file *f
    cdef vfs_file *nf
    cdef socket *sock
    cdef socket *newsock
    cdef uint8_t addr[SOCKADDR_STORAGE_SIZE]
    cdef int32_t len
    cdef int64_t rc
    cdef uint64_t lk
    if flags & ~(<uint32_t>SOCK_FLAGS_MASK):
        return -EINVAL
    if ctx == NULL:
        return -EBADF
    f = fdtable_fget(&ctx.fdt, fd)
    if f == NULL:
        return -EBADF
    rc = fdtable_reserve(&ctx.fdt, 0)
    if rc < 0:
        vfs_file_put(f)
        return rc
    sock = socket_of_file(f)
    if sock == NULL:
        vfs_file_put(f)
        return -ENOTSOCK
    if sock.ops.accept == NULL:
        vfs_file_put(f)
        return -EOPNOTSUPP
    newsock = socket_clone_for_accept(sock)
    if newsock == NULL:
        vfs_file_put(f)
        return -ENFILE
    rc = sock.ops.accept(sock, newsock, file_nonblock(f))
    vfs_file_put(f)
    if rc < 0:
        socket_destroy(newsock)
        return rc
    lk = newsock.ops.lock(newsock)
    newsock.state = SS_CONNECTED
    newsock.ops.unlock(newsock, lk)
    nf = socket_file_new(newsock, flags)
    if nf == NULL:
        socket_destroy(newsock)
        return -ENFILE
    if uaddr != 0:
        len = newsock.ops.getname(newsock, addr, True) if newsock.ops.getname != NULL else -EOPNOTSUPP
        if len < 0:
            vfs_file_put(nf)
            return -ECONNABORTED
        rc = addr_to_user(uaddr, ulen, addr, len)
        if rc < 0:
            vfs_file_put(nf)
            return rc
    rc = fdtable_install(&ctx.fdt, nf, 0, (flags & SOCK_CLOEXEC) != 0)
    if rc < 0:
        vfs_file_put(nf)
    return rc

cdef int64_t sys_accept(uint64_t fd, uint64_t uaddr, uint64_t ulen) noexcept nogil:
    return sys_accept4(fd, uaddr, ulen, 0)

cdef bint connect_settled(void *arg) noexcept nogil:
    return (<socket *>arg).state != SS_CONNECTING

cdef int64_t socket_connect(socket *sock, const uint8_t *addr, int32_t len, uint32_t flags) noexcept nogil:
    # The protocol connects or starts connecting (-EINPROGRESS with sock.state =
    # SS_CONNECTING; -EALREADY when a connect was already under way).  A blocking caller
    # then waits up to SO_SNDTIMEO for the outcome (inet_stream_connect's tail): connected,
    # or the pending error (ECONNABORTED when none).  A timeout leaves the errno as it was;
    # a signal gives -ERESTARTSYS (the restarted call waits again) or -EINTR.
    cdef int64_t rc = sock.ops.connect(sock, addr, len, flags)
    cdef int64_t w
    cdef uint64_t timeo, lk
    cdef int32_t err
    if rc != -EINPROGRESS and rc != -EALREADY:
        return rc
    timeo = socket_sndtimeo(sock, flags)
    if timeo == 0:
        return rc
    w = socket_wait(connect_settled, sock, &timeo)
    if w == -EAGAIN:
        return rc
    if w < 0:
        return w
    lk = sock.ops.lock(sock)
    if sock.state == SS_CONNECTED:
        sock.flags &= ~(<uint32_t>SOCKET_CONNECT_UNREPORTED)
        rc = 0
    else:
        err = socket_take_error(sock)
        rc = -err if err != 0 else -ECONNABORTED
    sock.ops.unlock(sock, lk)
    return rc

cdef int64_t sys_connect(uint64_t fd, uint64_t uaddr, uint64_t addrlen) noexcept nogil:
    # __sys_connect: the fd, the address, then whether it is a socket.
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef socket *sock
    cdef uint8_t addr[SOCKADDR_STORAGE_SIZE]
    cdef int64_t rc
    if ctx == NULL:
        return -EBADF
    f = fdtable_fget(&ctx.fdt, fd)
    if f == NULL:
        return -EBADF
    rc = addr_from_user(uaddr, <int32_t>addrlen, addr)
    if rc == 0:
        sock = socket_of_file(f)
        if sock == NULL:
            rc = -ENOTSOCK
        elif sock.ops.connect == NULL:
            rc = -EOPNOTSUPP
        else:
            rc = socket_connect(sock, addr, <int32_t>addrlen, file_nonblock(f))
    vfs_file_put(f)
    return rc

cdef int64_t sys_shutdown(uint64_t fd, uint64_t how) noexcept nogil:
    cdef vfs_file *f
    cdef socket *sock
    cdef int32_t h = <int32_t>how
    cdef int64_t rc = sock_fget(fd, &f, &sock)
    if rc < 0:
        return rc
    if sock.ops.shutdown == NULL:
        rc = -EOPNOTSUPP
    elif h < SHUT_RD or h > SHUT_RDWR:
        rc = -EINVAL
    else:
        rc = sock.ops.shutdown(sock, <uint32_t>(h + 1) & SHUTDOWN_MASK)
    vfs_file_put(f)
    return rc

cdef int64_t getname(uint64_t fd, uint64_t uaddr, uint64_t ulen, bint peer) noexcept nogil:
    cdef vfs_file *f
    cdef socket *sock
    cdef uint8_t addr[SOCKADDR_STORAGE_SIZE]
    cdef int64_t rc = sock_fget(fd, &f, &sock)
    cdef int32_t len
    if rc < 0:
        return rc
    memset(addr, 0, SOCKADDR_STORAGE_SIZE)
    len = sock.ops.getname(sock, addr, peer) if sock.ops.getname != NULL else -EOPNOTSUPP
    vfs_file_put(f)
    if len < 0:
        return len
    return addr_to_user(uaddr, ulen, addr, len)

cdef int64_t sys_getsockname(uint64_t fd, uint64_t uaddr, uint64_t ulen) noexcept nogil:
    return getname(fd, uaddr, ulen, False)

cdef int64_t sys_getpeername(uint64_t fd, uint64_t uaddr, uint64_t ulen) noexcept nogil:
    return getname(fd, uaddr, ulen, True)

# ------------------------------------------------------------------ data

cdef int64_t sys_sendmsg(uint64_t fd, uint64_t umsghdr, uint64_t uflags) noexcept nogil:
    # __sys_sendmsg / ___sys_sendmsg: the header, the address, the iovecs, the control
    # buffer (kernel copy, at most optmem_max), then the protocol.
    cdef uint32_t flags = <uint32_t>uflags
    cdef vfs_file *f
    cdef socket *sock
    cdef uint64_t h[7]
    cdef int32_t namelen
    cdef uint8_t name[SOCKADDR_STORAGE_SIZE]
    cdef uint8_t *ctl = NULL
    cdef sock_msg m
    cdef int64_t rc
    if flags & MSG_CMSG_COMPAT:
        return -EINVAL
    rc = sock_fget(fd, &f, &sock)
    if rc < 0:
        return rc
    memset(&m, 0, sizeof(sock_msg))
    if copy_from_user(h, umsghdr, MSGHDR_SIZE) < 0:
        vfs_file_put(f)
        return -EFAULT
    namelen = <int32_t>h[1] if h[0] != 0 else 0
    if namelen < 0:
        vfs_file_put(f)
        return -EINVAL
    if namelen > SOCKADDR_STORAGE_SIZE:
        namelen = SOCKADDR_STORAGE_SIZE
    if namelen > 0 and copy_from_user(name, h[0], <uint64_t>namelen) < 0:
        vfs_file_put(f)
        return -EFAULT
    rc = import_iov(h[2], h[3], &m)
    if rc < 0:
        vfs_file_put(f)
        return rc
    if h[5] > INT_MAX or (h[5] > SOCK_CTL_STACK and h[5] >= SOCK_OPTMEM_MAX):
        rc = -ENOBUFS
    elif h[5] > 0:
        ctl = <uint8_t *>kmalloc(h[5])
        if ctl == NULL:
            rc = -ENOBUFS
        elif copy_from_user(ctl, h[4], h[5]) < 0:
            rc = -EFAULT
    if rc == 0:
        m.name = name if namelen > 0 else NULL
        m.namelen = namelen
        m.control = ctl
        m.controllen = h[5] if ctl != NULL else 0
        rc = socket_sendmsg(sock, &m, flags | file_nonblock(f))
    if ctl != NULL:
        kfree(ctl)
    kfree(m.iov)
    vfs_file_put(f)
    return rc

cdef int64_t sys_sendto(uint64_t fd, uint64_t buf, uint64_t len, uint64_t uflags, uint64_t uaddr, uint64_t addrlen) noexcept nogil:
    # __sys_sendto: the buffer (access_ok), the fd, the address, then the protocol.
    cdef uint32_t flags = <uint32_t>uflags
    cdef vfs_file *f
    cdef socket *sock
    cdef uint64_t iov[2]
    cdef sock_msg m
    cdef int32_t alen = <int32_t>addrlen
    cdef uint8_t name[SOCKADDR_STORAGE_SIZE]
    cdef int64_t rc
    if len > VFS_MAX_RW_COUNT:
        len = VFS_MAX_RW_COUNT
    if not range_ok(buf, len):
        return -EFAULT
    rc = sock_fget(fd, &f, &sock)
    if rc < 0:
        return rc
    memset(&m, 0, sizeof(sock_msg))
    one_buffer(&m, iov, buf, len)
    if uaddr != 0:
        rc = addr_from_user(uaddr, alen, name)
        if rc < 0:
            vfs_file_put(f)
            return rc
        if alen > 0:
            m.name = name
            m.namelen = alen
    rc = socket_sendmsg(sock, &m, flags | file_nonblock(f))
    vfs_file_put(f)
    return rc

cdef int64_t sys_recvmsg(uint64_t fd, uint64_t umsghdr, uint64_t uflags) noexcept nogil:
    # __sys_recvmsg / ____sys_recvmsg: the header, the iovecs, the protocol, then the
    # source address (msg_namelen: its full length), msg_flags and msg_controllen.
    cdef uint32_t flags = <uint32_t>uflags
    cdef vfs_file *f
    cdef socket *sock
    cdef uint64_t h[7]
    cdef uint8_t name[SOCKADDR_STORAGE_SIZE]
    cdef sock_msg m
    cdef int64_t rc, n
    if flags & MSG_CMSG_COMPAT:
        return -EINVAL
    rc = sock_fget(fd, &f, &sock)
    if rc < 0:
        return rc
    memset(&m, 0, sizeof(sock_msg))
    if copy_from_user(h, umsghdr, MSGHDR_SIZE) < 0:
        vfs_file_put(f)
        return -EFAULT
    if h[0] != 0 and <int32_t>h[1] < 0:
        vfs_file_put(f)
        return -EINVAL
    rc = import_iov(h[2], h[3], &m)
    if rc < 0:
        vfs_file_put(f)
        return rc
    m.name = name if h[0] != 0 else NULL
    m.ucontrol = h[4]
    m.ucontrollen = h[5]
    m.msg_flags = flags & MSG_CMSG_CLOEXEC
    n = sock.ops.recvmsg(sock, &m, flags | file_nonblock(f))
    kfree(m.iov)
    vfs_file_put(f)
    if n < 0:
        return n
    if h[0] != 0:
        rc = addr_to_user(h[0], umsghdr + 8, name, m.namelen)
        if rc < 0:
            return rc
    if copy_to_user(umsghdr + 48, &m.msg_flags, 4) < 0:
        return -EFAULT
    if copy_to_user(umsghdr + 40, &m.control_used, 8) < 0:
        return -EFAULT
    return n

cdef int64_t sys_recvfrom(uint64_t fd, uint64_t buf, uint64_t len, uint64_t uflags, uint64_t uaddr, uint64_t ulen) noexcept nogil:
    cdef uint32_t flags = <uint32_t>uflags
    cdef vfs_file *f
    cdef socket *sock
    cdef uint64_t iov[2]
    cdef uint8_t name[SOCKADDR_STORAGE_SIZE]
    cdef sock_msg m
    cdef int64_t rc, r2
    if len > VFS_MAX_RW_COUNT:
        len = VFS_MAX_RW_COUNT
    if not range_ok(buf, len):
        return -EFAULT
    rc = sock_fget(fd, &f, &sock)
    if rc < 0:
        return rc
    memset(&m, 0, sizeof(sock_msg))
    one_buffer(&m, iov, buf, len)
    m.name = name if uaddr != 0 else NULL
    rc = sock.ops.recvmsg(sock, &m, flags | file_nonblock(f))
    vfs_file_put(f)
    if rc >= 0 and uaddr != 0:
        r2 = addr_to_user(uaddr, ulen, name, m.namelen)
        if r2 < 0:
            return r2
    return rc

# ------------------------------------------------------------------ options

cdef int64_t timeout_from_user(uint64_t uval, uint32_t ulen, uint64_t *timeo) noexcept nogil:
    # sock_set_timeout: a timeval; tv_usec out of range is -EDOM, a negative tv_sec means
    # "do not wait" (0), zero means no timeout.  (Linux rounds up to its tick; kept exact.)
    cdef int64_t tv[2]
    if ulen < TIMEVAL_SIZE:
        return -EINVAL
    if copy_from_user(tv, uval, TIMEVAL_SIZE) < 0:
        return -EFAULT
    if tv[1] < 0 or tv[1] >= USEC_PER_SEC:
        return -EDOM
    if tv[0] < 0:
        timeo[0] = 0
    elif tv[0] == 0 and tv[1] == 0:
        timeo[0] = SOCKET_TIMEO_FOREVER
    elif <uint64_t>tv[0] >= SOCKET_TIMEO_FOREVER // USEC_PER_SEC - 1:
        timeo[0] = SOCKET_TIMEO_FOREVER
    else:
        timeo[0] = <uint64_t>tv[0] * USEC_PER_SEC + <uint64_t>tv[1]
    return 0

cdef inline int32_t buffer_size(int32_t v) noexcept nogil:
    # Linux stores twice the request (room for its bookkeeping), the request capped at
    # INT_MAX / 2.
    return 2 * (v if v <= INT_MAX // 2 else INT_MAX // 2)

cdef int64_t sol_setsockopt(socket *sock, int32_t name, uint64_t uval, uint32_t ulen) noexcept nogil:
    # sk_setsockopt for the options every family shares.  The value is read before the
    # protocol lock is taken; the change is stored, then the protocol told.
    cdef int32_t v
    cdef int32_t ling[2]
    cdef uint32_t bit = 0, u
    cdef uint64_t timeo = 0, lk
    cdef int64_t rc = socket_opt_get_int(uval, ulen, &v)
    if rc < 0:
        return rc
    if name == SO_LINGER:
        if ulen < LINGER_SIZE:
            return -EINVAL
        if copy_from_user(ling, uval, LINGER_SIZE) < 0:
            return -EFAULT
    elif name == SO_RCVTIMEO_OLD or name == SO_RCVTIMEO_NEW or name == SO_SNDTIMEO_OLD or name == SO_SNDTIMEO_NEW:
        rc = timeout_from_user(uval, ulen, &timeo)
        if rc < 0:
            return rc
    elif name == SO_REUSEADDR:
        bit = SOCKOPT_REUSEADDR
    elif name == SO_REUSEPORT:
        if v != 0 and sock.family != AF_INET and sock.family != AF_INET6:
            return -EOPNOTSUPP
        bit = SOCKOPT_REUSEPORT
    elif name == SO_KEEPALIVE:
        bit = SOCKOPT_KEEPALIVE
    elif name == SO_BROADCAST:
        bit = SOCKOPT_BROADCAST
    elif name == SO_OOBINLINE:
        bit = SOCKOPT_OOBINLINE
    elif name == SO_DONTROUTE:
        bit = SOCKOPT_DONTROUTE
    elif name == SO_PASSCRED:
        bit = SOCKOPT_PASSCRED
    elif name == SO_DEBUG:
        bit = SOCKOPT_DEBUG
    elif not (name == SO_SNDBUF or name == SO_RCVBUF or name == SO_SNDBUFFORCE or name == SO_RCVBUFFORCE
              or name == SO_PRIORITY or name == SO_RCVLOWAT):
        return -ENOPROTOOPT
    lk = sock.ops.lock(sock)
    if bit != 0:
        if v != 0:
            sock.opt.flags |= bit
        else:
            sock.opt.flags &= ~bit
    elif name == SO_SNDBUF or name == SO_RCVBUF:
        u = <uint32_t>v             # min_t(u32, val, wmem_max / rmem_max)
        if u > (SOCK_WMEM_MAX if name == SO_SNDBUF else SOCK_RMEM_MAX):
            u = SOCK_WMEM_MAX if name == SO_SNDBUF else SOCK_RMEM_MAX
        v = buffer_size(<int32_t>u)
    elif name == SO_SNDBUFFORCE or name == SO_RCVBUFFORCE:
        v = buffer_size(v if v > 0 else 0)      # CAP_NET_ADMIN: every Tyn process is root
    if name == SO_SNDBUF or name == SO_SNDBUFFORCE:
        sock.opt.sndbuf = v if v > SOCK_MIN_SNDBUF else SOCK_MIN_SNDBUF
        sock.opt.flags |= SOCKOPT_SNDBUF_LOCK
        name = SO_SNDBUF
    elif name == SO_RCVBUF or name == SO_RCVBUFFORCE:
        sock.opt.rcvbuf = v if v > SOCK_MIN_RCVBUF else SOCK_MIN_RCVBUF
        sock.opt.flags |= SOCKOPT_RCVBUF_LOCK
        name = SO_RCVBUF
    elif name == SO_LINGER:
        if ling[0] != 0:
            sock.opt.flags |= SOCKOPT_LINGER
            sock.opt.linger_secs = ling[1]
        else:
            sock.opt.flags &= ~(<uint32_t>SOCKOPT_LINGER)
    elif name == SO_RCVTIMEO_OLD or name == SO_RCVTIMEO_NEW:
        sock.opt.rcvtimeo_us = timeo
    elif name == SO_SNDTIMEO_OLD or name == SO_SNDTIMEO_NEW:
        sock.opt.sndtimeo_us = timeo
    elif name == SO_PRIORITY:
        sock.opt.priority = v
    elif name == SO_RCVLOWAT:
        sock.opt.rcvlowat = INT_MAX if v < 0 else (v if v != 0 else 1)
    if sock.ops.option_changed != NULL:
        sock.ops.option_changed(sock, name)
    sock.ops.unlock(sock, lk)
    return 0

cdef int64_t sol_getsockopt(socket *sock, int32_t name, uint64_t uval, uint64_t ulen) noexcept nogil:
    # sk_getsockopt for the options every family shares.
    cdef int32_t len, v = 0, klen = sizeof(int32_t)
    cdef int32_t ling[2]
    cdef int64_t tv[2]
    cdef uint64_t timeo, lk
    cdef const void *kval = &v
    if copy_from_user(&len, ulen, sizeof(int32_t)) < 0:
        return -EFAULT
    if len < 0:
        return -EINVAL
    lk = sock.ops.lock(sock)
    if name == SO_TYPE:
        v = sock.type
    elif name == SO_DOMAIN:
        v = sock.family
    elif name == SO_PROTOCOL:
        v = sock.protocol
    elif name == SO_ERROR:
        v = socket_take_so_error(sock)
    elif name == SO_ACCEPTCONN:
        v = 1 if sock.flags & SOCKET_ACCEPTCONN else 0
    elif name == SO_SNDBUF or name == SO_RCVBUF:
        if sock.ops.buffer_size != NULL:
            v = <int32_t>sock.ops.buffer_size(sock, name == SO_SNDBUF)
        else:
            v = sock.opt.sndbuf if name == SO_SNDBUF else sock.opt.rcvbuf
    elif name == SO_REUSEADDR:
        v = (sock.opt.flags & SOCKOPT_REUSEADDR) != 0
    elif name == SO_REUSEPORT:
        v = (sock.opt.flags & SOCKOPT_REUSEPORT) != 0
    elif name == SO_KEEPALIVE:
        v = (sock.opt.flags & SOCKOPT_KEEPALIVE) != 0
    elif name == SO_BROADCAST:
        v = (sock.opt.flags & SOCKOPT_BROADCAST) != 0
    elif name == SO_OOBINLINE:
        v = (sock.opt.flags & SOCKOPT_OOBINLINE) != 0
    elif name == SO_DONTROUTE:
        v = (sock.opt.flags & SOCKOPT_DONTROUTE) != 0
    elif name == SO_PASSCRED:
        v = (sock.opt.flags & SOCKOPT_PASSCRED) != 0
    elif name == SO_DEBUG:
        v = (sock.opt.flags & SOCKOPT_DEBUG) != 0
    elif name == SO_PRIORITY:
        v = sock.opt.priority
    elif name == SO_RCVLOWAT:
        v = sock.opt.rcvlowat
    elif name == SO_SNDLOWAT:
        v = 1
    elif name == SO_LINGER:
        ling[0] = (sock.opt.flags & SOCKOPT_LINGER) != 0
        ling[1] = sock.opt.linger_secs
        kval = ling
        klen = LINGER_SIZE
    elif name == SO_RCVTIMEO_OLD or name == SO_RCVTIMEO_NEW or name == SO_SNDTIMEO_OLD or name == SO_SNDTIMEO_NEW:
        timeo = sock.opt.rcvtimeo_us if name == SO_RCVTIMEO_OLD or name == SO_RCVTIMEO_NEW else sock.opt.sndtimeo_us
        if timeo == SOCKET_TIMEO_FOREVER:
            timeo = 0
        tv[0] = <int64_t>(timeo // USEC_PER_SEC)
        tv[1] = <int64_t>(timeo % USEC_PER_SEC)
        kval = tv
        klen = TIMEVAL_SIZE
    else:
        sock.ops.unlock(sock, lk)
        if name == SO_PEERCRED and sock.ops.getsockopt != NULL:
            return sock.ops.getsockopt(sock, SOL_SOCKET, name, uval, ulen)   # AF_UNIX's ucred
        return -ENOPROTOOPT
    sock.ops.unlock(sock, lk)
    return socket_opt_put(uval, ulen, kval, klen)

cdef int64_t sys_setsockopt(uint64_t fd, uint64_t level, uint64_t name, uint64_t uval, uint64_t ulen) noexcept nogil:
    cdef vfs_file *f
    cdef socket *sock
    cdef int64_t rc
    if <int32_t>ulen < 0:
        return -EINVAL
    rc = sock_fget(fd, &f, &sock)
    if rc < 0:
        return rc
    if <int32_t>level == SOL_SOCKET:
        rc = sol_setsockopt(sock, <int32_t>name, uval, <uint32_t>ulen)
    elif sock.ops.setsockopt == NULL:
        rc = -EOPNOTSUPP
    else:
        rc = sock.ops.setsockopt(sock, <int32_t>level, <int32_t>name, uval, <uint32_t>ulen)
    vfs_file_put(f)
    return rc

cdef int64_t sys_getsockopt(uint64_t fd, uint64_t level, uint64_t name, uint64_t uval, uint64_t ulen) noexcept nogil:
    cdef vfs_file *f
    cdef socket *sock
    cdef int64_t rc = sock_fget(fd, &f, &sock)
    if rc < 0:
        return rc
    if <int32_t>level == SOL_SOCKET:
        rc = sol_getsockopt(sock, <int32_t>name, uval, ulen)
    elif sock.ops.getsockopt == NULL:
        rc = -EOPNOTSUPP
    else:
        rc = sock.ops.getsockopt(sock, <int32_t>level, <int32_t>name, uval, ulen)
    vfs_file_put(f)
    return rc
