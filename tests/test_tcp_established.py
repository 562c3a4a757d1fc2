"""TCP conformance: ESTABLISHED — receiving (cases 21-28), sending and retransmission
(29-33), resets and SYNs (34-37), NewReno, Nagle, delayed ACK, keepalive, buffers."""
from scapy.layers.inet import TCP

from tcp_harness import F, MS, PEER, SEC, flags_of, ip, opt, payload, stack, tw  # noqa: F401


# ------------------------------------------------------------------ receiving

def test_data_in_sequence_acked_within_500ms_delivered_once(stack):  # case 21
    c = stack.passive_open()
    c.send("PA", b"a" * 100)
    acks = stack.output()
    stack.advance(500 * MS)
    acks += stack.output()
    assert len(acks) == 1 and acks[0].ack == c.snd and flags_of(acks[0]) == "A"
    assert tw.recv(c.pcb, 1000) == b"a" * 100
    assert tw.recv(c.pcb, 1000) == -11


def test_delayed_ack_timing(stack):
    c = stack.passive_open()
    c.send("PA", b"a" * 100)
    stack.advance(39 * MS)
    stack.none()
    stack.advance(1 * MS)                                         # TCP_DELACK_MS = 40
    assert stack.one().ack == c.snd
    assert tw.stats()["delayed_acks"] == 1


def test_two_full_segments_one_ack(stack):                        # case 22
    c = stack.passive_open(mss=1460)
    c.send("A", b"x" * 1460)
    stack.none()
    c.send("A", b"y" * 1460)
    ack = stack.one()
    assert ack.ack == c.snd
    stack.advance(1 * SEC)
    stack.none()


def test_ooo_hole_dup_ack_then_cumulative(stack):                 # case 23
    c = stack.passive_open()
    base = c.snd
    c.send("A", b"2" * 100, seq=base + 100)
    dup = stack.one()
    assert dup.ack == base                                        # immediate duplicate ACK
    assert tw.readable(c.pcb) == 0
    c.send("A", b"1" * 100, seq=base)
    ack = stack.one()
    assert ack.ack == base + 200                                  # one cumulative ACK at once
    assert tw.recv(c.pcb, 1000) == b"1" * 100 + b"2" * 100


def test_ooo_overlapping_pieces_reassembled(stack):
    c = stack.passive_open()
    base = c.snd
    data = bytes(range(256)) * 4
    for lo, hi in [(600, 700), (300, 500), (450, 650), (900, 1024), (100, 200), (650, 950)]:
        c.send("A", data[lo:hi], seq=base + lo)
    c.send("A", data[0:150], seq=base)
    c.send("A", data[150:320], seq=base + 150)
    assert tw.recv(c.pcb, 5000) == data
    assert tw.info(c.pcb)["ooo_count"] == 0


def test_ooo_fin_applied_when_hole_fills(stack):
    c = stack.passive_open()
    base = c.snd
    c.send("FA", b"b" * 10, seq=base + 10)
    stack.output()
    c.send("A", b"a" * 10, seq=base)
    assert stack.one().ack == base + 21
    assert tw.state(c.pcb) == tw.CLOSE_WAIT
    assert tw.recv(c.pcb, 100) == b"a" * 10 + b"b" * 10 and tw.recv(c.pcb, 100) == b""


def test_dup_segment_reacked_not_redelivered(stack):              # case 24
    c = stack.passive_open()
    c.send("PA", b"q" * 100)
    stack.advance(SEC)
    stack.output()
    c.send("PA", b"q" * 100, seq=c.snd - 100)
    ack = stack.one()
    assert ack.ack == c.snd
    assert tw.recv(c.pcb, 1000) == b"q" * 100


def test_overlap_trimmed(stack):                                  # case 25
    c = stack.passive_open()
    base = c.snd
    c.send("A", bytes(range(100)), seq=base)
    c.send("A", bytes(range(50, 150)), seq=base + 50)
    assert tw.recv(c.pcb, 1000) == bytes(range(150))


