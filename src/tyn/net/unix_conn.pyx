# Named AF_UNIX stream sockets (see unix_conn.pxd).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_walk, vfs_lookup, vfs_mknod_socket, vfs_node_get, vfs_node_put, VFS_FOLLOW, POLLIN
from tyn.fs.fsnode cimport fs_node, S_IFMT, S_IFSOCK
from tyn.fs.context cimport fs_context, fs_current
from tyn.proc.task cimport thread
from tyn.proc.sched cimport sched_current
from tyn.proc.waitq cimport io_notify
from tyn.arch.cpu cimport memcpy, memcmp
from tyn.net.sockaddr cimport AF_UNIX, SA_FAMILY_SIZE, UNIX_SOCKADDR_MAX
from tyn.net.socket cimport *
from tyn.net.unix cimport (unix_sock, unix_address_check, unix_autobind_name, unix_name_put, unix_lock_acquire, unix_lock_release, unix_sock_new, unix_sock_link,
                           unix_sock_drop, unix_sock_wake, unix_rights_drop)
from tyn.net.unix_dgram cimport UNIX_AUTOBIND_LEN, UNIX_AUTOBIND_NAMES
from tyn.sys.errno cimport *

cdef enum:
    UCRED_BYTES = 12                # struct ucred { pid_t pid; uid_t uid; gid_t gid; }
    ROOT_ID = 0                     # every Tyn process runs as root (see sys_getuid)

cdef unix_sock *bound
cdef uint32_t autobind_next
# Bumped (under unix_lock) whenever a backlog may have room: an accept, a listen, a
# listener going away.  A connector waiting for room waits for it to change, so it never
# holds on to a listener that may be freed meanwhile.
cdef uint64_t backlog_changes

cdef void unix_conn_init() noexcept nogil:
    global bound, autobind_next
    bound = NULL
    autobind_next = 0
    backlog_changes = 0

cdef inline unix_sock *unix_of(socket *sock) noexcept nogil:
    return <unix_sock *>sock.proto

cdef int32_t current_pid() noexcept nogil:
    # The caller's pid (a host test has no current thread: 0).
    cdef thread *t = sched_current()
    if t == NULL or t.proc == NULL:
        return 0
    return t.proc.pid

cdef void unix_conn_set_pair_creds(unix_sock *a, unix_sock *b) noexcept nogil:
    a.peer_pid = current_pid()
    b.peer_pid = a.peer_pid
    a.peer_uid = ROOT_ID
    a.peer_gid = ROOT_ID
    b.peer_uid = ROOT_ID
    b.peer_gid = ROOT_ID

# ------------------------------------------------------------------ names (unix_lock held)

cdef void bound_add(unix_sock *s) noexcept nogil:
    global bound
    s.bound_prev = NULL
    s.bound_next = bound
    if bound != NULL:
        bound.bound_prev = s
    bound = s

cdef void *unix_conn_release(unix_sock *s) noexcept nogil:
    global bound
    global backlog_changes
    cdef void *node = s.node
    if s.listening:
        backlog_changes += 1
    if s.addrlen == 0:
        return NULL
    if s.bound_prev != NULL:
        s.bound_prev.bound_next = s.bound_next
    else:
        bound = s.bound_next
    if s.bound_next != NULL:
        s.bound_next.bound_prev = s.bound_prev
    s.bound_next = NULL
    s.bound_prev = NULL
    s.node = NULL
    return node

cdef void unix_conn_node_put(void *node) noexcept nogil:
    if node != NULL:
        vfs_node_put(<fs_node *>node)

cdef unix_sock *find_abstract(const uint8_t *addr, uint32_t len) noexcept nogil:
    cdef unix_sock *s = bound
    while s != NULL:
        if s.node == NULL and s.addrlen == len and memcmp(s.addr, addr, len) == 0:
            return s
        s = s.bound_next
    return NULL

cdef unix_sock *find_node(void *node) noexcept nogil:
    cdef unix_sock *s = bound
    while s != NULL:
        if s.node == node:
            return s
        s = s.bound_next
    return NULL

