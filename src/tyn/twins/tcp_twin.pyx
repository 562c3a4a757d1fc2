# Host face of the TCP modules for tests: segments in (tcp_input), segments out (captured
# in a list), a simulated clock driving tcp_timers_run, events, and the socket-facing
# API.  pcbs cross into Python as integers.  Needs the heap (tests boot pmm + heap).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from libc.string cimport memcpy
from tyn.net.tcp_types cimport *
from tyn.net.tcp cimport *
from tyn.net.tcp_input cimport tcp_input
from tyn.net.netdev cimport NETDEV_RX_CHECKSUM_OK, NETDEV_OFFLOAD_CSUM, NETDEV_OFFLOAD_TSO4, netdev_tx_offload
from tyn.net.tcp_timers cimport tcp_timers_run, tcp_next_deadline_ns
from tyn.net.tcp_iss cimport tcp_iss_siphash
from tyn.net.tcp_scoreboard cimport tcp_scoreboard_pipe, tcp_scoreboard_is_lost
from tyn.net.tcp_pcb cimport tcp_pcb_first
from tyn.net.tcp_icmp cimport tcp_icmp_error
from tyn.net.icmp cimport icmp_error_errno
from tyn.net.wire_icmp cimport icmp_header

CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED = TCP_CLOSED, TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RECEIVED, TCP_ESTABLISHED
FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT = (
    TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT)
STATE_NAMES = ["CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
               "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"]
EVENT_IN, EVENT_OUT, EVENT_ERR, EVENT_HUP = TCP_EVENT_IN, TCP_EVENT_OUT, TCP_EVENT_ERR, TCP_EVENT_HUP
EVENT_SOFT_ERR, EVENT_SEND_DONE = TCP_EVENT_SOFT_ERR, TCP_EVENT_SEND_DONE
SHUT_RD_, SHUT_WR_, SHUT_RDWR_ = SHUT_RD, SHUT_WR, SHUT_RDWR
MSG_PEEK_ = MSG_PEEK
RTO_INITIAL_MS, RTO_MAX_MS, DELACK_MS, TIME_WAIT_MS = TCP_RTO_INITIAL_MS, TCP_RTO_MAX_MS, TCP_DELACK_MS, TCP_TIME_WAIT_MS
DEFAULT_MSS, CHUNK_BYTES = TCP_DEFAULT_MSS, TCP_CHUNK_BYTES
RX_CHECKSUM_OK = NETDEV_RX_CHECKSUM_OK      # input(..., rx_flags): the device checked it

cdef list captured = []
cdef list captured_ip = []      # (tos, ttl) of each captured segment
cdef list captured_offload = []     # its netdev_tx_offload as a dict, or None
cdef uint32_t route_offloads
cdef list events = []
cdef uint64_t sim_now
cdef uint32_t route_src
cdef uint32_t route_mtu
cdef bint route_fail
cdef uint8_t secret[16]
cdef int output_result


cdef int capture_output(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t tos, uint8_t ttl,
                        const uint8_t *payload, uint32_t len, const netdev_tx_offload *offload) noexcept nogil:
    with gil:
        captured.append((src, dst, protocol, (<const char *>payload)[:len]))
        captured_ip.append((tos, ttl))
        if offload == NULL:
            captured_offload.append(None)
        else:
            captured_offload.append(dict(flags=offload.flags, csum_start=offload.csum_start,
                                         csum_offset=offload.csum_offset, hdr_len=offload.hdr_len,
                                         gso_size=offload.gso_size))
    return output_result

cdef void capture_event(tcp_pcb *pcb, void *user, uint32_t ev) noexcept nogil:
    with gil:
        events.append((<uint64_t>pcb, ev))

cdef uint64_t sim_clock() noexcept nogil:
    return sim_now

cdef int sim_route(uint32_t dst, uint32_t *src, uint32_t *mtu, uint32_t *offloads) noexcept nogil:
    if route_fail:
        return -1
    src[0] = route_src
    mtu[0] = route_mtu
    offloads[0] = route_offloads
    return 0

cdef void sim_secret(uint8_t *key, uint32_t n) noexcept nogil:
    memcpy(key, secret, n if n < 16 else 16)


def reset(uint32_t local_addr=0, uint32_t mtu=1500, bytes key=b"tyn-tcp-test-key", uint64_t now_ns=1_000_000_000):
    """A fresh TCP module with the simulated hooks; local_addr is the route's source."""
    global sim_now, route_src, route_mtu, route_fail, output_result, route_offloads
    tcp_init()
    captured.clear()
    captured_ip.clear()
    captured_offload.clear()
    route_offloads = 0
    events.clear()
    sim_now = now_ns
    route_src = local_addr
    route_mtu = mtu
    route_fail = False
    output_result = 0
    memcpy(secret, <const char *>key, 16)
    tcp_set_output(capture_output)
    tcp_set_event_hook(capture_event)
    tcp_set_clock(sim_clock)
    tcp_set_route(sim_route)
    tcp_set_secret_source(sim_secret)