def test_beyond_window_acked_and_dropped(stack):                  # case 26
    c = stack.passive_open()
    c.send("A", b"z" * 10, seq=c.snd + 200000)
    ack = stack.one()
    assert ack.ack == c.snd
    assert tw.readable(c.pcb) == 0 and tw.info(c.pcb)["ooo_count"] == 0


def test_bad_checksum_dropped(stack):                             # case 27
    c = stack.passive_open()
    stack.send(c.seg("PA", b"bad"), corrupt_checksum=True)
    stack.advance(SEC)
    stack.none()
    assert tw.readable(c.pcb) == 0 and tw.stats()["bad_checksum"] == 1


def test_ack_beyond_snd_nxt_challenged(stack):                    # case 28
    c = stack.passive_open()
    c.send("PA", b"data", ack=c.rcv + 1000, advance=False)
    ack = stack.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    assert tw.readable(c.pcb) == 0                                # the segment was dropped


def test_zero_receive_window_and_window_update(stack):
    c = stack.passive_open()
    tw.set_rcvbuf(c.pcb, 4096)          # smaller than what was advertised: never shrink
    c.send("A", b"w" * 1460)
    stack.advance(SEC)
    stack.output()
    assert tw.recv(c.pcb, 5000) == b"w" * 1460


# ------------------------------------------------------------------ sending

