# AF_INET sockets (Linux's af_inet with its TCP and UDP socket glue): SOCK_STREAM over
# TCP pcbs (net/tcp.pxd), SOCK_DGRAM over UDP pcbs (net/udp.pxd), as sock_proto_ops of
# the family-independent socket layer (net/socket.pxd).
#
# Ownership and locks: a socket's pcb (sock.proto) and the socket fields the protocol owns
# (state, err, events) change only under net_lock, the one lock of the IPv4 stack.  Ops
# take it themselves (inet_lock / inet_unlock) and let go of it before sleeping.  Leaving
# the stack (inet_unlock) first delivers what loopback queued and re-arms the stack's
# timer, so every socket call's packets are processed before it returns.
# sock.events is kept equal to the protocol's readiness (tcp_poll, the UDP queue) at every
# change, so poll/epoll and wait conditions read one word without net_lock.
from libc.stdint cimport uint64_t

cdef enum:
    IPPROTO_IP = 0                  # the option level of IP_* (IPPROTO_UDP/TCP: wire_ipv4)
    # IPPROTO_TCP options (linux/tcp.h)
    TCP_NODELAY = 1
    TCP_MAXSEG = 2
    TCP_CORK = 3
    TCP_KEEPIDLE = 4
    TCP_KEEPINTVL = 5
    TCP_KEEPCNT = 6
    TCP_KEEPIDLE_MAX = 32767        # MAX_TCP_KEEPIDLE / KEEPINTVL (seconds)
    TCP_KEEPCNT_MAX = 127           # MAX_TCP_KEEPCNT
    # IPPROTO_IP options (linux/in.h)
    IP_TOS = 1
    IP_TTL = 2
    IP_MULTICAST_TTL = 33
    INET_PEEK_MAX = 65536           # MSG_PEEK copies at most this much of a stream at once

# Register AF_INET SOCK_STREAM (TCP) and SOCK_DGRAM (UDP) with the socket layer and hook
# TCP's readiness events.  After net_init (the stack's state must exist).
cdef extern void inet_init() noexcept nogil
