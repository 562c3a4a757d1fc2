# AF_NETLINK sockets (Linux's net/netlink/af_netlink.c) of protocol NETLINK_ROUTE, types
# SOCK_RAW and SOCK_DGRAM, over the socket layer: bind (nl_pid; 0 or an unbound send picks
# one: the process id if free, else negative numbers from -4097 down), connect, sendmsg to
# the kernel (rtnetlink answers: see rtnetlink.pxd) or to another netlink socket's port,
# recvmsg of one queued datagram per call (MSG_TRUNC, MSG_PEEK, the sender's sockaddr_nl,
# NETLINK_PKTINFO), getsockname/getpeername, and the SOL_NETLINK options
# (NETLINK_ADD/DROP_MEMBERSHIP, NETLINK_PKTINFO, NETLINK_BROADCAST_ERROR, NETLINK_NO_ENOBUFS,
# NETLINK_LIST_MEMBERSHIPS, NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK).
# Group memberships are kept but nothing is multicast: the kernel sends no notifications.
# NETLINK_GET_STRICT_CHK is kept and checks nothing more.
#
# Lock: net_lock (netlock.pxd) protects every netlink socket's state (port, groups,
# receive queue) and the list of bound sockets, as it protects the interfaces the replies
# are built from.  Replies to a request are queued during the sendmsg that carried it.
# The receive queue is bounded by SO_RCVBUF: a reply or message that arrives when the
# queue is already over it is dropped and the socket gets ENOBUFS (netlink_overrun) unless
# NETLINK_NO_ENOBUFS; another socket's message gets EAGAIN instead.
from libc.stdint cimport uint32_t, uint64_t

cdef enum:
    NETLINK_ADD_MEMBERSHIP = 1
    NETLINK_DROP_MEMBERSHIP = 2
    NETLINK_PKTINFO = 3
    NETLINK_BROADCAST_ERROR = 4
    NETLINK_NO_ENOBUFS = 5
    NETLINK_LIST_MEMBERSHIPS = 9
    NETLINK_CAP_ACK = 10
    NETLINK_EXT_ACK = 11
    NETLINK_GET_STRICT_CHK = 12
    RTNLGRP_COUNT = 36              # NETLINK_ROUTE's multicast groups (RTNLGRP_MAX)
    NETLINK_FIRST_ROVER = -4097     # autobind's first port after a collision
    NETLINK_SNDBUF_SLACK = 32       # a message must fit SO_SNDBUF less this

# Register AF_NETLINK with the socket layer (after socket_init) and forget every bound port.
cdef extern void netlink_init() noexcept nogil
