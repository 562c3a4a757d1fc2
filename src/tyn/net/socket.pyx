# The family-independent socket layer (see socket.pxd): registry, socket files, wakeups,
# blocking waits and message helpers.  Semantics follow Linux net/socket.c (__sock_create,
# sock_alloc_file, sock_read_iter/sock_write_iter, sock_poll, sock_close), net/core/sock.c
# (sock_def_wakeup & co., sock_rcvtimeo, sock_intr_errno) and net/core/scm.c (put_cmsg).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport (vfs_file, vfs_file_ops, vfs_kstat, vfs_file_new, vfs_file_put,
                         O_RDWR, O_NONBLOCK, POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP,
                         POLLRDNORM, POLLWRNORM)
from tyn.fs.wakeups cimport io_wakeups_init, io_wake_in, io_wake_out, io_wake_all
from tyn.fs.fsnode cimport S_IFSOCK
from tyn.proc.waitq cimport io_notify, waitq_lock, waitq_unlock, waitq_sleep, io_waitq
from tyn.proc.task cimport WAKE_INTERRUPTED, WAKE_TIMEOUT, thread
from tyn.proc.sched cimport sched_current
from tyn.sys.signal cimport signal_raise, SIGPIPE
from tyn.arch.tsc cimport monotonic_ns
from tyn.lib.spinlock cimport (spinlock, spinlock_init, spinlock_acquire, spinlock_release,
                               SPINLOCK_RANK_SOCKET_REGISTRY)
from tyn.arch.cpu cimport memset, memcpy, read_rflags, irq_disable, irq_enable, RFLAGS_IF
from tyn.arch.uaccess cimport copy_to_user, copy_from_user
from tyn.mm.heap cimport kcalloc, kfree
from tyn.net.sockaddr cimport NPROTO, AF_INET
from tyn.sys.errno cimport *
from tyn.net.ifioctl cimport ifioctl

cdef enum:
    NSEC_PER_USEC = 1000
    STAT_BLKSIZE = 4096

# One registration: socket(family, type, protocol) -> create.
cdef struct registration:
    int32_t family
    int32_t type
    int32_t protocol
    socket_create_fn create

# registry_lock (interrupts off today; a spinlock with SMP) protects the registry and the
# inode counter.  Registrations happen at boot, lookups at every socket().
cdef registration registry[SOCKET_REGISTRY_SIZE]
cdef uint32_t registry_count
cdef uint64_t last_ino
cdef vfs_file_ops file_ops
cdef bint file_ops_ready

cdef spinlock registry_spin
cdef bint registry_spin_ready

cdef inline uint64_t registry_lock() noexcept nogil:
    global registry_spin_ready
    if not registry_spin_ready:         # socket_init, at boot on one CPU
        spinlock_init(&registry_spin, b"socket_registry", SPINLOCK_RANK_SOCKET_REGISTRY)
        registry_spin_ready = True
    return spinlock_acquire(&registry_spin)

cdef inline void registry_unlock(uint64_t flags) noexcept nogil:
    spinlock_release(&registry_spin, flags)

cdef void socket_init() noexcept nogil:
    global registry_count, file_ops_ready
    cdef uint64_t flags = registry_lock()
    memset(registry, 0, sizeof(registry))
    registry_count = 0
    memset(&file_ops, 0, sizeof(vfs_file_ops))
    file_ops.read = socket_file_read
    file_ops.write = socket_file_write
    file_ops.stat = socket_file_stat
    file_ops.poll = socket_file_poll
    file_ops.ioctl = socket_file_ioctl
    file_ops.close = socket_file_close
    file_ops_ready = True
    registry_unlock(flags)

