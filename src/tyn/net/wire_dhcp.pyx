# DHCP message parse/emit (see wire_dhcp.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.net.byteorder cimport get_be16, get_be32, put_be16, put_be32
from tyn.net.netstats cimport NET_OK, NET_DROP_DHCP_MALFORMED

cdef enum:
    HTYPE_ETHER = 1                 # ARP hardware type
    HLEN_ETHER = 6
    OFF_OP = 0
    OFF_HTYPE = 1
    OFF_HLEN = 2
    OFF_XID = 4
    OFF_SECS = 8
    OFF_FLAGS = 10
    OFF_CIADDR = 12
    OFF_YIADDR = 16
    OFF_SIADDR = 20
    OFF_GIADDR = 24
    OFF_CHADDR = 28
    OFF_OPTIONS = DHCP_FIXED_LEN
    MAGIC_LEN = 4
    ADDR_LEN = 4
    OPTIONS_START = DHCP_FIXED_LEN + MAGIC_LEN

cdef extern from *:
    """
    #define DHCP_MAGIC_COOKIE ((uint32_t)0x63825363U)   /* 99.130.83.99 */
    """
    const uint32_t DHCP_MAGIC_COOKIE


cdef bint read_option(dhcp_message *out, uint8_t code, const uint8_t *v, uint32_t n) noexcept nogil:
    """Store one option; False if its length is wrong for its kind."""
    cdef uint32_t i
    if code == DHO_DHCP_MESSAGE_TYPE:
        if n != 1:
            return False
        out.message_type = v[0]
    elif code == DHO_SUBNET_MASK or code == DHO_DHCP_SERVER_IDENTIFIER or code == DHO_DHCP_REQUESTED_ADDRESS:
        if n != ADDR_LEN:
            return False
        if code == DHO_SUBNET_MASK:
            out.subnet_mask = get_be32(v)
            out.present |= DHCP_HAS_SUBNET_MASK
        elif code == DHO_DHCP_SERVER_IDENTIFIER:
            out.server_id = get_be32(v)
            out.present |= DHCP_HAS_SERVER_ID
        else:
            out.requested_address = get_be32(v)
            out.present |= DHCP_HAS_REQUESTED_ADDRESS
    elif code == DHO_ROUTERS:
        if n < ADDR_LEN or n % ADDR_LEN:
            return False
        out.router = get_be32(v)
        out.present |= DHCP_HAS_ROUTER
    elif code == DHO_DOMAIN_NAME_SERVERS:
        if n < ADDR_LEN or n % ADDR_LEN:
            return False
        i = 0
        while i < n and out.dns_count < DHCP_MAX_DNS:
            out.dns[out.dns_count] = get_be32(v + i)
            out.dns_count += 1
            i += ADDR_LEN
    elif code == DHO_DHCP_LEASE_TIME or code == DHO_DHCP_RENEWAL_TIME or code == DHO_DHCP_REBINDING_TIME:
        if n != 4:
            return False
        if code == DHO_DHCP_LEASE_TIME:
            out.lease_time = get_be32(v)
            out.present |= DHCP_HAS_LEASE_TIME
        elif code == DHO_DHCP_RENEWAL_TIME:
            out.renewal_time = get_be32(v)
            out.present |= DHCP_HAS_RENEWAL_TIME
        else:
            out.rebinding_time = get_be32(v)
            out.present |= DHCP_HAS_REBINDING_TIME
    elif code == DHO_DOMAIN_NAME:
        i = 0
        while i < n and i < DHCP_DOMAIN_MAX - 1 and v[i] != 0:
            out.domain_name[i] = <char>v[i]
            i += 1
        out.domain_name[i] = 0
    return True


