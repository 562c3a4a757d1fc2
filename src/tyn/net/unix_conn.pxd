# Named AF_UNIX stream sockets (Linux's unix_bind, unix_listen, unix_stream_connect,
# unix_accept, unix_getname, SO_PEERCRED): the stream ops that deal with names and
# connections; the byte stream itself is tyn.net.unix.
#
# Names: an abstract name (sun_path starting with a zero byte, compared over the whole
# given length) or a filesystem path (a socket inode made by bind, S_IFSOCK, which the
# bound socket holds a reference to; connect finds the socket by that inode).  Stream
# names are apart from datagram names, as Linux's hash keeps the type.  The list of
# bound stream sockets is under unix_lock.
from libc.stdint cimport uint8_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.net.socket cimport socket
from tyn.net.unix cimport unix_sock

cdef extern void unix_conn_init() noexcept nogil
cdef extern int64_t unix_conn_bind(socket *sock, const uint8_t *addr, int32_t len) noexcept nogil
cdef extern int64_t unix_conn_listen(socket *sock, int32_t backlog) noexcept nogil
cdef extern int64_t unix_conn_accept(socket *sock, socket *newsock, uint32_t flags) noexcept nogil
cdef extern int64_t unix_conn_connect(socket *sock, const uint8_t *addr, int32_t len, uint32_t flags) noexcept nogil
cdef extern int32_t unix_conn_getname(socket *sock, uint8_t *addr, bint peer) noexcept nogil
# SOL_SOCKET SO_PEERCRED (struct ucred of the peer); other options -ENOPROTOOPT.
cdef extern int64_t unix_conn_getsockopt(socket *sock, int32_t level, int32_t name, uint64_t uval,
                                         uint64_t ulen) noexcept nogil
# Both ends of a socketpair get the creator's credentials.
cdef extern void unix_conn_set_pair_creds(unix_sock *a, unix_sock *b) noexcept nogil
# s is being released (unix_lock held): off the name list.  Returns its inode reference
# (or NULL) for unix_conn_node_put once unix_lock is let go.
cdef extern void *unix_conn_release(unix_sock *s) noexcept nogil
cdef extern void unix_conn_node_put(void *node) noexcept nogil
# Paths for the datagram side too (no lock held): the socket inode a connect/sendto to
# addr names (*node a reference; NULL for an abstract name): 0, -ENOENT, -ECONNREFUSED
# (not a socket inode)...; and bind's new inode (-EADDRINUSE when the path exists,
# -EROFS...), with the name to keep (the path and its NUL) in name/namelen.
cdef extern int64_t unix_conn_path_node(const uint8_t *addr, int32_t len, void **node) noexcept nogil
cdef extern int64_t unix_conn_make_node(const uint8_t *addr, int32_t len, void **node, uint8_t *name,
                                        uint32_t *namelen) noexcept nogil