cdef int socket_register_family(int32_t family, int32_t type, int32_t protocol,
                                socket_create_fn create) noexcept nogil:
    global registry_count
    cdef uint32_t i
    cdef uint64_t flags
    if family < 0 or family >= NPROTO or type <= 0 or type >= SOCK_MAX or protocol < 0 or create == NULL:
        return -EINVAL
    flags = registry_lock()
    for i in range(registry_count):
        if registry[i].family == family and registry[i].type == type and registry[i].protocol == protocol:
            registry_unlock(flags)
            return -EEXIST
    if registry_count == SOCKET_REGISTRY_SIZE:
        registry_unlock(flags)
        return -ENOSPC
    registry[registry_count].family = family
    registry[registry_count].type = type
    registry[registry_count].protocol = protocol
    registry[registry_count].create = create
    registry_count += 1
    registry_unlock(flags)
    return 0

cdef int64_t find_create(int32_t family, int32_t type, int32_t *protocol, socket_create_fn *out) noexcept nogil:
    # inet_create's lookup: the first entry of (family, type) whose protocol matches (0 in
    # the call or in the entry is a wildcard).  No family: -EAFNOSUPPORT; no such type:
    # -ESOCKTNOSUPPORT; the type with other protocols only: -EPROTONOSUPPORT.
    cdef uint32_t i
    cdef int64_t err = -EAFNOSUPPORT
    cdef uint64_t flags = registry_lock()
    for i in range(registry_count):
        if registry[i].family != family:
            continue
        if err == -EAFNOSUPPORT:
            err = -ESOCKTNOSUPPORT
        if registry[i].type != type:
            continue
        err = -EPROTONOSUPPORT
        if registry[i].protocol == 0 or protocol[0] == 0 or protocol[0] == registry[i].protocol:
            if registry[i].protocol != 0:
                protocol[0] = registry[i].protocol
            out[0] = registry[i].create
            registry_unlock(flags)
            return 0
    registry_unlock(flags)
    return err

cdef socket *socket_alloc(int32_t family, int32_t type, int32_t protocol) noexcept nogil:
    global last_ino
    cdef socket *sock = <socket *>kcalloc(1, sizeof(socket))
    cdef uint64_t flags
    if sock == NULL:
        return NULL
    sock.family = <uint16_t>family
    sock.type = <uint16_t>type
    sock.protocol = protocol
    sock.state = SS_UNCONNECTED
    sock.opt.sndbuf = SOCK_WMEM_DEFAULT
    sock.opt.rcvbuf = SOCK_RMEM_DEFAULT
    sock.opt.rcvlowat = 1
    sock.opt.rcvtimeo_us = SOCKET_TIMEO_FOREVER
    sock.opt.sndtimeo_us = SOCKET_TIMEO_FOREVER
    flags = registry_lock()
    last_ino += 1
    sock.ino = last_ino
    registry_unlock(flags)
    # sock_def_readable's key; sk_stream_write_space / unix_write_space's
    io_wakeups_init(&sock.wakeups, POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND,
                    POLLOUT | POLLWRNORM | POLLWRBAND)
    return sock

cdef int64_t socket_create(int32_t family, int32_t type, int32_t protocol, bint for_pair,
                           socket **out) noexcept nogil:
    cdef socket_create_fn create = NULL
    cdef socket *sock
    cdef int64_t rc
    out[0] = NULL
    if family < 0 or family >= NPROTO:
        return -EAFNOSUPPORT
    if type < 0 or type >= SOCK_MAX:
        return -EINVAL
    if family == AF_INET and (protocol < 0 or protocol >= IPPROTO_MAX):
        return -EINVAL              # inet_create's check, before its protocol lookup
    rc = find_create(family, type, &protocol, &create)
    if rc < 0:
        return rc
    sock = socket_alloc(family, type, protocol)
    if sock == NULL:
        return -ENFILE              # sock_alloc: no inode
    rc = create(sock, protocol, for_pair)
    if rc < 0:
        kfree(sock)
        return rc
    out[0] = sock
    return 0

