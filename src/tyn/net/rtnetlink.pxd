# NETLINK_ROUTE's kernel side (Linux's netlink_rcv_skb + rtnetlink_rcv_msg) for the
# interface queries: RTM_GETLINK (dump, and one link by index or IFLA_IFNAME) and
# RTM_GETADDR (dump; IPv4 addresses), answered from the interfaces (tyn.net.ifinfo) as
# reply datagrams for the requesting socket.  Every other request is answered with
# NLMSG_ERROR -EOPNOTSUPP (changes: RTM_NEW*/DEL*/SET*; other tables: routes, neighbours).
#
# Replies: a dump is RTM_NEW* messages (NLM_F_MULTI) packed into datagrams of at most
# NETLINK_DUMP_CHUNK bytes, then NLMSG_DONE in a datagram of its own, as Linux sends them
# (a reader that asks with MSG_DONTWAIT finds all of it queued).  An ack or error is
# NLMSG_ERROR in its own datagram: the request's header, and its payload on errors unless
# the socket set NETLINK_CAP_ACK (then NLM_F_CAPPED).
#
# Called with net_lock held (interfaces are read under it).
from libc.stdint cimport uint8_t, uint32_t

cdef enum:
    NETLINK_DUMP_CHUNK = 3776       # Linux's NLMSG_GOODSIZE: a page less sk_buff overhead

# One datagram on a netlink socket's receive queue; its bytes follow the struct.
cdef struct nl_dgram:
    nl_dgram *next
    uint32_t len
    uint32_t cap
    uint32_t src_portid             # the sender: 0 for the kernel
    bint closed                     # no more messages go into it

cdef struct nl_reply:
    nl_dgram *head
    nl_dgram *tail
    uint32_t bytes                  # sum of the datagrams' lengths
    bint failed                     # memory ran out: what is here is incomplete

cdef inline uint8_t *nl_dgram_data(nl_dgram *d) noexcept nogil:
    return <uint8_t *>(d + 1)

# Process every message of one datagram sent to the kernel (len bytes) by the socket with
# portid; cap_ack: NETLINK_CAP_ACK.  Replies are appended to out.
cdef extern void rtnetlink_input(const uint8_t *buf, uint32_t len, uint32_t portid, bint cap_ack,
                                 nl_reply *out) noexcept nogil
# A datagram of len bytes copied from data (a user-to-user message), or NULL.
cdef extern nl_dgram *rtnetlink_dgram_copy(const uint8_t *data, uint32_t len, uint32_t src_portid) noexcept nogil
cdef extern void rtnetlink_reply_free(nl_reply *r) noexcept nogil