cdef inline bint is_path(const uint8_t *addr, int32_t len) noexcept nogil:
    return len > SA_FAMILY_SIZE and addr[SA_FAMILY_SIZE] != 0

cdef uint32_t path_len(const uint8_t *addr, int32_t len) noexcept nogil:
    # unix_mkname_bsd: the path ends at the first zero byte or at len.
    cdef uint32_t n = 0
    while SA_FAMILY_SIZE + n < <uint32_t>len and addr[SA_FAMILY_SIZE + n] != 0:
        n += 1
    return n

cdef int64_t autobind(unix_sock *s) noexcept nogil:
    # unix_autobind: the next free "\0%05x" abstract name.
    global autobind_next
    cdef uint8_t name[UNIX_AUTOBIND_LEN]
    cdef uint32_t tries = 0
    while tries < UNIX_AUTOBIND_NAMES:
        unix_autobind_name(name, autobind_next)
        autobind_next = (autobind_next + 1) % UNIX_AUTOBIND_NAMES
        tries += 1
        if find_abstract(name, UNIX_AUTOBIND_LEN) == NULL:
            memcpy(s.addr, name, UNIX_AUTOBIND_LEN)
            s.addrlen = UNIX_AUTOBIND_LEN
            bound_add(s)
            return 0
    return -ENOSPC

# ------------------------------------------------------------------ bind

cdef int64_t unix_conn_bind(socket *sock, const uint8_t *addr, int32_t len) noexcept nogil:
    cdef unix_sock *s = unix_of(sock)
    cdef fs_context *ctx
    cdef fs_node *node = NULL
    cdef uint32_t plen
    cdef int64_t r = unix_address_check(addr, len)
    cdef uint64_t lock
    if r < 0:
        return r
    if len == SA_FAMILY_SIZE:
        lock = unix_lock_acquire()
        r = 0 if s.addrlen != 0 else autobind(s)
        unix_lock_release(lock)
        return r
    if not is_path(addr, len):
        lock = unix_lock_acquire()
        if s.addrlen != 0:
            r = -EINVAL
        elif find_abstract(addr, <uint32_t>len) != NULL:
            r = -EADDRINUSE
        else:
            memcpy(s.addr, addr, <uint64_t>len)
            s.addrlen = <uint32_t>len
            bound_add(s)
        unix_lock_release(lock)
        return r
    # unix_bind_bsd: the inode first (EADDRINUSE if the path exists), then the name.
    ctx = fs_current()
    if ctx == NULL:
        return -ENOENT
    lock = unix_lock_acquire()
    r = -EINVAL if s.addrlen != 0 else 0
    unix_lock_release(lock)
    if r < 0:
        return r
    plen = path_len(addr, len)
    r = vfs_mknod_socket(ctx.cwd, <const char *>(addr + SA_FAMILY_SIZE), plen, 0o777 & ~ctx.umask, &node)
    if r == -EEXIST:
        return -EADDRINUSE
    if r < 0:
        return r
    lock = unix_lock_acquire()
    if s.addrlen != 0:                  # bound meanwhile by another thread
        r = -EINVAL
    else:
        memcpy(s.addr, addr, SA_FAMILY_SIZE + plen)
        s.addr[SA_FAMILY_SIZE + plen] = 0
        s.addrlen = SA_FAMILY_SIZE + plen + 1
        s.node = node
        node = NULL
        bound_add(s)
    unix_lock_release(lock)
    unix_conn_node_put(node)
    return r

# ------------------------------------------------------------------ listen / accept

cdef int64_t unix_conn_listen(socket *sock, int32_t backlog) noexcept nogil:
    # unix_listen: bound, not connected; a second listen changes the backlog.
    global backlog_changes
    cdef unix_sock *s = unix_of(sock)
    cdef int64_t r = 0
    cdef uint64_t lock = unix_lock_acquire()
    if s.addrlen == 0 or s.peer != NULL:
        r = -EINVAL
    else:
        backlog_changes += 1                    # connectors waiting for room look again
        s.backlog = <uint32_t>backlog
        s.listening = True
        s.own_pid = current_pid()
        s.own_uid = ROOT_ID
        s.own_gid = ROOT_ID
    unix_lock_release(lock)
    return r

