# Host face of the IPv4 stack (src/tyn/net/) for tests: a fake NIC whose transmitted frames
# are collected, frames fed in as the driver would, the timers driven with a simulated
# clock, and the pcb/DHCP/config APIs with Python types.  Addresses are integers (host order).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset
from tyn.sys.errno cimport ENOBUFS
from tyn.net.netlock cimport net_lock_acquire, net_lock_release
from tyn.net.netdev cimport netdev, netdev_tx_offload, NETDEV_OFFLOAD_CSUM, NETDEV_OFFLOAD_TSO4, netdev_register, netdev_reset, netdev_first, NETDEV_RX_CHECKSUM_OK
from tyn.net.netinit cimport net_reset
from tyn.proc.sched cimport sched_init
from tyn.net.netstats cimport netstats_get, netstats_name, netstats_drops, NET_COUNTER_COUNT, NET_DROP_FIRST, NET_DROP_LAST
from tyn.net.pbuf cimport pbuf_stats, pbuf_get_stats, pbuf_set_limit
from tyn.net.netif cimport (netif, netif_add_netdev, netif_set_addr, netif_poll, netif_timers_run,
                            netif_next_deadline_ns, netif_loopback)
from tyn.net.netclock cimport netclock_now_ns
from tyn.net.arp cimport arp_state, arp_lookup, arp_queued
from tyn.net.ipv4 cimport ipv4_output, ipv4_output_offload, ipv4_register_protocol
from tyn.net.ipv4_reass cimport ipv4_reass_datagrams, ipv4_reass_bytes
from tyn.net.udp cimport *
from tyn.net.dhcp cimport *
from tyn.net.wire_dhcp cimport dhcp_message
from tyn.net.netconfig cimport *

RX_CHECKSUM_OK = NETDEV_RX_CHECKSUM_OK      # input(frame, rx_flags): the device checked it

cdef netdev fake_dev
cdef netif *eth
tx_frames = []
tx_offload = []     # per frame in tx_frames: the offload the stack asked for (dict), or None
delivered = []
udp_events = {}
cdef bint tx_refuse


cdef int fake_transmit(netdev *dev, const uint8_t *frame, uint32_t len,
                       const netdev_tx_offload *offload) noexcept nogil:
    if tx_refuse:
        dev.tx_drops += 1
        return -ENOBUFS
    dev.tx_packets += 1
    dev.tx_bytes += len
    with gil:
        tx_frames.append((<const char *>frame)[:len])
        tx_offload.append(None if offload == NULL else
                          dict(flags=offload.flags, csum_start=offload.csum_start, csum_offset=offload.csum_offset,
                               hdr_len=offload.hdr_len, gso_size=offload.gso_size))
    return 0


OFFLOAD_CSUM = NETDEV_OFFLOAD_CSUM
OFFLOAD_TSO4 = NETDEV_OFFLOAD_TSO4


def reset(bytes mac=b"\x52\x54\x00\x12\x34\x56", uint32_t mtu=1500, bint with_nic=True,
          uint32_t tx_offloads=0):
    """All stack state fresh; a fake NIC (unless with_nic=False) bound as eth0 (no address),
    reporting tx_offloads (OFFLOAD_*)."""
    global eth, tx_refuse
    sched_init()        # as the kernel boots: the scheduler (and waitq_lock, which wake-ups take) first
    cdef uint64_t flags = net_lock_acquire()
    netdev_reset()
    net_reset()
    memset(&fake_dev, 0, sizeof(netdev))
    eth = NULL
    tx_refuse = False
    del tx_frames[:]
    del tx_offload[:]
    del delivered[:]
    udp_events.clear()
    if with_nic:
        memcpy(fake_dev.mac, <const char *>mac, 6)
        fake_dev.mtu = mtu
        fake_dev.tx_offloads = tx_offloads
        fake_dev.transmit = fake_transmit
        netdev_register(&fake_dev)
        eth = netif_add_netdev(&fake_dev)
    net_lock_release(flags)


def set_addr(uint32_t addr, uint32_t netmask, uint32_t gateway=0):
    netif_set_addr(eth, addr, netmask, gateway)


