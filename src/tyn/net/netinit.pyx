# Stack bring-up and its kernel timer (see netinit.pxd).
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport rdtsc, irq_disable, cpu_idle
from tyn.lib.cmdline cimport cmdline_get_u64
from tyn.net.dhcp cimport dhcp_state, DHCP_STATE_OFF, DHCP_STATE_BOUND
from tyn.net.netconfig cimport netconfig_dns_count, netconfig_dns
from tyn.arch.tsc cimport monotonic_ns
from tyn.lib.kprint cimport kputs, kputc, kput_udec
from tyn.time.ktimer cimport ktimer, ktimer_init, ktimer_arm, ktimer_cancel
from tyn.net.netlock cimport net_lock_acquire, net_lock_release
from tyn.net.netdev cimport netdev, netdev_first, netdev_next
from tyn.net.netclock cimport netclock_reset, netclock_set_source
from tyn.net.netstats cimport netstats_reset
from tyn.net.pbuf cimport pbuf_init
from tyn.sys.errno cimport ENETUNREACH
from tyn.net.netif cimport (netif, netif_init, netif_add_netdev, netif_default, netif_timers_run, netif_poll,
                            netif_next_deadline_ns, netif_set_deadline_hook)
from tyn.net.arp cimport arp_init
from tyn.net.ipv4 cimport ipv4_init
from tyn.net.ipv4_reass cimport ipv4_reass_init
from tyn.net.icmp cimport icmp_init, icmp_register_error_handler
from tyn.net.udp cimport udp_init, udp_icmp_error
from tyn.net.dhcp cimport dhcp_init
from tyn.net.ipv4 cimport ipv4_output_offload, ipv4_register_protocol, ipv4_route
from tyn.net.tcp cimport (tcp_init, tcp_set_output, tcp_set_route, tcp_set_clock, tcp_set_secret_source)
from tyn.net.tcp_input cimport tcp_input
from tyn.net.tcp_icmp cimport tcp_icmp_error
from tyn.net.tcp_timers cimport tcp_timers_run, tcp_next_deadline_ns
from tyn.net.wire_ipv4 cimport IPPROTO_TCP, IPPROTO_UDP
from tyn.net.netclock cimport netclock_now_ns
from tyn.sys.info cimport info_random_bytes
from tyn.net.netconfig cimport (netconfig, netconfig_from_cmdline, netconfig_apply, netconfig_set_resolver,
                                NETCONFIG_STATIC, NETCONFIG_OFF)

cdef ktimer net_timer
cdef bint timer_ready


cdef int tcp_route(uint32_t dst, uint32_t *src, uint32_t *mtu, uint32_t *offloads) noexcept nogil:
    """TCP's view of routing: the source address and the MTU towards dst."""
    cdef uint32_t next_hop
    cdef netif *nif = ipv4_route(dst, &next_hop)
    if nif == NULL or nif.addr == 0:
        return -ENETUNREACH
    src[0] = nif.addr
    mtu[0] = nif.mtu
    offloads[0] = nif.dev.tx_offloads if nif.dev != NULL else 0
    return 0


cdef void tcp_secret(uint8_t *key, uint32_t len) noexcept nogil:
    info_random_bytes(<unsigned char *>key, len)


cdef void net_reset() noexcept nogil:
    # Owners of buffers let go of them first; the pbuf accounting restarts last.
    tcp_init()
    ipv4_init()
    dhcp_init()
    udp_init()
    icmp_init()
    arp_init()
    ipv4_reass_init()
    netif_init()
    netconfig_set_resolver(NULL, 0, NULL)
    netclock_reset()
    netstats_reset()
    pbuf_init()
    # TCP sits on IPv4 through these hooks (it builds and tests without them).
    tcp_set_output(ipv4_output_offload)
    tcp_set_route(tcp_route)
    tcp_set_clock(netclock_now_ns)
    tcp_set_secret_source(tcp_secret)
    ipv4_register_protocol(IPPROTO_TCP, tcp_input)
    icmp_register_error_handler(IPPROTO_UDP, udp_icmp_error)
    icmp_register_error_handler(IPPROTO_TCP, tcp_icmp_error)


cdef void net_timer_fired(ktimer *t) noexcept nogil:
    cdef uint64_t flags = net_lock_acquire()
    cdef uint64_t now = monotonic_ns()
    netif_timers_run(now)
    tcp_timers_run(now)
    netif_poll()
    net_timer_update()
    net_lock_release(flags)


cdef inline uint64_t earliest(uint64_t a, uint64_t b) noexcept nogil:
    """The earlier of two deadlines, where 0 means none."""
    if a == 0:
        return b
    if b == 0 or a < b:
        return a
    return b