cdef bint can_accept(void *arg) noexcept nogil:
    cdef unix_sock *s = <unix_sock *>arg
    return s.queued > 0 or not s.listening

cdef int64_t unix_conn_accept(socket *sock, socket *newsock, uint32_t flags) noexcept nogil:
    global backlog_changes
    cdef unix_sock *s = unix_of(sock)
    cdef unix_sock *e
    cdef uint64_t timeo = socket_rcvtimeo(sock, flags)
    cdef int64_t r
    cdef uint64_t lock = unix_lock_acquire()
    while True:
        if not s.listening:
            unix_lock_release(lock)
            return -EINVAL
        if s.queued > 0:
            break
        unix_lock_release(lock)
        r = socket_wait(can_accept, s, &timeo)
        if r < 0:
            return r
        lock = unix_lock_acquire()
    e = s.accept_head
    s.accept_head = e.accept_next
    if s.accept_head == NULL:
        s.accept_tail = NULL
    e.accept_next = NULL
    s.queued -= 1
    e.sock = newsock
    newsock.proto = e
    backlog_changes += 1
    io_notify()                                 # a connector waiting for queue room
    unix_lock_release(lock)
    return 0

# ------------------------------------------------------------------ connect

cdef bint backlog_changed(void *arg) noexcept nogil:
    return backlog_changes != (<uint64_t *>arg)[0]

cdef int64_t unix_conn_path_node(const uint8_t *addr, int32_t len, void **node) noexcept nogil:
    return find_listener(addr, len, node)

cdef int64_t unix_conn_make_node(const uint8_t *addr, int32_t len, void **node, uint8_t *name,
                                 uint32_t *namelen) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef uint32_t plen = path_len(addr, len)
    cdef int64_t r
    node[0] = NULL
    if ctx == NULL:
        return -ENOENT
    r = vfs_mknod_socket(ctx.cwd, <const char *>(addr + SA_FAMILY_SIZE), plen, 0o777 & ~ctx.umask,
                         <fs_node **>node)
    if r == -EEXIST:
        return -EADDRINUSE
    if r < 0:
        return r
    memcpy(name, addr, SA_FAMILY_SIZE + plen)
    name[SA_FAMILY_SIZE + plen] = 0
    namelen[0] = SA_FAMILY_SIZE + plen + 1
    return 0

cdef int64_t find_listener(const uint8_t *addr, int32_t len, void **node_out) noexcept nogil:
    # unix_find_other's lookup, without unix_lock for the path walk: the socket inode
    # (a reference in node_out) or, for an abstract name, nothing yet.
    cdef vfs_lookup res
    cdef fs_context *ctx
    cdef int64_t r
    node_out[0] = NULL
    if not is_path(addr, len):
        return 0
    ctx = fs_current()
    if ctx == NULL:
        return -ENOENT
    r = vfs_walk(ctx.cwd, <const char *>(addr + SA_FAMILY_SIZE), path_len(addr, len), VFS_FOLLOW, &res)
    if r < 0:
        return r
    if (res.node.mode & S_IFMT) != S_IFSOCK:
        return -ECONNREFUSED
    vfs_node_get(res.node)              # held until the listener is found (or not)
    node_out[0] = res.node
    return 0

