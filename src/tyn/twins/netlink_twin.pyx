# Host face of tyn.net.wire_netlink, tyn.net.ifinfo and the AF_NETLINK family: register the
# families as the kernel boots them (AF_UNIX, AF_INET, AF_NETLINK) over the netstack
# twin's interfaces, and the wire format's parse/emit functions on bytes.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t
from tyn.net.socket cimport socket_init
from tyn.net.unix cimport unix_init
from tyn.net.inet_sock cimport inet_init
from tyn.net.netlink_sock cimport netlink_init
from tyn.net.netlock cimport net_lock_acquire, net_lock_release
from tyn.net.netif cimport netif
from tyn.net.wire_netlink cimport *
from tyn.net.ifinfo cimport ifinfo_prefixlen, ifinfo_by_name, ifinfo_by_index, ifinfo_index, ifinfo_flags


def register_families():
    """The socket registry as kmain.start_sockets leaves it."""
    socket_init()
    unix_init()
    inet_init()
    netlink_init()


def nlmsg_parse(bytes buf):
    """(len, type, flags, seq, pid) of the message at the start of buf, or None."""
    cdef nlmsg_header h
    if wire_nlmsg_parse(<const uint8_t *>buf, <uint32_t>len(buf), &h) < 0:
        return None
    return (h.len, h.type, h.flags, h.seq, h.pid)


def nlmsg_emit(uint32_t length, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid):
    cdef nlmsg_header h
    cdef uint8_t out[NLMSG_HDRLEN]
    h.len = length
    h.type = type
    h.flags = flags
    h.seq = seq
    h.pid = pid
    wire_nlmsg_emit(out, &h)
    return bytes(out[:NLMSG_HDRLEN])


def rtattr_find(bytes attrs, uint16_t type):
    """The payload of the first attribute of type, or None."""
    cdef const uint8_t *data
    cdef uint32_t n
    if wire_rtattr_find(<const uint8_t *>attrs, <uint32_t>len(attrs), type, &data, &n):
        return bytes(data[:n])
    return None


def rtattr_emit(uint16_t type, bytes data):
    cdef uint8_t out[256]
    cdef uint32_t n
    if len(data) > 200:
        raise ValueError("too long for this twin")
    n = wire_rtattr_emit(out, type, <const uint8_t *>data, <uint32_t>len(data))
    return bytes(out[:n])


def rtattr_emit_in_addr(uint16_t type, uint32_t addr):
    cdef uint8_t out[16]
    cdef uint32_t n = wire_rtattr_emit_in_addr(out, type, addr)
    return bytes(out[:n])


def ifinfomsg_emit(uint16_t dev_type, int32_t index, uint32_t flags):
    cdef uint8_t out[IFINFOMSG_SIZE]
    wire_ifinfomsg_emit(out, dev_type, index, flags)
    return bytes(out[:IFINFOMSG_SIZE])


def ifaddrmsg_emit(uint8_t family, uint8_t prefixlen, uint8_t flags, uint8_t scope, uint32_t index):
    cdef uint8_t out[IFADDRMSG_SIZE]
    wire_ifaddrmsg_emit(out, family, prefixlen, flags, scope, index)
    return bytes(out[:IFADDRMSG_SIZE])


def sockaddr_nl_parse(bytes addr):
    """(portid, groups), or the negative errno."""
    cdef uint32_t portid = 0, groups = 0
    cdef int r = wire_sockaddr_nl_parse(<const uint8_t *>addr, <int32_t>len(addr), &portid, &groups)
    if r < 0:
        return r
    return (portid, groups)


def sockaddr_nl_emit(uint32_t portid, uint32_t groups):
    cdef uint8_t out[SOCKADDR_NL_SIZE]
    cdef int32_t n = wire_sockaddr_nl_emit(out, portid, groups)
    return bytes(out[:n])


def prefixlen(uint32_t netmask):
    return ifinfo_prefixlen(netmask)


def interface(name):
    """(index, flags) of the interface called name, or None."""
    cdef bytes b = name.encode() + b"\0" * 16
    cdef uint64_t flags = net_lock_acquire()
    cdef netif *nif = ifinfo_by_name(<const char *>b)
    cdef object r = None
    if nif != NULL:
        r = (ifinfo_index(nif), ifinfo_flags(nif))
    net_lock_release(flags)
    return r


def name_of_index(int32_t index):
    cdef uint64_t flags = net_lock_acquire()
    cdef netif *nif = ifinfo_by_index(index)
    cdef object r = None
    if nif != NULL:
        r = (<bytes>nif.name).decode()
    net_lock_release(flags)
    return r