def set_route(uint32_t local_addr, uint32_t mtu=1500, bint fail=False):
    global route_src, route_mtu, route_fail
    route_src, route_mtu, route_fail = local_addr, mtu, fail

OFFLOAD_CSUM = NETDEV_OFFLOAD_CSUM
OFFLOAD_TSO4 = NETDEV_OFFLOAD_TSO4

def set_route_offloads(uint32_t offloads):
    """The transmit offloads (OFFLOAD_*) the route's device reports to connections made
    from now on."""
    global route_offloads
    route_offloads = offloads

def take_output_offload():
    """The segments sent since the last call with what they left to the device:
    [(bytes, offload dict or None)]."""
    out = [(seg[3], off) for seg, off in zip(captured, captured_offload)]
    captured.clear()
    captured_ip.clear()
    captured_offload.clear()
    return out

def set_output_result(int r):
    global output_result
    output_result = r

def unset_secret_source():
    tcp_set_secret_source(NULL)

def take_output():
    """The segments sent since the last call: [(src, dst, protocol, bytes)]."""
    out = list(captured)
    captured.clear()
    captured_ip.clear()
    captured_offload.clear()
    return out

def take_output_ip():
    """The segments sent since the last call with the IP fields the stack asked for:
    [(tos, ttl, bytes)]."""
    out = [(tos, ttl, seg[3]) for (tos, ttl), seg in zip(captured_ip, captured)]
    captured.clear()
    captured_ip.clear()
    captured_offload.clear()
    return out

def take_events():
    out = list(events)
    events.clear()
    return out

def now():
    return sim_now

def advance(uint64_t ns):
    """Move the simulated clock and run the timers."""
    global sim_now
    sim_now += ns
    tcp_timers_run(sim_now)

def run_timers():
    tcp_timers_run(sim_now)

def next_deadline():
    return tcp_next_deadline_ns()

def input(uint32_t src, uint32_t dst, bytes segment, uint32_t rx_flags=0, uint8_t tos=0):
    tcp_input(src, dst, tos, <const uint8_t *><const char *>segment, len(segment), rx_flags)

def icmp_error(uint32_t src, uint32_t dst, bytes quoted, uint8_t type, uint8_t code, uint32_t info=0):
    """An ICMP error quoting our segment from src to dst (quoted: its TCP header onward, as
    the error carries it), with the errno and hardness ICMP gives it."""
    cdef icmp_header hdr
    cdef bint hard
    cdef int32_t err
    hdr.type = type
    hdr.code = code
    hdr.rest = info
    err = icmp_error_errno(&hdr, &hard)
    tcp_icmp_error(src, dst, <const uint8_t *><const char *>quoted, len(quoted), type, code, info, err, hard)

def stats():
    cdef tcp_stats s
    tcp_get_stats(&s)
    return s

def tunables():
    return tcp_get_tunables()[0]

def set_tunable(str name, uint64_t value):
    cdef tcp_tunables *t = tcp_get_tunables()
    cdef dict d = tcp_get_tunables()[0]
    if name not in d:
        raise KeyError(name)
    d[name] = value
    t[0] = d
    if name == "mem_limit":
        tcp_set_mem_limit(value)

def mem_used():
    return tcp_mem_used()

def pcbs_in_use():
    return tcp_pcbs_in_use()

def all_pcbs():
    cdef tcp_pcb *p = tcp_pcb_first()
    out = []
    while p != NULL:
        out.append(<uint64_t>p)
        p = p.next
    return out

def siphash(uint64_t m0, uint64_t m1):
    return tcp_iss_siphash(m0, m1)


cdef inline tcp_pcb *P(uint64_t pcb):
    if pcb == 0:
        raise ValueError("NULL pcb")
    return <tcp_pcb *>pcb

def new():
    return <uint64_t>tcp_new()

def bind(uint64_t pcb, uint32_t addr, uint16_t port):
    return tcp_bind(P(pcb), addr, port)

def listen(uint64_t pcb, int32_t backlog):
    return tcp_listen(P(pcb), backlog)

def accept(uint64_t pcb):
    cdef int err = 0
    cdef tcp_pcb *c = tcp_accept(P(pcb), &err)
    return (<uint64_t>c, err)

def connect(uint64_t pcb, uint32_t addr, uint16_t port):
    return tcp_connect(P(pcb), addr, port)

def send(uint64_t pcb, bytes data):
    return tcp_send(P(pcb), <const uint8_t *><const char *>data, len(data), NULL)

