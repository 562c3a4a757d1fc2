# Interface configuration: static from the kernel command line, or DHCP; and the resolver
# settings (DNS servers, domain) that DHCP or the command line provide.
#
# Command-line keys (docs/IMAGE.md):
#   ip=dhcp            (the default) ask a DHCP server; QEMU user-net answers 10.0.2.15/24,
#                      router 10.0.2.2, DNS 10.0.2.3
#   ip=ADDR/PREFIX     a static address, e.g. ip=192.168.7.2/24
#   ip=off             no address (the interface stays down for IPv4; lo still works)
#   gateway=ADDR       default router (static only)
#   dns=ADDR[,ADDR...] up to NETCONFIG_MAX_DNS servers (static only)
#   domain=NAME        resolver domain (static only)
# Under net_lock.
from libc.stdint cimport uint32_t
from tyn.net.netif cimport netif

cdef enum:
    NETCONFIG_MAX_DNS = 3
    NETCONFIG_DOMAIN_MAX = 64
    NETCONFIG_DHCP = 0
    NETCONFIG_STATIC = 1
    NETCONFIG_OFF = 2
    # netconfig_parse results
    NETCONFIG_OK = 0
    NETCONFIG_BAD_IP = -1
    NETCONFIG_BAD_GATEWAY = -2
    NETCONFIG_BAD_DNS = -3
    NETCONFIG_BAD_DOMAIN = -4

cdef struct netconfig:
    int mode                        # NETCONFIG_DHCP / _STATIC / _OFF
    uint32_t addr
    uint32_t netmask
    uint32_t gateway
    uint32_t dns[NETCONFIG_MAX_DNS]
    uint32_t dns_count
    char domain[NETCONFIG_DOMAIN_MAX]

# Parse the values of the keys (NULL: key absent); NETCONFIG_OK or the NETCONFIG_BAD_* of
# the first bad key (out then holds the DHCP default).
cdef extern int netconfig_parse(const char *ip, const char *gateway, const char *dns, const char *domain,
                                netconfig *out) noexcept nogil
# The same from the kernel command line; a bad key is reported on the console.
cdef extern int netconfig_from_cmdline(netconfig *out) noexcept nogil
# Configure nif: static address/route/resolver, or start DHCP.  0 or -errno.
cdef extern int netconfig_apply(netif *nif, const netconfig *cfg, uint32_t dhcp_xid_seed) noexcept nogil
# "a.b.c.d" exactly (each part 0..255, nothing after).
cdef extern bint netconfig_parse_addr(const char *text, uint32_t *out) noexcept nogil
# The historical class mask of addr (a DHCP lease without a subnet mask option).
cdef extern uint32_t netconfig_classful_mask(uint32_t addr) noexcept nogil
# Resolver settings (dns may be NULL when count is 0; domain NULL = none).
cdef extern void netconfig_set_resolver(const uint32_t *dns, uint32_t count, const char *domain) noexcept nogil
# Called (net_lock held) after every netconfig_set_resolver: the kernel's /etc/resolv.conf
# follows the DNS servers and domain (fs/resolvconf).  NULL: nobody listens.
ctypedef void (*netconfig_resolver_hook)() noexcept nogil
cdef extern void netconfig_set_resolver_hook(netconfig_resolver_hook fn) noexcept nogil
cdef extern uint32_t netconfig_dns_count() noexcept nogil
cdef extern uint32_t netconfig_dns(uint32_t index) noexcept nogil
cdef extern const char *netconfig_domain() noexcept nogil
