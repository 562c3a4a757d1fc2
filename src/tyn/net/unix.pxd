# The AF_UNIX protocol, as far as socketpair(2) needs it: two connected stream endpoints,
# each direction a byte ring (tyn.fs.bytering) plus the SCM_RIGHTS file sets that ride
# with the bytes they were sent with.  It plugs into the socket layer (tyn.net.socket) as
# the ops of AF_UNIX/SOCK_STREAM.  Named sockets (bind, listen, accept, connect,
# SO_PEERCRED) are tyn.net.unix_conn.
#
# unix_lock (unix_lock_acquire/_release) protects every unix_sock (and the name lists) and the
# generic fields of their sockets.  Order: unix_lock before waitq_lock (the protocol wakes
# with it held); it is never held while sleeping or while dropping a file reference (a
# passed file may be a unix socket whose release takes it).  Today it disables
# interrupts; with SMP it becomes a spinlock with the same API.
from libc.stdint cimport uint8_t, int32_t, uint32_t, int64_t, uint64_t
from tyn.fs.vfs cimport vfs_file
from tyn.fs.bytering cimport bytering
from tyn.fs.context cimport fs_context
from tyn.net.socket cimport socket
from tyn.net.sockaddr cimport UNIX_SOCKADDR_MAX

cdef enum:
    PF_UNIX = 1                     # the only protocol number AF_UNIX accepts besides 0
    SCM_RIGHTS = 1
    SCM_CREDENTIALS = 2
    SCM_MAX_FD = 253
    SIOCINQ = 0x541B                # FIONREAD
    SIOCOUTQ = 0x5411               # TIOCOUTQ
    UNIX_RING = 65536               # bytes in flight per direction
    UNIX_SKB_MARKS = 64             # send boundaries remembered per receiver (unix_sock)
    UCRED_SIZE = 12

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

# One AF_UNIX stream endpoint (Linux's unix_sock of a SOCK_STREAM socket): unconnected,
# listening, or connected to a peer.  Allocated on its own; a connected pair of them is
# freed when both ends have been released.  A connection waiting in a listener's accept
# queue is an "embryo": the server end, open, with no socket until accept grafts one on.
cdef struct unix_sock:
    unix_sock *peer                 # the other end once connected (NULL before)
    socket *sock                    # its socket (NULL for an embryo and once released)
    uint32_t shutdown               # RCV_SHUTDOWN | SEND_SHUTDOWN
    bint open                       # its socket is alive (an embryo counts as open)
    bytering rx                     # bytes sent to this endpoint (allocated when connected)
    unix_rights *rights_head        # rights in rx, in stream order
    unix_rights *rights_tail
    # Where the chunks queued in rx end (stream offsets, oldest first): Linux's skbs, whose
    # freeing -- once read whole -- wakes the sender.  When full, the newest one grows.
    uint64_t skb_ends[UNIX_SKB_MARKS]
    uint32_t skb_first
    uint32_t skb_count
    # its name (tyn.net.unix_conn): addrlen 0 when unbound; bound sockets are on a list
    uint32_t addrlen
    uint8_t addr[UNIX_SOCKADDR_MAX]
    void *node                      # a filesystem-bound socket's inode (a reference), or NULL
    unix_sock *bound_next
    unix_sock *bound_prev
    # listening: the accept queue of embryos, and how many it may hold beyond one
    bint listening
    uint32_t backlog
    uint32_t queued
    unix_sock *accept_head
    unix_sock *accept_tail
    unix_sock *accept_next          # an embryo's link in its listener's queue
    # SO_PEERCRED: the peer's pid/uid/gid as of connect (socketpair: the creator's)
    int32_t peer_pid
    uint32_t peer_uid
    uint32_t peer_gid
    int32_t own_pid                 # a listener's credentials, given to who connects
    uint32_t own_uid
    uint32_t own_gid

# Register AF_UNIX/SOCK_STREAM (and, through unix_dgram_init, SOCK_DGRAM) with the socket
# layer (after socket_init).
cdef extern void unix_init() noexcept nogil
# SCM_RIGHTS, shared with the datagram protocol (tyn.net.unix_dgram).  parse: __scm_send
# over a kernel copy of the control buffer (files referenced; 0 or -EINVAL/-EBADF/-ENOMEM);
# deliver: scm_detach_fds into the user's control buffer (its bytes used; the record is
# consumed); drop: release a chain of records and their files (without unix_lock).
cdef extern int64_t unix_rights_parse(fs_context *ctx, const uint8_t *ctl, uint64_t len,
                                      unix_rights **out) noexcept nogil
cdef extern int64_t unix_rights_deliver(fs_context *ctx, unix_rights *got, uint64_t control,
                                        uint64_t controllen, int flags, uint32_t *msg_flags) noexcept nogil
cdef extern void unix_rights_drop(unix_rights *r) noexcept nogil
cdef extern uint64_t unix_lock_acquire() noexcept nogil
cdef extern void unix_lock_release(uint64_t flags) noexcept nogil
# Endpoints for tyn.net.unix_conn (unix_lock held where noted).
# A fresh, unconnected endpoint for sock (not yet sock.proto), or NULL.
cdef extern unix_sock *unix_sock_new(socket *sock) noexcept nogil
# Connect a (with socket) to an embryo b (no socket): rings allocated, credentials set
# by the caller.  0 or -ENOMEM (nothing changed).  unix_lock held.
cdef extern int64_t unix_sock_link(unix_sock *a, unix_sock *b) noexcept nogil
# An endpoint's socket (or embryo) goes away: the peer is shut down (ECONNRESET if
# bytes were left unread or it was an embryo), memory freed when both ends are gone.
# Returns the rights that were queued (to drop after unix_lock is let go).  unix_lock held.
cdef extern unix_rights *unix_sock_drop(unix_sock *s, bint embryo) noexcept nogil
# Wake an endpoint's socket, if it has one.  unix_lock held.
cdef extern void unix_sock_wake(unix_sock *s, uint32_t key) noexcept nogil
# sockaddr_un checks shared by stream and datagram sockets (unix_validate_addr): 0 or -EINVAL.
cdef extern int64_t unix_address_check(const uint8_t *addr, int32_t len) noexcept nogil
# An autobind name: sa_family AF_UNIX, "\0", then number as five hex digits ("\0%05x").
cdef extern void unix_autobind_name(uint8_t *name, uint32_t number) noexcept nogil
# getsockname/getpeername's answer (unix_getname): a socket's name of len bytes into addr, an
# unbound one (len 0) as sa_family alone; returns the length written.
cdef extern int32_t unix_name_put(uint8_t *addr, const uint8_t *name, uint32_t len) noexcept nogil
