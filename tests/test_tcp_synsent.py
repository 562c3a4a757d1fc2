"""TCP conformance: active open (SYN-SENT), simultaneous open, MSS and window-scale
negotiation (cases 11-17 and RFC 7323 both ways)."""
from scapy.layers.inet import TCP

from tcp_harness import F, LOCAL, MS, PEER, SEC, flags_of, ip, opt, payload, stack, tw  # noqa: F401


def connecting(stack, port=5555):
    p = tw.new()
    assert tw.connect(p, ip(PEER), port) == -115
    syn = stack.one()
    return p, syn


def test_active_open(stack):                                      # case 11
    p, syn = connecting(stack)
    assert flags_of(syn) == "S" and opt(syn, "MSS") == 1460 and opt(syn, "WScale") == 7
    assert syn.ip_src == LOCAL and syn.ip_dst == PEER and 32768 <= syn.sport <= 60999
    assert tw.poll(p) & 4 == 0                                    # not writable yet
    tw.take_events()
    stack.send(TCP(sport=5555, dport=syn.sport, flags="SA", seq=9000, ack=syn.seq + 1,
                   options=[("MSS", 1400)]))
    ack = stack.one()
    assert flags_of(ack) == "A" and ack.ack == 9001 and ack.seq == syn.seq + 1
    assert tw.state(p) == tw.ESTABLISHED
    assert (p, tw.EVENT_OUT) in tw.take_events()
    assert tw.poll(p) & 4 and tw.sock_error(p) == 0
    assert tw.peername(p) == (ip(PEER), 5555)


def test_synsent_bad_ack_answers_rst_and_syn_retried(stack):      # case 12
    p, syn = connecting(stack)
    stack.send(TCP(sport=5555, dport=syn.sport, flags="A", seq=1, ack=syn.seq + 77))
    r = stack.one()
    assert flags_of(r) == "R" and r.seq == syn.seq + 77
    assert tw.state(p) == tw.SYN_SENT
    stack.advance(1 * SEC)
    again = stack.one()
    assert flags_of(again) == "S" and again.seq == syn.seq


def test_synsent_rst_with_bad_ack_ignored(stack):                 # case 13
    p, syn = connecting(stack)
    stack.send(TCP(sport=5555, dport=syn.sport, flags="RA", seq=0, ack=syn.seq + 5))
    stack.none()
    stack.send(TCP(sport=5555, dport=syn.sport, flags="R", seq=0))
    stack.none()
    assert tw.state(p) == tw.SYN_SENT


def test_synsent_rst_ack_refuses(stack):
    p, syn = connecting(stack)
    tw.take_events()
    stack.send(TCP(sport=5555, dport=syn.sport, flags="RA", seq=0, ack=syn.seq + 1))
    stack.none()
    assert tw.state(p) == tw.CLOSED
    ev = dict(tw.take_events())
    assert ev[p] & tw.EVENT_ERR
    assert tw.poll(p) & 0x8                                       # POLLERR
    assert tw.sock_error(p) == 111 and tw.sock_error(p) == 0      # ECONNREFUSED, then cleared
    tw.close(p)
    assert tw.pcbs_in_use() == 0


def test_syn_retries_give_up_with_etimedout(stack):
    p, syn = connecting(stack)
    n = 0
    while tw.state(p) == tw.SYN_SENT:
        stack.advance_to_next_deadline()
        n += len(stack.output())
    assert n == 6 and tw.sock_error(p) == 110


def test_simultaneous_open(stack):                                # case 14
    p, syn = connecting(stack)
    stack.send(TCP(sport=5555, dport=syn.sport, flags="S", seq=3000, options=[("MSS", 1000)]))
    sa = stack.one()
    assert flags_of(sa) == F("SA") and sa.seq == syn.seq and sa.ack == 3001
    assert opt(sa, "MSS") == 1460
    assert tw.state(p) == tw.SYN_RECEIVED
    tw.take_events()
    stack.send(TCP(sport=5555, dport=syn.sport, flags="SA", seq=3000, ack=syn.seq + 1))
    # The peer's SYN-ACK repeats its SYN: S is synchronized and answers it with an ACK.
    stack.send(TCP(sport=5555, dport=syn.sport, flags="A", seq=3001, ack=syn.seq + 1))
    assert tw.state(p) == tw.ESTABLISHED
    assert (p, tw.EVENT_OUT) in tw.take_events()


def test_simultaneous_open_plain_ack(stack):
    p, syn = connecting(stack)
    stack.send(TCP(sport=5555, dport=syn.sport, flags="S", seq=3000))
    stack.one()
    stack.send(TCP(sport=5555, dport=syn.sport, flags="A", seq=3001, ack=syn.seq + 1))
    stack.none()
    assert tw.state(p) == tw.ESTABLISHED


def test_connect_unreachable(stack):
    tw.set_route(ip(LOCAL), fail=True)
    p = tw.new()
    assert tw.connect(p, ip(PEER), 80) == -101


def test_ephemeral_port_exhaustion(stack):
    tw.set_tunable("ephemeral_low", 40000)
    tw.set_tunable("ephemeral_high", 40002)
    ports = set()
    for i in range(3):
        p = tw.new()
        assert tw.connect(p, ip(PEER), 80) == -115
        ports.add(tw.sockname(p)[1])
    assert ports == {40000, 40001, 40002}
    p = tw.new()
    assert tw.connect(p, ip(PEER), 80) == -99                    # EADDRNOTAVAIL
    assert tw.bind(p, 0, 0) == -98
    assert tw.stats()["ephemeral_exhausted"] == 2