cdef socket *socket_clone_for_accept(socket *listener) noexcept nogil:
    cdef socket *sock = socket_alloc(listener.family, listener.type, listener.protocol)
    cdef uint64_t flags
    if sock == NULL:
        return NULL
    sock.ops = listener.ops
    flags = listener.ops.lock(listener)
    sock.opt = listener.opt
    listener.ops.unlock(listener, flags)
    return sock

cdef void socket_destroy(socket *sock) noexcept nogil:
    if sock == NULL:
        return
    if sock.proto != NULL:
        sock.ops.release(sock)
    kfree(sock)

cdef vfs_file *socket_file_new(socket *sock, uint32_t flags) noexcept nogil:
    cdef vfs_file *f
    if not file_ops_ready:
        return NULL
    f = vfs_file_new(&file_ops, NULL, O_RDWR | (flags & O_NONBLOCK), sock)
    if f == NULL:
        return NULL
    f.wakeups = &sock.wakeups
    sock.file = f
    return f

cdef socket *socket_of_file(vfs_file *f) noexcept nogil:
    if not file_ops_ready or f.ops != &file_ops:
        return NULL
    return <socket *>f.priv

# ------------------------------------------------------------------ wakeups

cdef void socket_wake(socket *sock, uint32_t key) noexcept nogil:
    if key == 0 or (key & (POLLERR | POLLHUP)) != 0:
        io_wake_all(&sock.wakeups)
    else:
        if key & sock.wakeups.in_key:
            io_wake_in(&sock.wakeups)
        if key & sock.wakeups.out_key:
            io_wake_out(&sock.wakeups)
    io_notify()

cdef void socket_state_changed(socket *sock) noexcept nogil:
    socket_wake(sock, 0)

cdef void socket_set_error(socket *sock, int32_t err) noexcept nogil:
    sock.err = err
    socket_wake(sock, POLLERR)

cdef int32_t socket_take_error(socket *sock) noexcept nogil:
    cdef int32_t e = sock.err
    sock.err = 0
    return e

cdef int32_t socket_take_so_error(socket *sock) noexcept nogil:
    cdef int32_t e = socket_take_error(sock)
    if e == 0:
        e = sock.err_soft
        sock.err_soft = 0
    return e

cdef void socket_connected(socket *sock) noexcept nogil:
    sock.state = SS_CONNECTED
    sock.flags |= SOCKET_CONNECT_UNREPORTED
    socket_state_changed(sock)

cdef void socket_connect_failed(socket *sock, int32_t err) noexcept nogil:
    sock.state = SS_UNCONNECTED
    if err != 0:
        sock.err = err
    socket_state_changed(sock)

# ------------------------------------------------------------------ blocking

cdef uint64_t socket_rcvtimeo(socket *sock, uint32_t flags) noexcept nogil:
    if flags & MSG_DONTWAIT:
        return 0
    return sock.opt.rcvtimeo_us

cdef uint64_t socket_sndtimeo(socket *sock, uint32_t flags) noexcept nogil:
    if flags & MSG_DONTWAIT:
        return 0
    return sock.opt.sndtimeo_us

cdef int64_t socket_wait(iowait_cond_fn cond, void *arg, uint64_t *timeo) noexcept nogil:
    cdef uint64_t flags = waitq_lock()
    cdef uint64_t start, deadline, slept
    cdef int64_t rc = 0
    cdef int reason
    while not cond(arg):
        if timeo[0] == 0:
            rc = -EAGAIN
            break
        start = monotonic_ns()
        deadline = 0 if timeo[0] == SOCKET_TIMEO_FOREVER else start + timeo[0] * NSEC_PER_USEC
        reason = waitq_sleep(io_waitq(), deadline)
        if timeo[0] != SOCKET_TIMEO_FOREVER:
            slept = (monotonic_ns() - start) // NSEC_PER_USEC
            timeo[0] = 0 if reason == WAKE_TIMEOUT or slept >= timeo[0] else timeo[0] - slept
        if reason == WAKE_INTERRUPTED:
            rc = -ERESTARTSYS if timeo[0] == SOCKET_TIMEO_FOREVER else -EINTR
            break
    waitq_unlock(flags)
    return rc