def bulk(c, n, nodelay=True):
    if nodelay:
        tw.set_nodelay(c.pcb, True)
    data = (bytes(range(256)) * (n // 256 + 1))[:n]
    assert tw.send(c.pcb, data) == n
    return data


def test_rto_first_after_1s_then_doubling(stack):                 # case 29
    c = stack.passive_open()
    bulk(c, 100)
    first = stack.one()
    srtt = tw.info(c.pcb)["srtt_us"]
    t0 = tw.now()
    times = []
    for _ in range(4):
        stack.advance_to_next_deadline()
        s = stack.one()
        assert s.seq == first.seq and payload(s) == payload(first)
        times.append(tw.now() - t0)
    assert times == [1 * SEC, 3 * SEC, 7 * SEC, 15 * SEC]
    assert tw.stats()["retransmits"] == 4
    # Karn: the ACK of a retransmitted segment gives no RTT sample.
    c.rcv = first.seq + 100
    c.send("A")
    assert tw.info(c.pcb)["srtt_us"] == srtt


def test_rtt_sample_sets_rto(stack):
    c = stack.passive_open()
    bulk(c, 100)
    s = stack.one()
    stack.advance(50 * MS)
    c.rcv = s.seq + 100
    c.send("A")
    info = tw.info(c.pcb)
    # The handshake gave a first sample of ~0 (1 us); then SRTT += (R - SRTT) / 8.
    assert info["srtt_us"] == 1 + 50000 // 8 and info["rto_ms"] == 1000   # clamped to RTO.min


def test_rto_gives_up(stack):
    tw.set_tunable("retries2", 3)
    c = stack.passive_open()
    bulk(c, 100)
    while tw.state(c.pcb) == tw.ESTABLISHED:
        stack.advance_to_next_deadline()
    assert tw.sock_error(c.pcb) == 110 and tw.stats()["timeouts"] == 1


def test_fast_retransmit_on_three_dupacks(stack):                 # case 30
    c = stack.passive_open()
    bulk(c, 6 * 1460)
    segs = stack.output()
    assert len(segs) == 6
    first = segs[0]
    for _ in range(3):
        c.send("A", ack=first.seq)                                # T lost the first one
    r = stack.one()
    assert r.seq == first.seq and payload(r) == payload(first)
    assert tw.stats()["fast_retransmits"] == 1 and tw.info(c.pcb)["in_recovery"]


def test_newreno_partial_ack_retransmits_next_hole(stack):
    c = stack.passive_open()
    bulk(c, 8 * 1460)
    segs = stack.output()
    assert len(segs) == 8
    for _ in range(3):
        c.send("A", ack=segs[0].seq)
    assert stack.one().seq == segs[0].seq
    # T had lost segments 0 and 4: the retransmission fills the first hole only.
    c.send("A", ack=segs[4].seq)
    r = stack.output()
    assert r and r[0].seq == segs[4].seq                          # before any RTO
    info = tw.info(c.pcb)
    assert info["in_recovery"] and tw.stats()["partial_ack_retransmits"] == 1
    c.send("A", ack=segs[7].seq + 1460)
    info = tw.info(c.pcb)
    assert not info["in_recovery"] and info["cwnd"] <= info["ssthresh"]


def test_slow_start_then_congestion_avoidance(stack):
    c = stack.passive_open()
    cw0 = tw.info(c.pcb)["cwnd"]
    assert cw0 == 10 * 1460 if 10 * 1460 <= 14600 else 14600
    bulk(c, 4 * 1460)
    segs = stack.output()
    c.send("A", ack=segs[-1].seq + 1460)
    assert tw.info(c.pcb)["cwnd"] == cw0 + 1460                   # +min(acked, SMSS)


def test_peer_window_limits_flight(stack):                        # case 31
    c = stack.passive_open(window=1000)
    data = bulk(c, 5000)
    got = b""
    for _ in range(40):
        segs = stack.output()
        if not segs:
            stack.advance_to_next_deadline()
            continue
        assert sum(len(payload(s)) for s in segs) <= 1000
        for s in segs:
            got += payload(s)
            c.rcv = s.seq + len(payload(s))
        c.send("A", window=1000)
        if len(got) == 5000:
            break
    assert got == data


def test_zero_window_probes_back_off_never_abort(stack):          # case 32
    c = stack.passive_open()
    c.send("A", window=0)
    bulk(c, 3000)
    stack.none()
    times = []
    t0 = tw.now()
    for _ in range(12):
        stack.advance_to_next_deadline()
        p = stack.one()
        assert payload(p) == b"" and p.seq == c.rcv - 1           # probe
        times.append(tw.now() - t0)
        c.send("A", window=0)                                     # still closed
        stack.none()
    gaps = [b - a for a, b in zip([0] + times, times)]
    assert gaps[:7] == [1 * SEC, 2 * SEC, 4 * SEC, 8 * SEC, 16 * SEC, 32 * SEC, 60 * SEC]
    assert gaps[-1] == 60 * SEC
    assert tw.state(c.pcb) == tw.ESTABLISHED and tw.stats()["persist_probes"] == 12


def test_window_reopen_resumes(stack):                            # case 33
    c = stack.passive_open()
    c.send("A", window=0)
    data = bulk(c, 3000)
    stack.advance_to_next_deadline()
    stack.output()
    c.send("A", window=65535)
    segs = stack.output()
    assert b"".join(payload(s) for s in segs) == data


def test_nagle_holds_small_segment_until_ack(stack):
    c = stack.passive_open()
    assert tw.send(c.pcb, b"a" * 10) == 10
    first = stack.one()
    assert tw.send(c.pcb, b"b" * 10) == 10
    assert tw.send(c.pcb, b"c" * 10) == 10
    stack.none()                                                  # held: data in flight
    c.rcv = first.seq + 10
    c.send("A")
    s = stack.one()
    assert payload(s) == b"b" * 10 + b"c" * 10


def test_nodelay_sends_at_once(stack):
    c = stack.passive_open()
    tw.set_nodelay(c.pcb, True)
    tw.send(c.pcb, b"a" * 10)
    tw.send(c.pcb, b"b" * 10)
    assert [payload(s) for s in stack.output()] == [b"a" * 10, b"b" * 10]


def test_nodelay_flushes_held_data(stack):
    c = stack.passive_open()
    tw.send(c.pcb, b"a")
    stack.one()
    tw.send(c.pcb, b"b")
    stack.none()
    tw.set_nodelay(c.pcb, True)
    assert payload(stack.one()) == b"b"


def test_piggybacked_ack_cancels_delayed_ack(stack):
    c = stack.passive_open()
    c.send("PA", b"req")
    tw.send(c.pcb, b"resp")
    r = stack.one()
    assert r.ack == c.snd and payload(r) == b"resp"
    stack.advance(500 * MS)
    stack.none()


# ------------------------------------------------------------------ RST / SYN

def test_rst_exact_aborts(stack):                                 # case 34
    c = stack.passive_open()
    tw.take_events()
    c.send("R", advance=False)
    stack.none()
    assert tw.state(c.pcb) == tw.CLOSED
    assert dict(tw.take_events())[c.pcb] & tw.EVENT_ERR
    assert tw.recv(c.pcb, 10) == -104                             # ECONNRESET
    assert tw.recv(c.pcb, 10) == b""
    assert tw.send(c.pcb, b"x") == -32                            # EPIPE
    c.send("PA", b"later")
    assert flags_of(stack.one()) == "R"


def test_rst_in_close_wait_is_epipe(stack):
    """Linux's tcp_reset: the peer had closed, so the reset reads as EPIPE (a writer's
    SIGPIPE), and the socket has no peer any more."""
    c = stack.passive_open()
    c.send("FA")
    stack.one()
    assert tw.state(c.pcb) == tw.CLOSE_WAIT
    assert tw.peername(c.pcb)[1] == c.sport
    c.send("R", advance=False)
    assert tw.state(c.pcb) == tw.CLOSED
    assert tw.send(c.pcb, b"x") == -32                            # EPIPE
    assert tw.send(c.pcb, b"x") == -32
    assert tw.peername(c.pcb) == -107                             # ENOTCONN


def test_zero_byte_recv_waits_for_data(stack):
    c = stack.passive_open()
    assert tw.recv(c.pcb, 0) == -11                               # EAGAIN: nothing yet
    c.send("PA", b"abc")
    assert tw.recv(c.pcb, 0) == b""                               # data there: done, none taken
    assert tw.readable(c.pcb) == 3
    c.send("FA")
    assert tw.recv(c.pcb, 3) == b"abc"
    assert tw.recv(c.pcb, 0) == b""                               # end of stream


def test_rst_in_window_challenged(stack):                         # case 35
    c = stack.passive_open()
    c.send("R", seq=c.snd + 1, advance=False)
    ack = stack.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    assert tw.state(c.pcb) == tw.ESTABLISHED
    assert tw.stats()["challenge_acks"] == 1


def test_challenge_acks_rate_limited(stack):
    c = stack.passive_open()
    for _ in range(5):
        c.send("R", seq=c.snd + 1, advance=False)
    assert len(stack.output()) == 1
    assert tw.stats()["challenge_acks_suppressed"] == 4
    stack.advance(SEC)
    c.send("R", seq=c.snd + 1, advance=False)
    assert len(stack.output()) == 1


def test_rst_out_of_window_ignored(stack):                        # case 36
    c = stack.passive_open()
    c.send("R", seq=c.snd + 10_000_000, advance=False)
    c.send("R", seq=c.snd - 10, advance=False)
    stack.none()
    assert tw.state(c.pcb) == tw.ESTABLISHED


def test_syn_in_established_challenged(stack):                    # case 37
    c = stack.passive_open()
    c.send("S", seq=c.snd + 5000, advance=False)
    ack = stack.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    assert tw.state(c.pcb) == tw.ESTABLISHED


# ------------------------------------------------------------------ keepalive

def test_keepalive_probes_and_answer(stack):
    c = stack.passive_open()
    tw.set_keepalive(c.pcb, True, idle_s=10, intvl_s=2, count=3)
    stack.advance(10 * SEC - 1)
    stack.none()
    stack.advance(1)
    p = stack.one()
    assert p.seq == c.rcv - 1 and payload(p) == b""
    c.send("A")                                                   # T answers
    stack.advance(2 * SEC)
    stack.none()                                                  # idle again, not interval
    stack.advance(8 * SEC)
    assert len(stack.output()) == 1


def test_keepalive_gives_up(stack):
    c = stack.passive_open()
    tw.set_keepalive(c.pcb, True, idle_s=10, intvl_s=2, count=3)
    stack.advance(10 * SEC)
    for _ in range(3):
        assert len(stack.output()) == 1
        stack.advance(2 * SEC)
    r = stack.one()
    assert flags_of(r) == F("RA")
    assert tw.sock_error(c.pcb) == 110 and tw.stats()["keepalive_probes"] == 3


def test_keepalive_defaults_are_linux(stack):
    t = tw.tunables()
    assert (t["keep_idle_s"], t["keep_intvl_s"], t["keep_cnt"]) == (7200, 75, 9)


# ------------------------------------------------------------------ buffers and memory

def test_sndbuf_limits_send(stack):
    c = stack.passive_open(window=0)
    tw.set_sndbuf(c.pcb, 4096)
    assert tw.send(c.pcb, b"x" * 10000) == 4096
    assert tw.send(c.pcb, b"x") == -11
    assert tw.poll(c.pcb) & 4 == 0


def test_rcvbuf_is_the_window(stack):
    l = stack.listener(80)
    tw.set_rcvbuf(l, 8192)
    c = stack.passive_open(listener=l)
    assert c.synack.window == 8192
    c.send("A", b"x" * 1460)
    c.send("A", b"x" * 1460)
    ack = stack.one()
    assert ack.window == 8192 - 2920                              # no scaling negotiated
    before = tw.readable(c.pcb)
    c.send("A", b"y" * 8192)                                      # beyond the window
    stack.output()
    assert tw.readable(c.pcb) - before == 8192 - 2920


def test_window_update_after_read(stack):
    l = stack.listener(80)
    tw.set_rcvbuf(l, 8192)
    c = stack.passive_open(listener=l)
    for _ in range(5):
        c.send("A", b"x" * 1460)
    stack.advance(SEC)
    stack.output()
    tw.recv(c.pcb, 100000)
    upd = stack.one()
    assert upd.window == 8192


def test_global_memory_cap_drops_and_counts(stack):
    c = stack.passive_open()
    tw.set_tunable("mem_limit", 3 * tw.CHUNK_BYTES + 1000)
    got = tw.send(c.pcb, b"s" * 20000)
    assert 0 < got < 20000
    assert tw.send(c.pcb, b"s") == -11
    before = tw.stats()["mem_drops"]
    c.send("A", b"r" * 1000)
    assert tw.stats()["mem_drops"] == before + 1
    assert tw.mem_used() <= 3 * tw.CHUNK_BYTES + 1000


def test_close_with_unread_data_resets(stack):
    c = stack.passive_open()
    c.send("PA", b"unread")
    stack.output()
    tw.close(c.pcb)
    assert flags_of(stack.one()) == F("RA")
    assert tw.pcbs_in_use() == 1


def test_abort_sends_rst(stack):
    c = stack.passive_open()
    tw.abort(c.pcb)
    r = stack.one()
    assert flags_of(r) == F("RA") and r.seq == c.rcv
    assert tw.pcbs_in_use() == 1


def test_recv_peek_and_fionread(stack):
    c = stack.passive_open()
    c.send("PA", b"hello")
    assert tw.readable(c.pcb) == 5
    assert tw.recv(c.pcb, 10, tw.MSG_PEEK_) == b"hello"
    assert tw.recv(c.pcb, 2) == b"he"
    assert tw.recv(c.pcb, 10) == b"llo"


def test_large_transfer_both_ways(stack):
    c = stack.passive_open(wscale=7)
    data = bytes(i * 7 % 251 for i in range(300_000))
    sent = 0
    got = b""
    for _ in range(2000):
        if sent < len(data):
            r = tw.send(c.pcb, data[sent:sent + 50000])
            if r > 0:
                sent += r
        segs = stack.output()
        if not segs and sent == len(data) and len(got) == len(data):
            break
        if not segs:
            stack.advance_to_next_deadline()
            continue
        for s in segs:
            if s.seq == c.rcv:
                got += payload(s)
                c.rcv += len(payload(s))
        c.send("A", window=4096)
    assert got == data
    incoming = bytes(i * 3 % 241 for i in range(200_000))
    out = b""
    for i in range(0, len(incoming), 1460):
        c.send("A", incoming[i:i + 1460])
        out += tw.recv(c.pcb, 1 << 20) if tw.readable(c.pcb) else b""
    assert out == incoming