def addr():
    return (eth.addr, eth.netmask, eth.gateway)


def refuse_transmit(bint refuse):
    global tx_refuse
    tx_refuse = refuse


def input(bytes frame, uint32_t rx_flags=0):
    """One received frame, delivered as the driver does (dev.receive, then receive_done,
    under net_lock); rx_flags: NETDEV_RX_* as a driver would pass."""
    cdef uint64_t flags = net_lock_acquire()
    fake_dev.receive(&fake_dev, <const uint8_t *><const char *>frame, len(frame), rx_flags)
    fake_dev.receive_done(&fake_dev)
    net_lock_release(flags)


def frames():
    """Frames transmitted since the last call."""
    out = list(tx_frames)
    del tx_frames[:]
    del tx_offload[:]
    return out


def frames_offload():
    """Frames transmitted since the last call with the offload asked of the device:
    [(frame, dict or None)]."""
    out = list(zip(tx_frames, tx_offload))
    del tx_frames[:]
    del tx_offload[:]
    return out


def timers_run(uint64_t now_ns):
    netif_timers_run(now_ns)


def next_deadline():
    return netif_next_deadline_ns()


def now():
    return netclock_now_ns()


def poll():
    netif_poll()


def loopback_queued():
    return netif_loopback().loop_count


def counters():
    """Every nonzero counter by name."""
    out = {}
    for i in range(1, NET_COUNTER_COUNT):
        v = netstats_get(i)
        if v:
            out[netstats_name(i).decode()] = v
    return out


def counter_names():
    return [netstats_name(i).decode() for i in range(1, NET_COUNTER_COUNT)]


def drop_names():
    return [netstats_name(i).decode() for i in range(NET_DROP_FIRST, NET_DROP_LAST + 1)]


def total_drops():
    return netstats_drops()


def buffers():
    cdef pbuf_stats s
    pbuf_get_stats(&s)
    return s


def set_buffer_limit(uint64_t n):
    pbuf_set_limit(n)


def arp(uint32_t a):
    """(state, mac or None, queued packets)."""
    cdef uint8_t mac[6]
    found = arp_lookup(a, mac)
    return arp_state(a), ((<char *>mac)[:6] if found else None), arp_queued(a)


def reassembly():
    return ipv4_reass_datagrams(), ipv4_reass_bytes()


def output(uint32_t src, uint32_t dst, uint8_t protocol, bytes payload):
    return ipv4_output(src, dst, protocol, <const uint8_t *><const char *>payload, len(payload))


def output_offload(uint32_t src, uint32_t dst, uint8_t protocol, bytes payload, uint32_t flags,
                   uint16_t csum_start=0, uint16_t csum_offset=0, uint16_t hdr_len=0, uint16_t gso_size=0):
    """ipv4_output_offload with a netdev_tx_offload (offsets from the payload's start)."""
    cdef netdev_tx_offload o
    o.flags, o.csum_start, o.csum_offset, o.hdr_len, o.gso_size = flags, csum_start, csum_offset, hdr_len, gso_size
    return ipv4_output_offload(src, dst, protocol, 0, 64, <const uint8_t *><const char *>payload, len(payload), &o)


cdef void capture(uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *payload, uint32_t len,
                  uint32_t rx_flags) noexcept nogil:
    with gil:
        delivered.append((src, dst, (<const char *>payload)[:len]))


def capture_protocol(uint8_t protocol):
    """Deliver datagrams of protocol into delivered()."""
    ipv4_register_protocol(protocol, capture)


def take_delivered():
    out = list(delivered)
    del delivered[:]
    return out


# ---- UDP ----

cdef void udp_event(udp_pcb *pcb, void *arg) noexcept nogil:
    with gil:
        key = <uint64_t>pcb
        udp_events[key] = udp_events.get(key, 0) + 1