cdef void net_timer_update() noexcept nogil:
    cdef uint64_t deadline
    if not timer_ready:
        return
    deadline = earliest(netif_next_deadline_ns(), tcp_next_deadline_ns())
    if deadline == 0:
        ktimer_cancel(&net_timer)
    elif not net_timer.armed or deadline < net_timer.deadline_ns:
        ktimer_arm(&net_timer, deadline)


cdef uint32_t mac_bits(const uint8_t *mac) noexcept nogil:
    return (<uint32_t>mac[2] << 24) | (<uint32_t>mac[3] << 16) | (<uint32_t>mac[4] << 8) | mac[5]


cdef void say_config(netif *nif, const netconfig *cfg) noexcept nogil:
    kputs(b"tyn: net: ")
    kputs(nif.name)
    if cfg.mode == NETCONFIG_STATIC:
        kputs(b" static address from the command line\n")
    elif cfg.mode == NETCONFIG_OFF:
        kputs(b" left unconfigured (ip=off)\n")
    else:
        kputs(b" asking DHCP for an address\n")


cdef uint32_t net_init() noexcept nogil:
    global timer_ready
    cdef uint64_t flags = net_lock_acquire()
    cdef netdev *dev = netdev_first()
    cdef uint32_t count = 0
    cdef netconfig cfg
    cdef netif *nif
    net_reset()
    netclock_set_source(monotonic_ns)
    ktimer_init(&net_timer, net_timer_fired, NULL)
    timer_ready = True
    netif_set_deadline_hook(net_timer_update)
    while dev != NULL:
        if netif_add_netdev(dev) != NULL:
            count += 1
        dev = netdev_next(dev)
    nif = netif_default()
    netconfig_from_cmdline(&cfg)
    if nif != NULL:
        say_config(nif, &cfg)
        netconfig_apply(nif, &cfg, <uint32_t>rdtsc() ^ mac_bits(nif.mac))
    else:
        kputs(b"tyn: net: no network device; loopback only\n")
    net_timer_update()
    net_lock_release(flags)
    return count


cdef void put_ip(uint32_t a) noexcept nogil:
    kput_udec(a >> 24)
    kputc(b'.')
    kput_udec((a >> 16) & 0xff)
    kputc(b'.')
    kput_udec((a >> 8) & 0xff)
    kputc(b'.')
    kput_udec(a & 0xff)


cdef uint32_t prefix_length(uint32_t mask) noexcept nogil:
    cdef uint32_t n = 0
    while mask != 0:              # a contiguous mask: count its leading ones
        n += 1
        mask <<= 1
    return n


cdef void say_address(netif *nif, const char *how, uint64_t waited_ns) noexcept nogil:
    cdef uint32_t i
    kputs(b"tyn: net: ")
    kputs(nif.name)
    kputc(b' ')
    put_ip(nif.addr)
    kputc(b'/')
    kput_udec(prefix_length(nif.netmask))
    if nif.gateway != 0:
        kputs(b" gateway ")
        put_ip(nif.gateway)
    for i in range(netconfig_dns_count()):
        kputs(b" dns " if i == 0 else b",")
        put_ip(netconfig_dns(i))
    kputs(b" (")
    kputs(how)
    if waited_ns:
        kputs(b", ")
        kput_udec(waited_ns // 1000000)
        kputs(b" ms")
    kputs(b")\n")


cdef void net_wait_for_address() noexcept nogil:
    # As Linux's ip=dhcp autoconfiguration, init starts once the default interface has its
    # address, so a program's first connect does not race DHCP: at most net_wait= seconds
    # (NET_WAIT_DEFAULT_S), then init starts anyway and DHCP goes on in the background.
    cdef uint64_t wait_s = NET_WAIT_DEFAULT_S
    cdef uint64_t start = monotonic_ns(), deadline
    cdef uint64_t flags
    cdef netif *nif
    cdef int state
    cmdline_get_u64(b"net_wait", &wait_s)
    deadline = start + wait_s * 1000000000
    while True:
        flags = net_lock_acquire()
        nif = netif_default()
        state = dhcp_state()
        net_lock_release(flags)
        if nif == NULL:
            return
        if state == DHCP_STATE_OFF:
            if nif.addr != 0:
                say_address(nif, b"static", 0)
            return
        if state == DHCP_STATE_BOUND:
            say_address(nif, b"DHCP", monotonic_ns() - start)
            return
        if monotonic_ns() >= deadline:
            kputs(b"tyn: net: ")
            kputs(nif.name)
            kputs(b": no DHCP lease after ")
            kput_udec(wait_s)
            kputs(b" s (net_wait=); starting init, DHCP goes on trying\n")
            return
        irq_disable()
        cpu_idle()                  # the NIC's interrupt or the stack's timer wakes us