def recv(uint64_t pcb, uint64_t n, int flags=0):
    """bytes, or a negative errno."""
    buf = bytearray(n if n else 1)
    cdef uint8_t *p = <uint8_t *><char *>buf
    cdef int64_t r = tcp_recv(P(pcb), p, n, flags, NULL)
    if r < 0:
        return r
    return bytes(buf[:r])

def shutdown(uint64_t pcb, int how):
    return tcp_shutdown(P(pcb), how)

def close(uint64_t pcb):
    tcp_close(P(pcb))

def abort(uint64_t pcb):
    tcp_abort(P(pcb))

def sockname(uint64_t pcb):
    cdef uint32_t a = 0
    cdef uint16_t p = 0
    tcp_getsockname(P(pcb), &a, &p)
    return (a, p)

def peername(uint64_t pcb):
    cdef uint32_t a = 0
    cdef uint16_t p = 0
    cdef int r = tcp_getpeername(P(pcb), &a, &p)
    if r < 0:
        return r
    return (a, p)

def send_closing(uint64_t pcb):
    return tcp_send_closing(P(pcb))

def poll(uint64_t pcb):
    return tcp_poll(P(pcb))

def sock_error(uint64_t pcb):
    return tcp_sock_error(P(pcb))

def readable(uint64_t pcb):
    return tcp_readable(P(pcb))

def outq(uint64_t pcb):
    return tcp_unacked_and_unsent(P(pcb))

def state(uint64_t pcb):
    return tcp_state(P(pcb))

def set_nodelay(uint64_t pcb, bint on):
    tcp_set_nodelay(P(pcb), on)

def set_keepalive(uint64_t pcb, bint on, uint32_t idle_s=0, uint32_t intvl_s=0, uint32_t count=0):
    tcp_set_keepalive(P(pcb), on)
    tcp_set_keepalive_params(P(pcb), idle_s, intvl_s, count)

def set_reuseaddr(uint64_t pcb, bint on):
    tcp_set_reuseaddr(P(pcb), on)

def set_sndbuf(uint64_t pcb, uint32_t n):
    tcp_set_sndbuf(P(pcb), n)

def set_rcvbuf(uint64_t pcb, uint32_t n):
    tcp_set_rcvbuf(P(pcb), n)

def set_ip_tos(uint64_t pcb, uint8_t tos):
    tcp_set_ip_tos(P(pcb), tos)

def set_ip_ttl(uint64_t pcb, uint8_t ttl):
    tcp_set_ip_ttl(P(pcb), ttl)

def ip_tos_ttl(uint64_t pcb):
    return tcp_ip_tos(P(pcb)), tcp_ip_ttl(P(pcb))

def info(uint64_t pcb):
    """The protocol state of a pcb, for invariant checks."""
    cdef tcp_pcb *p = P(pcb)
    return dict(state=p.state, flags=p.flags, local=(p.local_addr, p.local_port),
                remote=(p.remote_addr, p.remote_port), iss=p.iss, irs=p.irs,
                snd_una=p.snd_una, snd_nxt=p.snd_nxt, snd_max=p.snd_max, snd_wnd=p.snd_wnd,
                snd_wscale=p.snd_wscale, rcv_wscale=p.rcv_wscale, mss=p.mss, adv_mss=p.adv_mss,
                rcv_nxt=p.rcv_nxt, rcv_adv=p.rcv_adv, cwnd=p.cwnd, ssthresh=p.ssthresh,
                recover=p.recover, dupacks=p.dupacks, srtt_us=p.srtt_us, rto_ms=p.rto_ms,
                rexmt_shift=p.rexmt_shift, persist_shift=p.persist_shift,
                sndq=p.sndq.len, rcvq=p.rcvq.len, ooo_count=p.ooo_count, ooo_bytes=p.ooo_bytes,
                sndbuf=p.sndbuf, rcvbuf=p.rcvbuf, rcv_rtt_ns=p.rcv_rtt_ns, rcv_space=p.rcv_space,
                backlog=p.backlog, syn_queue=p.syn_queue_len,
                accept_queue=p.accept_queue_len, so_error=p.so_error, soft_error=p.soft_error,
                rexmt_deadline=p.rexmt_deadline, persist_deadline=p.persist_deadline,
                delack_deadline=p.delack_deadline, keepalive_deadline=p.keepalive_deadline,
                close_deadline=p.close_deadline, in_recovery=bool(p.flags & TF_IN_RECOVERY),
                sack=bool(p.flags & TF_SACK), high_rxt=p.high_rxt,
                scoreboard=[(p.sacked[i].left, p.sacked[i].right) for i in range(p.sacked_count)])

def sack_pipe(uint64_t pcb):
    """RFC 6675 SetPipe() on the pcb's scoreboard now."""
    return tcp_scoreboard_pipe(P(pcb))

def sack_is_lost(uint64_t pcb, uint32_t seq):
    return tcp_scoreboard_is_lost(P(pcb), seq)
