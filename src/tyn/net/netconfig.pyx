# Static/DHCP configuration and resolver settings (see netconfig.pxd).
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport memset
from tyn.lib.cmdline cimport cmdline_get, cmdline_streq
from tyn.lib.kprint cimport kputs
from tyn.net.netif cimport netif, netif_set_addr
from tyn.net.dhcp cimport dhcp_start

cdef enum:
    ASCII_ZERO = 48
    ASCII_NINE = 57
    ASCII_DOT = 46
    ASCII_SLASH = 47
    ASCII_COMMA = 44
    ADDR_BITS = 32
    OCTET_MAX = 255
    OCTETS = 4

cdef extern from *:
    """
    #define NETCONFIG_CLASS_A_MASK ((uint32_t)0xff000000U)
    #define NETCONFIG_CLASS_B_MASK ((uint32_t)0xffff0000U)
    #define NETCONFIG_CLASS_C_MASK ((uint32_t)0xffffff00U)
    #define NETCONFIG_ALL_ONES ((uint32_t)0xffffffffU)
    """
    const uint32_t NETCONFIG_CLASS_A_MASK
    const uint32_t NETCONFIG_CLASS_B_MASK
    const uint32_t NETCONFIG_CLASS_C_MASK
    const uint32_t NETCONFIG_ALL_ONES

cdef uint32_t resolver_dns[NETCONFIG_MAX_DNS]
cdef uint32_t resolver_dns_count
cdef char resolver_domain[NETCONFIG_DOMAIN_MAX]


cdef inline bint is_digit(char c) noexcept nogil:
    return ASCII_ZERO <= c <= ASCII_NINE


cdef const char *parse_addr_prefix(const char *text, uint32_t *out) noexcept nogil:
    """Parse a.b.c.d at text; the position after it, or NULL."""
    cdef uint32_t addr = 0, part
    cdef int octet, digits
    for octet in range(OCTETS):
        if octet > 0:
            if text[0] != ASCII_DOT:
                return NULL
            text += 1
        part = 0
        digits = 0
        while is_digit(text[0]) and digits < 4:
            part = part * 10 + <uint32_t>(text[0] - ASCII_ZERO)
            text += 1
            digits += 1
        if digits == 0 or digits > 3 or part > OCTET_MAX:
            return NULL
        addr = (addr << 8) | part
    out[0] = addr
    return text


cdef bint netconfig_parse_addr(const char *text, uint32_t *out) noexcept nogil:
    cdef const char *end = parse_addr_prefix(text, out)
    return end != NULL and end[0] == 0


cdef uint32_t netconfig_classful_mask(uint32_t addr) noexcept nogil:
    if addr >> 31 == 0:
        return NETCONFIG_CLASS_A_MASK
    if addr >> 30 == 2:
        return NETCONFIG_CLASS_B_MASK
    return NETCONFIG_CLASS_C_MASK


cdef bint parse_ip(const char *ip, netconfig *out) noexcept nogil:
    cdef const char *p
    cdef uint32_t prefix = 0
    cdef int digits = 0
    if cmdline_streq(ip, b"dhcp"):
        out.mode = NETCONFIG_DHCP
        return True
    if cmdline_streq(ip, b"off"):
        out.mode = NETCONFIG_OFF
        return True
    p = parse_addr_prefix(ip, &out.addr)
    if p == NULL or p[0] != ASCII_SLASH:
        return False
    p += 1
    while is_digit(p[0]) and digits < 3:
        prefix = prefix * 10 + <uint32_t>(p[0] - ASCII_ZERO)
        p += 1
        digits += 1
    if digits == 0 or p[0] != 0 or prefix == 0 or prefix > ADDR_BITS or out.addr == 0:
        return False
    out.netmask = NETCONFIG_ALL_ONES << (ADDR_BITS - prefix) if prefix < ADDR_BITS else NETCONFIG_ALL_ONES
    out.mode = NETCONFIG_STATIC
    return True