# ------------------------------------------------------------------ messages

cdef int64_t socket_msg_walk(sock_msg *m, uint64_t skip, uint64_t n,
                             sock_msg_segment_fn segment, void *arg) noexcept nogil:
    cdef uint64_t done = 0, i = 0, base, length, k
    cdef int64_t got
    while i < m.iovcnt and done < n:
        base = m.iov[2 * i]
        length = m.iov[2 * i + 1]
        if skip >= length:
            skip -= length
            i += 1
            continue
        k = length - skip
        if k > n - done:
            k = n - done
        got = segment(arg, done, base + skip, k, m.user)
        if got < 0:
            break
        done += <uint64_t>got
        if <uint64_t>got < k:
            break
        skip = 0
        i += 1
    if done == 0 and n > 0:
        return -EFAULT
    return <int64_t>done

cdef struct msg_copy_job:
    uint8_t *buf
    bint to_msg

cdef int64_t copy_segment(void *arg, uint64_t at, uint64_t addr, uint64_t len,
                          bint user) noexcept nogil:
    cdef msg_copy_job *job = <msg_copy_job *>arg
    cdef int64_t bad
    if not user:
        if job.to_msg:
            memcpy(<void *>addr, job.buf + at, len)
        else:
            memcpy(job.buf + at, <void *>addr, len)
        return <int64_t>len
    if job.to_msg:
        bad = copy_to_user(addr, job.buf + at, len)
    else:
        bad = copy_from_user(job.buf + at, addr, len)
    return bad if bad < 0 else <int64_t>len

cdef int64_t socket_msg_copy(sock_msg *m, uint64_t skip, uint8_t *buf, uint64_t n,
                             bint to_msg) noexcept nogil:
    cdef msg_copy_job job
    job.buf = buf
    job.to_msg = to_msg
    return socket_msg_walk(m, skip, n, copy_segment, &job)

cdef int64_t socket_put_cmsg(sock_msg *m, int32_t level, int32_t type, const void *data,
                             uint32_t len) noexcept nogil:
    cdef uint64_t room, cmlen = CMSGHDR_SIZE + <uint64_t>len, space
    cdef int32_t hdr[2]
    if m.ucontrol == 0 or m.control_used >= m.ucontrollen:
        m.msg_flags |= MSG_CTRUNC
        return 0
    room = m.ucontrollen - m.control_used
    if room < CMSGHDR_SIZE:
        m.msg_flags |= MSG_CTRUNC
        return 0
    if room < cmlen:
        m.msg_flags |= MSG_CTRUNC
        cmlen = room
    hdr[0] = level
    hdr[1] = type
    if (copy_to_user(m.ucontrol + m.control_used, &cmlen, 8) < 0
            or copy_to_user(m.ucontrol + m.control_used + 8, hdr, 8) < 0
            or (cmlen > CMSGHDR_SIZE
                and copy_to_user(m.ucontrol + m.control_used + CMSGHDR_SIZE, data, cmlen - CMSGHDR_SIZE) < 0)):
        return -EFAULT
    space = (cmlen + 7) & ~(<uint64_t>7)                 # CMSG_SPACE
    m.control_used += space if space < room else room
    return 0

