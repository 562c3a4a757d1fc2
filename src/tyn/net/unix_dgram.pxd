# AF_UNIX datagram sockets (Linux's net/unix/af_unix.c, unix_dgram_*): socket(AF_UNIX,
# SOCK_DGRAM), socketpair of two connected datagram ends, bind to an abstract name (a
# sun_path starting with a zero byte, compared over the whole given length) or autobind
# (an address of sa_family alone: "\0" + five hex digits), connect / disconnect
# (AF_UNSPEC), sendto/sendmsg with SCM_RIGHTS, recvmsg with the sender's address,
# MSG_PEEK/MSG_TRUNC, SIOCINQ/SIOCOUTQ, shutdown.  Limits as Linux: a datagram is at most
# SO_SNDBUF - 32 bytes (EMSGSIZE); a sender may have SO_SNDBUF bytes queued at receivers;
# a receiver not connected back to the sender takes at most net.unix.max_dgram_qlen + 1
# datagrams (then EAGAIN, or the sender waits).
# Path names: bind makes a socket inode (tyn.net.unix_conn's helpers), connect/sendto
# find the socket bound to the inode the path names.
#
# State is under unix_lock (tyn.net.unix); readiness is kept in sock.events under it
# (ops.poll is NULL), so poll/epoll read one word.  A unix_dsock is reference counted:
# its socket, every datagram it sent that is still queued, and each socket connected to
# it hold one; the last put frees it (under unix_lock).
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.net.sockaddr cimport UNIX_SOCKADDR_MAX

cdef enum:
    UNIX_PATH_MAX = 108
    UNIX_DGRAM_QLEN = 10                # net.unix.max_dgram_qlen (sk_max_ack_backlog)
    UNIX_DGRAM_SNDBUF_RESERVE = 32      # unix_dgram_sendmsg: len > sk_sndbuf - 32 is EMSGSIZE
    UNIX_AUTOBIND_LEN = 8               # sa_family + "\0" + "%05x"
    UNIX_AUTOBIND_NAMES = 0x100000      # five hex digits

cdef struct unix_dsock

# One queued datagram; its bytes follow the struct in the same allocation.
cdef struct unix_datagram:
    unix_datagram *next
    unix_dsock *sender              # a reference: its wmem carries len until received
    void *rights                    # unix_rights * riding with it, or NULL
    uint32_t len
    uint32_t addrlen                # the sender's address when it sent (0: unbound)
    uint8_t addr[UNIX_SOCKADDR_MAX]

cdef struct unix_dsock:
    void *sock                      # its socket (NULL once released)
    unix_dsock *peer                # connect()ed peer (a reference), or NULL
    unix_dsock *all_next            # every datagram socket (refreshing connected senders)
    unix_dsock *all_prev
    uint32_t refs
    uint32_t shutdown               # RCV_SHUTDOWN | SEND_SHUTDOWN
    uint32_t addrlen                # 0: unbound; else the whole sockaddr_un length
    uint8_t addr[UNIX_SOCKADDR_MAX]
    unix_datagram *rx_head
    unix_datagram *rx_tail
    uint32_t rx_count
    uint64_t wmem                   # bytes of its datagrams queued at receivers
    void *node                      # bound to a filesystem path: its socket inode (a reference)

# Register AF_UNIX/SOCK_DGRAM (called by unix_init).
cdef extern void unix_dgram_init() noexcept nogil
