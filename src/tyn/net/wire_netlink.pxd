# Netlink messages (RFC 3549; Linux's include/uapi/linux/netlink.h and rtnetlink.h): the
# nlmsghdr, route attributes (rtattr) and the rtnetlink bodies the interface queries use
# (rtgenmsg, ifinfomsg, ifaddrmsg, nlmsgerr).  Netlink is host byte order (little-endian
# here); IPv4 addresses inside attributes are network order, as on the wire.  Parse
# functions check every length; emit functions write into a caller's buffer of enough room
# (the *_SIZE constants and wire_rtattr_space say how much).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t

cdef enum:
    AF_NETLINK = 16
    NETLINK_ROUTE = 0
    SOL_NETLINK = 270
    SOCKADDR_NL_SIZE = 12           # struct sockaddr_nl: family, pad, nl_pid, nl_groups

    NLMSG_ALIGNTO = 4
    NLMSG_HDRLEN = 16               # struct nlmsghdr: len, type, flags, seq, pid
    RTA_HDRLEN = 4                  # struct rtattr: len, type
    RTGENMSG_SIZE = 1               # struct rtgenmsg: family
    IFINFOMSG_SIZE = 16             # family, pad, type, index, flags, change
    IFADDRMSG_SIZE = 8              # family, prefixlen, flags, scope, index
    NLMSGERR_SIZE = 20              # error, then the request's nlmsghdr
    NLMSG_DONE_PAYLOAD = 4          # NLMSG_DONE carries the dump's status (an int)

    # nlmsg_type: control messages (< NLMSG_MIN_TYPE) and rtnetlink's
    NLMSG_NOOP = 1
    NLMSG_ERROR = 2
    NLMSG_DONE = 3
    NLMSG_OVERRUN = 4
    NLMSG_MIN_TYPE = 0x10
    RTM_BASE = 16
    RTM_NEWLINK = 16
    RTM_DELLINK = 17
    RTM_GETLINK = 18
    RTM_SETLINK = 19
    RTM_NEWADDR = 20
    RTM_DELADDR = 21
    RTM_GETADDR = 22
    RTM_MAX = 123
    RTM_KIND_MASK = 3               # type & 3: 0 new, 1 del, 2 get, 3 set
    RTM_KIND_GET = 2

    # nlmsg_flags
    NLM_F_REQUEST = 0x1
    NLM_F_MULTI = 0x2
    NLM_F_ACK = 0x4
    NLM_F_ECHO = 0x8
    NLM_F_ROOT = 0x100
    NLM_F_MATCH = 0x200
    NLM_F_DUMP = 0x300              # NLM_F_ROOT | NLM_F_MATCH
    NLM_F_CAPPED = 0x100            # in NLMSG_ERROR: the request's payload left out

    # ifinfomsg: link attributes (IFLA_*) and device types (ARPHRD_*)
    IFLA_ADDRESS = 1
    IFLA_BROADCAST = 2
    IFLA_IFNAME = 3
    IFLA_MTU = 4
    IFLA_STATS = 7
    IFLA_TXQLEN = 13
    IFLA_OPERSTATE = 16
    IFLA_LINKMODE = 17
    IFLA_STATS64 = 23
    IFLA_CARRIER = 33
    ARPHRD_ETHER = 1
    ARPHRD_LOOPBACK = 772
    IF_OPER_UNKNOWN = 0
    IF_OPER_DOWN = 2
    IF_OPER_UP = 6
    RTNL_LINK_STATS_FIELDS = 24     # struct rtnl_link_stats: 24 u32 (96 bytes)
    RTNL_LINK_STATS64_FIELDS = 25   # struct rtnl_link_stats64: 25 u64 (200 bytes)

    # ifaddrmsg: address attributes (IFA_*), flags and scopes
    IFA_ADDRESS = 1
    IFA_LOCAL = 2
    IFA_LABEL = 3
    IFA_BROADCAST = 4
    IFA_CACHEINFO = 6
    IFA_FLAGS = 8
    IFA_F_PERMANENT = 0x80
    IFA_CACHEINFO_SIZE = 16         # prefered, valid, cstamp, tstamp
    INFINITY_LIFE_TIME = 0xFFFFFFFF
    RT_SCOPE_UNIVERSE = 0
    RT_SCOPE_HOST = 254

cdef struct nlmsg_header:
    uint32_t len                    # the message's length, header included
    uint16_t type
    uint16_t flags
    uint32_t seq
    uint32_t pid

# NLMSG_ALIGN
cdef inline uint32_t nlmsg_align(uint32_t n) noexcept nogil:
    return (n + NLMSG_ALIGNTO - 1) & ~(<uint32_t>NLMSG_ALIGNTO - 1)

# The header of the message at buf (avail bytes left in the datagram): 0, or -1 when it is
# short or its nlmsg_len is < NLMSG_HDRLEN or > avail (netlink_rcv_skb stops there).
cdef extern int wire_nlmsg_parse(const uint8_t *buf, uint32_t avail, nlmsg_header *out) noexcept nogil
cdef extern void wire_nlmsg_emit(uint8_t *buf, const nlmsg_header *h) noexcept nogil
# The first attribute of type among the attributes at attrs (len bytes; RTA_OK walking):
# its payload and payload length, or False.
cdef extern bint wire_rtattr_find(const uint8_t *attrs, uint32_t len, uint16_t type,
                                  const uint8_t **data, uint32_t *datalen) noexcept nogil
# RTA_SPACE(datalen): the room one attribute takes.
cdef extern uint32_t wire_rtattr_space(uint32_t datalen) noexcept nogil
# Write one attribute (padding zeroed); returns wire_rtattr_space(datalen).
cdef extern uint32_t wire_rtattr_emit(uint8_t *buf, uint16_t type, const void *data,
                                      uint32_t datalen) noexcept nogil
cdef extern uint32_t wire_rtattr_emit_u32(uint8_t *buf, uint16_t type, uint32_t v) noexcept nogil
cdef extern uint32_t wire_rtattr_emit_u8(uint8_t *buf, uint16_t type, uint8_t v) noexcept nogil
# An IPv4 address (host order in, network order in the attribute).
cdef extern uint32_t wire_rtattr_emit_in_addr(uint8_t *buf, uint16_t type, uint32_t addr) noexcept nogil
cdef extern void wire_ifinfomsg_emit(uint8_t *buf, uint16_t dev_type, int32_t index, uint32_t flags) noexcept nogil
# The ifi_index of an ifinfomsg body (len bytes), or False when the body is shorter.
cdef extern bint wire_ifinfomsg_index(const uint8_t *body, uint32_t len, int32_t *index) noexcept nogil
cdef extern void wire_ifaddrmsg_emit(uint8_t *buf, uint8_t family, uint8_t prefixlen, uint8_t flags,
                                     uint8_t scope, uint32_t index) noexcept nogil
# struct nlmsgerr: error (0 or -errno) and a copy of the request's header.
cdef extern void wire_nlmsgerr_emit(uint8_t *buf, int32_t error, const nlmsg_header *request) noexcept nogil
# struct sockaddr_nl: parse (0, or -EINVAL when short or not AF_NETLINK) and emit (its size).
cdef extern int wire_sockaddr_nl_parse(const uint8_t *addr, int32_t len, uint32_t *portid,
                                       uint32_t *groups) noexcept nogil
cdef extern int32_t wire_sockaddr_nl_emit(uint8_t *out, uint32_t portid, uint32_t groups) noexcept nogil
