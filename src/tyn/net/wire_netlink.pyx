# Netlink message parse/emit (see wire_netlink.pxd).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.sys.errno cimport EINVAL
from tyn.net.byteorder cimport put_be32

cdef int wire_nlmsg_parse(const uint8_t *buf, uint32_t avail, nlmsg_header *out) noexcept nogil:
    if avail < NLMSG_HDRLEN:
        return -1
    memcpy(out, buf, NLMSG_HDRLEN)
    if out.len < NLMSG_HDRLEN or out.len > avail:
        return -1
    return 0

cdef void wire_nlmsg_emit(uint8_t *buf, const nlmsg_header *h) noexcept nogil:
    memcpy(buf, h, NLMSG_HDRLEN)

cdef bint wire_rtattr_find(const uint8_t *attrs, uint32_t len, uint16_t type,
                           const uint8_t **data, uint32_t *datalen) noexcept nogil:
    cdef uint16_t rta_len, rta_type
    cdef uint32_t step
    while len >= RTA_HDRLEN:
        memcpy(&rta_len, attrs, 2)
        memcpy(&rta_type, attrs + 2, 2)
        if rta_len < RTA_HDRLEN or rta_len > len:
            return False
        if rta_type == type:
            data[0] = attrs + RTA_HDRLEN
            datalen[0] = rta_len - RTA_HDRLEN
            return True
        step = nlmsg_align(rta_len)
        if step >= len:
            return False
        attrs += step
        len -= step
    return False

cdef uint32_t wire_rtattr_space(uint32_t datalen) noexcept nogil:
    return nlmsg_align(RTA_HDRLEN + datalen)

cdef uint32_t wire_rtattr_emit(uint8_t *buf, uint16_t type, const void *data, uint32_t datalen) noexcept nogil:
    cdef uint16_t rta_len = <uint16_t>(RTA_HDRLEN + datalen)
    cdef uint32_t space = wire_rtattr_space(datalen)
    memset(buf, 0, space)
    memcpy(buf, &rta_len, 2)
    memcpy(buf + 2, &type, 2)
    if datalen > 0:
        memcpy(buf + RTA_HDRLEN, data, datalen)
    return space

cdef uint32_t wire_rtattr_emit_u32(uint8_t *buf, uint16_t type, uint32_t v) noexcept nogil:
    return wire_rtattr_emit(buf, type, &v, 4)

cdef uint32_t wire_rtattr_emit_u8(uint8_t *buf, uint16_t type, uint8_t v) noexcept nogil:
    return wire_rtattr_emit(buf, type, &v, 1)

cdef uint32_t wire_rtattr_emit_in_addr(uint8_t *buf, uint16_t type, uint32_t addr) noexcept nogil:
    cdef uint8_t be[4]
    put_be32(be, addr)
    return wire_rtattr_emit(buf, type, be, 4)

cdef void wire_ifinfomsg_emit(uint8_t *buf, uint16_t dev_type, int32_t index, uint32_t flags) noexcept nogil:
    # ifi_family AF_UNSPEC, ifi_change 0 (what a dump reports)
    memset(buf, 0, IFINFOMSG_SIZE)
    memcpy(buf + 2, &dev_type, 2)
    memcpy(buf + 4, &index, 4)
    memcpy(buf + 8, &flags, 4)

cdef bint wire_ifinfomsg_index(const uint8_t *body, uint32_t len, int32_t *index) noexcept nogil:
    if len < IFINFOMSG_SIZE:
        return False
    memcpy(index, body + 4, 4)
    return True

cdef void wire_ifaddrmsg_emit(uint8_t *buf, uint8_t family, uint8_t prefixlen, uint8_t flags,
                              uint8_t scope, uint32_t index) noexcept nogil:
    buf[0] = family
    buf[1] = prefixlen
    buf[2] = flags
    buf[3] = scope
    memcpy(buf + 4, &index, 4)

cdef void wire_nlmsgerr_emit(uint8_t *buf, int32_t error, const nlmsg_header *request) noexcept nogil:
    memcpy(buf, &error, 4)
    memcpy(buf + 4, request, NLMSG_HDRLEN)

cdef int wire_sockaddr_nl_parse(const uint8_t *addr, int32_t len, uint32_t *portid,
                                uint32_t *groups) noexcept nogil:
    cdef uint16_t family
    if len < SOCKADDR_NL_SIZE:
        return -EINVAL
    memcpy(&family, addr, 2)
    if family != AF_NETLINK:
        return -EINVAL
    memcpy(portid, addr + 4, 4)
    memcpy(groups, addr + 8, 4)
    return 0

cdef int32_t wire_sockaddr_nl_emit(uint8_t *out, uint32_t portid, uint32_t groups) noexcept nogil:
    cdef uint16_t family = AF_NETLINK
    memset(out, 0, SOCKADDR_NL_SIZE)
    memcpy(out, &family, 2)
    memcpy(out + 4, &portid, 4)
    memcpy(out + 8, &groups, 4)
    return SOCKADDR_NL_SIZE