cdef int wire_dhcp_parse(const uint8_t *data, uint32_t len, dhcp_message *out) noexcept nogil:
    cdef uint32_t i, n
    cdef uint8_t code
    memset(out, 0, sizeof(dhcp_message))
    if (len < OPTIONS_START or data[OFF_HTYPE] != HTYPE_ETHER or data[OFF_HLEN] != HLEN_ETHER
            or get_be32(data + OFF_OPTIONS) != DHCP_MAGIC_COOKIE):
        return NET_DROP_DHCP_MALFORMED
    out.op = data[OFF_OP]
    out.xid = get_be32(data + OFF_XID)
    out.secs = get_be16(data + OFF_SECS)
    out.flags = get_be16(data + OFF_FLAGS)
    out.ciaddr = get_be32(data + OFF_CIADDR)
    out.yiaddr = get_be32(data + OFF_YIADDR)
    out.siaddr = get_be32(data + OFF_SIADDR)
    out.giaddr = get_be32(data + OFF_GIADDR)
    memcpy(out.chaddr, data + OFF_CHADDR, HLEN_ETHER)
    i = OPTIONS_START
    while i < len:
        code = data[i]
        if code == DHO_END:
            return NET_OK
        if code == DHO_PAD:
            i += 1
            continue
        if i + 2 > len:
            return NET_DROP_DHCP_MALFORMED
        n = data[i + 1]
        if i + 2 + n > len or not read_option(out, code, data + i + 2, n):
            return NET_DROP_DHCP_MALFORMED
        i += 2 + n
    return NET_DROP_DHCP_MALFORMED  # no END option


cdef uint32_t put_option(uint8_t *buf, uint32_t at, uint8_t code, const uint8_t *v, uint8_t n) noexcept nogil:
    buf[at] = code
    buf[at + 1] = n
    memcpy(buf + at + 2, v, n)
    return at + 2 + n


cdef uint32_t put_addr_option(uint8_t *buf, uint32_t at, uint8_t code, uint32_t addr) noexcept nogil:
    cdef uint8_t v[ADDR_LEN]
    put_be32(v, addr)
    return put_option(buf, at, code, v, ADDR_LEN)


cdef uint32_t wire_dhcp_emit(uint8_t *buf, uint32_t cap, const dhcp_message *msg) noexcept nogil:
    cdef uint8_t params[6]
    cdef uint8_t v[2]
    cdef uint32_t at
    if cap < DHCP_MIN_LEN:
        return 0
    memset(buf, 0, DHCP_MIN_LEN)
    buf[OFF_OP] = msg.op
    buf[OFF_HTYPE] = HTYPE_ETHER
    buf[OFF_HLEN] = HLEN_ETHER
    put_be32(buf + OFF_XID, msg.xid)
    put_be16(buf + OFF_SECS, msg.secs)
    put_be16(buf + OFF_FLAGS, msg.flags)
    put_be32(buf + OFF_CIADDR, msg.ciaddr)
    put_be32(buf + OFF_YIADDR, msg.yiaddr)
    put_be32(buf + OFF_SIADDR, msg.siaddr)
    put_be32(buf + OFF_GIADDR, msg.giaddr)
    memcpy(buf + OFF_CHADDR, msg.chaddr, HLEN_ETHER)
    put_be32(buf + OFF_OPTIONS, DHCP_MAGIC_COOKIE)
    at = OPTIONS_START
    v[0] = msg.message_type
    at = put_option(buf, at, DHO_DHCP_MESSAGE_TYPE, v, 1)
    if msg.present & DHCP_HAS_REQUESTED_ADDRESS:
        at = put_addr_option(buf, at, DHO_DHCP_REQUESTED_ADDRESS, msg.requested_address)
    if msg.present & DHCP_HAS_SERVER_ID:
        at = put_addr_option(buf, at, DHO_DHCP_SERVER_IDENTIFIER, msg.server_id)
    put_be16(v, DHCP_MAX_LEN)
    at = put_option(buf, at, DHO_DHCP_MAX_MESSAGE_SIZE, v, 2)
    params[0] = DHO_SUBNET_MASK
    params[1] = DHO_ROUTERS
    params[2] = DHO_DOMAIN_NAME_SERVERS
    params[3] = DHO_DOMAIN_NAME
    params[4] = DHO_DHCP_RENEWAL_TIME
    params[5] = DHO_DHCP_REBINDING_TIME
    at = put_option(buf, at, DHO_DHCP_PARAMETER_REQUEST_LIST, params, 6)
    buf[at] = DHO_END
    at += 1
    return at if at > DHCP_MIN_LEN else DHCP_MIN_LEN