cdef bint parse_dns(const char *text, netconfig *out) noexcept nogil:
    cdef const char *p = text
    while True:
        if out.dns_count == NETCONFIG_MAX_DNS:
            return False
        p = parse_addr_prefix(p, &out.dns[out.dns_count])
        if p == NULL:
            return False
        out.dns_count += 1
        if p[0] == 0:
            return True
        if p[0] != ASCII_COMMA:
            return False
        p += 1


cdef int netconfig_parse(const char *ip, const char *gateway, const char *dns, const char *domain,
                         netconfig *out) noexcept nogil:
    cdef int i = 0
    memset(out, 0, sizeof(netconfig))
    out.mode = NETCONFIG_DHCP
    if ip != NULL and not parse_ip(ip, out):
        memset(out, 0, sizeof(netconfig))
        return NETCONFIG_BAD_IP
    if gateway != NULL and not netconfig_parse_addr(gateway, &out.gateway):
        memset(out, 0, sizeof(netconfig))
        return NETCONFIG_BAD_GATEWAY
    if dns != NULL and not parse_dns(dns, out):
        memset(out, 0, sizeof(netconfig))
        return NETCONFIG_BAD_DNS
    if domain != NULL:
        while domain[i] != 0:
            if i == NETCONFIG_DOMAIN_MAX - 1:
                memset(out, 0, sizeof(netconfig))
                return NETCONFIG_BAD_DOMAIN
            out.domain[i] = domain[i]
            i += 1
    return NETCONFIG_OK


cdef int netconfig_from_cmdline(netconfig *out) noexcept nogil:
    cdef int rc = netconfig_parse(cmdline_get(b"ip"), cmdline_get(b"gateway"), cmdline_get(b"dns"),
                                  cmdline_get(b"domain"), out)
    if rc == NETCONFIG_BAD_IP:
        kputs(b"tyn: net: ip= must be dhcp, off or ADDR/PREFIX; using DHCP\n")
    elif rc == NETCONFIG_BAD_GATEWAY:
        kputs(b"tyn: net: gateway= is not an IPv4 address; using DHCP\n")
    elif rc == NETCONFIG_BAD_DNS:
        kputs(b"tyn: net: dns= must be up to 3 comma-separated IPv4 addresses; using DHCP\n")
    elif rc == NETCONFIG_BAD_DOMAIN:
        kputs(b"tyn: net: domain= is too long; using DHCP\n")
    return rc


cdef int netconfig_apply(netif *nif, const netconfig *cfg, uint32_t dhcp_xid_seed) noexcept nogil:
    if cfg.mode == NETCONFIG_STATIC:
        netif_set_addr(nif, cfg.addr, cfg.netmask, cfg.gateway)
        netconfig_set_resolver(cfg.dns, cfg.dns_count, cfg.domain)
        return 0
    if cfg.mode == NETCONFIG_DHCP:
        return dhcp_start(nif, dhcp_xid_seed)
    return 0


cdef void netconfig_set_resolver(const uint32_t *dns, uint32_t count, const char *domain) noexcept nogil:
    global resolver_dns_count
    cdef uint32_t i
    cdef int j = 0
    resolver_dns_count = count if count < NETCONFIG_MAX_DNS else NETCONFIG_MAX_DNS
    for i in range(resolver_dns_count):
        resolver_dns[i] = dns[i]
    memset(resolver_domain, 0, NETCONFIG_DOMAIN_MAX)
    if domain != NULL:
        while domain[j] != 0 and j < NETCONFIG_DOMAIN_MAX - 1:
            resolver_domain[j] = domain[j]
            j += 1


cdef uint32_t netconfig_dns_count() noexcept nogil:
    return resolver_dns_count


cdef uint32_t netconfig_dns(uint32_t index) noexcept nogil:
    return resolver_dns[index] if index < resolver_dns_count else 0


cdef const char *netconfig_domain() noexcept nogil:
    return resolver_domain