cdef int64_t unix_conn_connect(socket *sock, const uint8_t *addr, int32_t len, uint32_t flags) noexcept nogil:
    # unix_stream_connect: the listener by name, room in its backlog (-EAGAIN when
    # non-blocking, else wait), then an embryo connected to us in its accept queue.
    cdef unix_sock *s = unix_of(sock)
    cdef unix_sock *l
    cdef unix_sock *e
    cdef void *node
    cdef uint64_t timeo = socket_sndtimeo(sock, flags)
    cdef uint64_t lock, seen
    cdef int64_t r = unix_address_check(addr, len)
    if r < 0:
        return r
    if len == SA_FAMILY_SIZE:
        return -ECONNREFUSED
    r = find_listener(addr, len, &node)
    if r < 0:
        return r
    e = unix_sock_new(NULL)
    if e == NULL:
        return -ENOMEM
    lock = unix_lock_acquire()
    while True:
        # Linux's order: the listener and its backlog, then this socket's own state.
        l = find_node(node) if node != NULL else find_abstract(addr, <uint32_t>len)
        if l == NULL or not l.listening or (l.shutdown & RCV_SHUTDOWN):
            r = -ECONNREFUSED
            break
        if l.queued > l.backlog:                # unix_recvq_full: backlog + 1 at most
            seen = backlog_changes
            unix_lock_release(lock)
            r = socket_wait(backlog_changed, &seen, &timeo)
            lock = unix_lock_acquire()
            if r < 0:
                break
            continue                            # look the listener up again
        if s.peer != NULL:
            r = -EISCONN
            break
        if s.listening:
            r = -EINVAL
            break
        r = unix_sock_link(s, e)
        if r < 0:
            break
        e.sock = NULL
        memcpy(e.addr, l.addr, l.addrlen)       # the accepted socket's name: the listener's
        e.addrlen = l.addrlen
        e.peer_pid = current_pid()
        e.peer_uid = ROOT_ID
        e.peer_gid = ROOT_ID
        s.peer_pid = l.own_pid
        s.peer_uid = l.own_uid
        s.peer_gid = l.own_gid
        if l.accept_tail == NULL:
            l.accept_head = e
        else:
            l.accept_tail.accept_next = e
        l.accept_tail = e
        l.queued += 1
        e = NULL
        sock.state = SS_CONNECTED
        socket_state_changed(sock)
        unix_sock_wake(l, POLLIN)
        break
    unix_lock_release(lock)
    if e != NULL:
        unix_conn_free_embryo(e)
    unix_conn_node_put(node)
    return r

cdef void unix_conn_free_embryo(unix_sock *e) noexcept nogil:
    # An embryo never linked: nothing refers to it.
    cdef uint64_t lock = unix_lock_acquire()
    unix_rights_drop(unix_sock_drop(e, True))
    unix_lock_release(lock)

# ------------------------------------------------------------------ names, credentials

cdef int32_t unix_conn_getname(socket *sock, uint8_t *addr, bint peer) noexcept nogil:
    # unix_getname: unbound is sa_family alone.  The peer stays known after it closed.
    cdef unix_sock *s = unix_of(sock)
    cdef unix_sock *who = s
    cdef int32_t n
    cdef uint64_t lock = unix_lock_acquire()
    if peer:
        who = s.peer
        if who == NULL:
            unix_lock_release(lock)
            return -ENOTCONN
    n = unix_name_put(addr, who.addr, who.addrlen)
    unix_lock_release(lock)
    return n

cdef int64_t unix_conn_getsockopt(socket *sock, int32_t level, int32_t name, uint64_t uval,
                                  uint64_t ulen) noexcept nogil:
    # SO_PEERCRED: the peer's credentials (none yet: pid 0, uid/gid overflow -1).
    cdef unix_sock *s = unix_of(sock)
    cdef int32_t cred[3]
    cdef uint64_t lock
    if level != SOL_SOCKET or name != SO_PEERCRED:
        return -ENOPROTOOPT if level == SOL_SOCKET else -EOPNOTSUPP
    lock = unix_lock_acquire()
    if s.peer != NULL:
        cred[0] = s.peer_pid
        cred[1] = <int32_t>s.peer_uid
        cred[2] = <int32_t>s.peer_gid
    else:
        cred[0] = 0
        cred[1] = -1
        cred[2] = -1
    unix_lock_release(lock)
    return socket_opt_put(uval, ulen, cred, UCRED_BYTES)