def udp_open(uint16_t port=0, uint32_t addr=0, bint reuse=False):
    """A bound pcb (as an integer handle) or -errno."""
    cdef udp_pcb *pcb = udp_new()
    if pcb == NULL:
        return None
    if reuse:
        pcb.flags |= UDP_PCB_REUSEADDR
    rc = udp_bind(pcb, addr, port)
    if rc != 0:
        udp_free(pcb)
        return rc
    udp_set_event_callback(pcb, udp_event, NULL)
    return <uint64_t>pcb


def udp_port(uint64_t h):
    return (<udp_pcb *>h).local_port


def udp_close(uint64_t h):
    udp_free(<udp_pcb *>h)


def udp_connect_to(uint64_t h, uint32_t a, uint16_t port):
    return udp_connect(<udp_pcb *>h, a, port)


def udp_send_to(uint64_t h, bytes data, uint32_t dst, uint16_t port):
    return udp_sendto(<udp_pcb *>h, <const uint8_t *><const char *>data, len(data), dst, port)


def udp_send_connected(uint64_t h, bytes data):
    return udp_send(<udp_pcb *>h, <const uint8_t *><const char *>data, len(data))


def udp_receive(uint64_t h, uint32_t cap=70000, bint peek=False):
    """(data, full length, src, src_port) or -errno."""
    cdef uint32_t src
    cdef uint16_t port
    buf = bytearray(cap if cap else 1)
    cdef uint8_t *p = <uint8_t *><char *>buf
    n = udp_recv(<udp_pcb *>h, p, cap, &src, &port, UDP_RECV_PEEK if peek else 0)
    if n < 0:
        return n
    return bytes(buf[:min(n, cap)]), n, src, port


def udp_rcvbuf(uint64_t h, uint32_t n):
    udp_set_rcvbuf(<udp_pcb *>h, n)


def udp_info(uint64_t h):
    cdef udp_pcb *pcb = <udp_pcb *>h
    return dict(queued=pcb.rx_count, charged=pcb.rx_charged, drops=pcb.rx_drops,
                next_length=udp_next_length(pcb), events=udp_events.get(h, 0))


def udp_error(uint64_t h):
    """The pending ICMP-reported error (positive errno, cleared), 0 if none."""
    return udp_take_error(<udp_pcb *>h)


# ---- DHCP and configuration ----

def dhcp_begin(uint32_t xid):
    return dhcp_start(eth, xid)


def dhcp_current_state():
    return DHCP_STATES[dhcp_state()]


def dhcp_current_lease():
    cdef dhcp_message m
    if not dhcp_lease(&m):
        return None
    return m


def resolver():
    return [netconfig_dns(i) for i in range(netconfig_dns_count())], netconfig_domain().decode()


def config_parse(ip=None, gateway=None, dns=None, domain=None):
    cdef netconfig cfg
    b = [None if v is None else v.encode() for v in (ip, gateway, dns, domain)]
    rc = netconfig_parse(<const char *>b[0] if b[0] is not None else NULL,
                         <const char *>b[1] if b[1] is not None else NULL,
                         <const char *>b[2] if b[2] is not None else NULL,
                         <const char *>b[3] if b[3] is not None else NULL, &cfg)
    cdef object d = cfg
    d["dns"] = list(d["dns"])[:cfg.dns_count]
    return rc, d


def config_apply(ip=None, gateway=None, dns=None, domain=None, uint32_t xid=1):
    cdef netconfig cfg
    b = [None if v is None else v.encode() for v in (ip, gateway, dns, domain)]
    rc = netconfig_parse(<const char *>b[0] if b[0] is not None else NULL,
                         <const char *>b[1] if b[1] is not None else NULL,
                         <const char *>b[2] if b[2] is not None else NULL,
                         <const char *>b[3] if b[3] is not None else NULL, &cfg)
    if rc != 0:
        return rc
    return netconfig_apply(eth, &cfg, xid)


DHCP_STATES = {DHCP_STATE_OFF: "off", DHCP_STATE_SELECTING: "selecting", DHCP_STATE_REQUESTING: "requesting",
               DHCP_STATE_BOUND: "bound", DHCP_STATE_RENEWING: "renewing", DHCP_STATE_REBINDING: "rebinding"}