cdef int64_t socket_opt_get_int(uint64_t uval, uint32_t ulen, int32_t *v) noexcept nogil:
    if ulen < sizeof(int32_t):
        return -EINVAL
    if copy_from_user(v, uval, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

cdef int64_t socket_opt_put(uint64_t uval, uint64_t ulen, const void *kval, int32_t klen) noexcept nogil:
    cdef int32_t len
    if copy_from_user(&len, ulen, sizeof(int32_t)) < 0:
        return -EFAULT
    if len < 0:
        return -EINVAL
    if len > klen:
        len = klen
    if len > 0 and copy_to_user(uval, kval, <uint64_t>len) < 0:
        return -EFAULT
    if copy_to_user(ulen, &len, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

cdef int64_t socket_opt_put_int(uint64_t uval, uint64_t ulen, int32_t v) noexcept nogil:
    return socket_opt_put(uval, ulen, &v, sizeof(int32_t))

# ------------------------------------------------------------------ the socket file

cdef void raise_sigpipe(socket *sock, uint32_t flags, int64_t rc) noexcept nogil:
    # unix_stream_sendmsg / sk_stream_error: EPIPE on a stream raises SIGPIPE unless
    # MSG_NOSIGNAL (datagram protocols never do).
    cdef thread *t
    if rc == -EPIPE and sock.type == SOCK_STREAM and (flags & MSG_NOSIGNAL) == 0:
        t = sched_current()
        if t != NULL and t.proc != NULL:        # a kernel thread has no signals
            signal_raise(t, SIGPIPE)

cdef int64_t socket_sendmsg(socket *sock, sock_msg *m, uint32_t flags) noexcept nogil:
    # sock_sendmsg: the protocol's sendmsg plus SIGPIPE (exported for the syscalls).
    cdef int64_t rc = sock.ops.sendmsg(sock, m, flags)
    raise_sigpipe(sock, flags, rc)
    return rc

cdef inline void one_buffer(sock_msg *m, uint64_t *iov, uint64_t buf, uint64_t n, bint user) noexcept nogil:
    memset(m, 0, sizeof(sock_msg))
    iov[0] = buf
    iov[1] = n
    m.iov = iov
    m.iovcnt = 1
    m.total = n
    m.user = user

cdef int64_t socket_file_read(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    # sock_read_iter: nothing to read is 0 at once; no address, no control buffer.
    cdef socket *sock = <socket *>f.priv
    cdef uint64_t iov[2]
    cdef sock_msg m
    if n == 0:
        return 0
    one_buffer(&m, iov, buf, n, user)
    return sock.ops.recvmsg(sock, &m, MSG_DONTWAIT if (f.flags & O_NONBLOCK) else 0)

cdef int64_t socket_file_write(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    cdef socket *sock = <socket *>f.priv
    cdef uint64_t iov[2]
    cdef sock_msg m
    one_buffer(&m, iov, buf, n, user)
    return socket_sendmsg(sock, &m, MSG_DONTWAIT if (f.flags & O_NONBLOCK) else 0)

cdef int64_t socket_file_stat(vfs_file *f, vfs_kstat *st) noexcept nogil:
    memset(st, 0, sizeof(vfs_kstat))
    st.dev = SOCKFS_DEV
    st.ino = (<socket *>f.priv).ino
    st.nlink = 1
    st.mode = S_IFSOCK | 0o777
    st.blksize = STAT_BLKSIZE
    return 0

cdef uint32_t socket_file_poll(vfs_file *f) noexcept nogil:
    cdef socket *sock = <socket *>f.priv
    cdef uint32_t mask = sock.ops.poll(sock) if sock.ops.poll != NULL else sock.events
    if sock.err != 0:
        mask |= POLLERR
    return mask

cdef int64_t socket_file_ioctl(vfs_file *f, uint64_t cmd, uint64_t arg) noexcept nogil:
    # sock_do_ioctl: the protocol's ioctl, then the interface ioctls every family answers.
    cdef socket *sock = <socket *>f.priv
    cdef int64_t r = -ENOTTY
    if sock.ops.ioctl != NULL:
        r = sock.ops.ioctl(sock, cmd, arg)
    if r == -ENOTTY:
        r = ifioctl(sock.family, cmd, arg)
    return r

cdef void socket_file_close(vfs_file *f) noexcept nogil:
    # sock_close: the protocol lets go, then the socket is freed.
    cdef socket *sock = <socket *>f.priv
    f.priv = NULL
    sock.file = NULL
    socket_destroy(sock)