def send_bulk(stack, conn, n, nodelay=True):
    if nodelay:
        tw.set_nodelay(conn.pcb, True)
    data = bytes(range(256)) * (n // 256 + 1)
    assert tw.send(conn.pcb, data[:n]) == n
    return data[:n]


def collect(stack, conn, window=65535, rounds=50):
    """T acknowledges everything S sends until S goes quiet; returns the bytes in order."""
    got = b""
    for _ in range(rounds):
        segs = stack.output()
        if not segs:
            break
        for s in segs:
            if s.seq == conn.rcv:
                got += payload(s)
                conn.rcv += len(payload(s))
            yield_ = s
        conn.send("A", window=window)
    return got


def test_mss_respected(stack):                                    # case 15
    c = stack.passive_open(mss=536)
    data = send_bulk(stack, c, 5000)
    sizes = []
    got = b""
    for _ in range(30):
        segs = stack.output()
        if not segs:
            break
        for s in segs:
            sizes.append(len(payload(s)))
            got += payload(s)
            c.rcv = s.seq + len(payload(s))
        c.send("A")
    assert got == data and max(sizes) == 536


def test_mss_default_when_absent(stack):                          # case 16
    c = stack.passive_open(mss=None)
    data = send_bulk(stack, c, 3000)
    got = b""
    for _ in range(30):
        segs = stack.output()
        if not segs:
            break
        for s in segs:
            assert len(payload(s)) <= 536
            got += payload(s)
            c.rcv = s.seq + len(payload(s))
        c.send("A")
    assert got == data


def test_mss_only_on_syn(stack):                                  # case 17
    c = stack.passive_open()
    assert opt(c.synack, "MSS") == 1460
    send_bulk(stack, c, 3000)
    c.send("PA", b"x" * 10)
    stack.advance(1 * SEC)
    tw.close(c.pcb)
    segs = stack.output()
    assert segs
    for s in segs:
        assert opt(s, "MSS") is None and opt(s, "WScale") is None


def test_our_mss_from_route_mtu(stack):
    tw.set_route(ip(LOCAL), mtu=9000)
    c = stack.passive_open(mss=65000)
    assert opt(c.synack, "MSS") == 8960
    assert tw.info(c.pcb)["mss"] == 8960


def test_wscale_both_ways_passive(stack):
    c = stack.passive_open(wscale=2, window=1000)
    assert opt(c.synack, "WScale") == 7
    assert c.synack.window == 65535                               # SYN windows are never scaled
    info = tw.info(c.pcb)
    assert info["snd_wscale"] == 2 and info["rcv_wscale"] == 7
    c.send("A", window=1000)
    assert tw.info(c.pcb)["snd_wnd"] == 4000                      # 1000 << 2
    c.send("PA", b"z" * 100, window=1000)
    stack.advance(500 * MS)
    ack = stack.one()
    # 128 KiB receive buffer less 100 bytes, in units of 2**7.
    assert ack.window == (131072 - 100 + 127) // 128 or ack.window == (131072 - 100) // 128
    data = send_bulk(stack, c, 20000)
    inflight = sum(len(payload(s)) for s in stack.output())
    # Honours the scaled window (the last 1080 bytes wait: sender SWS avoidance).
    assert inflight == 2920 and tw.info(c.pcb)["snd_wnd"] == 4000


def test_no_wscale_when_peer_sends_none(stack):
    c = stack.passive_open(wscale=None, window=1000)
    assert opt(c.synack, "WScale") is None
    info = tw.info(c.pcb)
    assert info["snd_wscale"] == 0 and info["rcv_wscale"] == 0
    c.send("PA", b"z" * 100)
    stack.advance(500 * MS)
    assert stack.one().window == 65535                            # capped, unscaled


def test_wscale_both_ways_active(stack):
    c = stack.active_open(wscale=3, window=500)
    assert opt(c.syn, "WScale") == 7
    info = tw.info(c.pcb)
    assert info["snd_wscale"] == 3 and info["rcv_wscale"] == 7
    c.send("A", window=500)
    assert tw.info(c.pcb)["snd_wnd"] == 4000


def test_active_no_wscale_from_peer(stack):
    c = stack.active_open(wscale=None)
    info = tw.info(c.pcb)
    assert info["snd_wscale"] == 0 and info["rcv_wscale"] == 0


def test_huge_peer_wscale_clamped(stack):
    c = stack.passive_open(wscale=20, window=1)
    assert tw.info(c.pcb)["snd_wscale"] == 14


def test_iss_keyed_and_unpredictable(stack):
    p1, syn1 = connecting(stack)
    tw.abort(p1)
    stack.output()
    # Same 4-tuple later: the clock moved the ISS on.
    tw.reset(local_addr=ip(LOCAL), key=b"another-key-0123")
    p2, syn2 = connecting(stack)
    assert syn1.seq != syn2.seq
    assert tw.stats()["iss_unkeyed"] == 0
    tw.reset(local_addr=ip(LOCAL))
    tw.unset_secret_source()
    connecting(stack)
    assert tw.stats()["iss_unkeyed"] == 1


def test_siphash_reference_vector(stack):
    # SipHash-2-4 reference (Aumasson & Bernstein, appendix A): key 00..0f, message 00..0f
    # gives 0x3f2acc7f57c29bdb; our key comes from the secret source.
    tw.reset(key=bytes(range(16)))
    p = tw.new()
    tw.connect(p, ip(PEER), 1)          # fetches the key
    m0 = int.from_bytes(bytes(range(8)), "little")
    m1 = int.from_bytes(bytes(range(8, 16)), "little")
    assert tw.siphash(m0, m1) == 0x3F2ACC7F57C29BDB
