"""TCP selective acknowledgments (RFC 2018, RFC 6675; tyn.net.tcp_sack, tcp_scoreboard), by
state: SACK-permitted offered in our SYN and answered only when offered, with the exact
option layout next to MSS, timestamps and window scale (SYN-SENT, LISTEN/SYN-RECEIVED);
the SACK option's parse of bad lengths (any state); the receiver's blocks (ESTABLISHED,
receiving: newest first, coalesced, at most 3 or 4, gone once the holes fill, data received
twice reported once as a D-SACK block); the sender's
scoreboard and loss recovery (ESTABLISHED, sending: only the holes resent, RFC 6675's
entry, cwnd/ssthresh and exit, two holes in one recovery, the scoreboard forgotten on a
timeout, bogus blocks ignored and counted, NewReno kept when SACK is not agreed)."""
import struct

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scapy.layers.inet import TCP

from tcp_harness import F, MS, SEC, Conn, Stack, flags_of, open_offering, opt, payload, stack, tw  # noqa: F401

MSS = 1460
NOP, SACK_PERM, TS, WS = 1, 4, 8, 3


def sack_open(stack, port=80, sport=40000, isn=1000, mss=MSS, sack=True, ts=False, wscale=None):
    """A passive open whose SYN offers SACK-permitted (and timestamps) as asked."""
    opts = [("MSS", mss)]
    if sack:
        opts.append(("SAckOK", b""))
    if ts:
        opts.append(("Timestamp", (5000, 0)))
    if wscale is not None:
        opts.append(("WScale", wscale))
    conn = open_offering(stack, opts, port=port, sport=sport, isn=isn)
    conn.ts = ts
    return conn


def raw_options(data: bytes) -> bytes:
    return data[20:(data[12] >> 4) * 4]


def take_raw_one() -> bytes:
    out = tw.take_output()
    assert len(out) == 1, out
    return out[0][3]


def blocks(seg):
    v = opt(seg, "SAck")
    return [] if v is None else list(zip(v[0::2], v[1::2]))


# ------------------------------------------------------------------ SYN-SENT

def tsopt(data: bytes) -> bytes:
    """The 8 TSval/TSecr bytes of a timestamp option in data's options."""
    o = raw_options(data)
    i = o.index(bytes([TS, 10]))
    return o[i + 2:i + 10]


@pytest.mark.parametrize("sack,ts", [(1, 1), (1, 0), (0, 1), (0, 0)])
def test_syn_options_linux_layout(stack, sack, ts):
    tw.set_tunable("sack", sack)
    tw.set_tunable("timestamps", ts)
    p = tw.new()
    assert tw.connect(p, 0x0A000202, 5555) == -115
    data = take_raw_one()
    ws = tw.info(p)["rcv_wscale"]
    want = bytes([2, 4]) + struct.pack("!H", MSS)
    if ts:
        want += bytes([SACK_PERM, 2] if sack else [NOP, NOP]) + bytes([TS, 10]) + tsopt(data)
    elif sack:
        want += bytes([NOP, NOP, SACK_PERM, 2])
    want += bytes([NOP, WS, 3, ws])
    assert raw_options(data) == want


@pytest.mark.parametrize("answer", [True, False])
def test_synack_decides_agreement(stack, answer):
    p = tw.new()
    assert tw.connect(p, 0x0A000202, 5555) == -115
    syn = stack.one()
    assert ("SAckOK", b"") in syn.options
    opts = [("MSS", MSS)] + ([("SAckOK", b"")] if answer else [])
    stack.send(TCP(sport=5555, dport=syn.sport, flags="SA", seq=9000, ack=syn.seq + 1, window=65535,
                   options=opts))
    assert flags_of(stack.one()) == "A"
    assert tw.state(p) == tw.ESTABLISHED and tw.info(p)["sack"] == answer


# ------------------------------------------------------------------ LISTEN / SYN-RECEIVED

@pytest.mark.parametrize("tunable", [1, 0])
@pytest.mark.parametrize("peer_offers", [True, False])
@pytest.mark.parametrize("ts", [True, False])
def test_negotiation_matrix_synack_bytes(stack, tunable, peer_offers, ts):
    tw.set_tunable("sack", tunable)
    l = stack.listener(80)
    opts = [("MSS", MSS)] + ([("SAckOK", b"")] if peer_offers else []) + \
        ([("Timestamp", (777, 0))] if ts else [])
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000, window=65535, options=opts))
    data = take_raw_one()
    agreed = bool(tunable and peer_offers)
    want = bytes([2, 4]) + struct.pack("!H", MSS)
    if ts:
        want += bytes([SACK_PERM, 2] if agreed else [NOP, NOP]) + bytes([TS, 10]) + tsopt(data)
        assert tsopt(data)[4:] == struct.pack("!I", 777)
    elif agreed:
        want += bytes([NOP, NOP, SACK_PERM, 2])
    assert raw_options(data) == want                      # no WScale: the SYN had none
    synack = TCP(data)
    stack.send(TCP(sport=40000, dport=80, flags="A", seq=1001, ack=synack.seq + 1, window=65535,
                   options=[("Timestamp", (778, struct.unpack("!I", tsopt(data)[:4])[0]))] if ts else []))
    c, err = tw.accept(l)
    assert err == 0 and tw.info(c)["sack"] == agreed


def test_synack_with_window_scale_keeps_layout(stack):
    c = sack_open(stack, ts=True, wscale=7)
    kinds = [k for k, _ in c.synack.options]
    assert kinds == ["MSS", "SAckOK", "Timestamp", "NOP", "WScale"]


# ------------------------------------------------------------------ any state: the option's wire form

@pytest.mark.parametrize("olen", [2, 3, 9, 11, 17, 27, 36])
def test_sack_option_bad_length_ignored_and_counted(stack, olen):
    c = sack_open(stack)
    # a SACK option of length olen (not 2 + 8n, or 0 blocks), within the header
    body = bytes([5, olen]) + b"\x00" * (olen - 2)
    before = tw.stats()
    pkt = TCP(sport=c.sport, dport=c.dport, flags="PA", seq=c.snd, ack=c.rcv, window=65535,
              options=[(5, body[2:])]) / b"data"
    raw = bytes(pkt)
    assert raw[20:22] == bytes([5, olen])
    stack.send(pkt)
    st = tw.stats()
    assert st["sack_options_bad"] == before["sack_options_bad"] + 1
    assert st["sack_blocks_in"] == before["sack_blocks_in"]
    assert st["bad_options"] == before["bad_options"]      # the segment itself goes on
    assert tw.recv(c.pcb, 10) == b"data"


def test_sack_option_four_blocks_parsed(stack):
    c = sack_open(stack)
    tw.set_nodelay(c.pcb, True)
    assert tw.send(c.pcb, b"x" * (9 * MSS)) == 9 * MSS
    segs = stack.output()
    s = [x.seq for x in segs]
    c.send("A", ack=s[0], options=[("SAck", (s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]))])
    assert tw.stats()["sack_blocks_in"] == 4
    assert tw.info(c.pcb)["scoreboard"] == [(s[1], s[2]), (s[3], s[4]), (s[5], s[6]), (s[7], s[8])]


# ------------------------------------------------------------------ ESTABLISHED: receiving

def test_ooo_segment_acked_with_its_block(stack):
    c = sack_open(stack)
    base = c.snd
    c.send("A", b"2" * 100, seq=base + 100)
    ack = stack.one()
    assert ack.ack == base and blocks(ack) == [(base + 100, base + 200)]
    assert tw.stats()["sack_blocks_out"] == 1


def test_blocks_newest_first_then_coalesced(stack):
    c = sack_open(stack)
    b = c.snd
    c.send("A", b"x" * 100, seq=b + 100)                         # X
    stack.output()
    c.send("A", b"y" * 100, seq=b + 300)                         # Y
    stack.output()
    c.send("A", b"z" * 100, seq=b + 500)                         # Z
    assert blocks(stack.one()) == [(b + 500, b + 600), (b + 300, b + 400), (b + 100, b + 200)]
    c.send("A", b"w" * 100, seq=b + 200)                         # joins X and Y
    assert blocks(stack.one()) == [(b + 100, b + 400), (b + 500, b + 600)]
    c.send("A", b"v" * 100, seq=b + 400)                         # joins all
    assert blocks(stack.one()) == [(b + 100, b + 600)]


def test_duplicate_of_held_data_dsack_then_its_block(stack):
    c = sack_open(stack)
    b = c.snd
    c.send("A", b"x" * 100, seq=b + 100)
    c.send("A", b"y" * 100, seq=b + 300)
    c.send("A", b"x" * 50, seq=b + 100)                          # inside the held block
    stack.output()
    c.send("A", b"y" * 100, seq=b + 300)                         # held already, again
    # RFC 2883 §4: the duplicate first, then the block that holds it, then the others
    assert blocks(stack.one()) == [(b + 300, b + 400), (b + 300, b + 400), (b + 100, b + 200)]
    assert tw.stats()["dsack_blocks_out"] == 2
    c.send("A", b"z" * 100, seq=b + 500)
    assert blocks(stack.one()) == [(b + 500, b + 600), (b + 300, b + 400), (b + 100, b + 200)]


def test_old_data_again_reported_once_as_dsack(stack):
    c = sack_open(stack, ts=True)
    b = c.snd
    c.send("PA", b"a" * 100, options=[("Timestamp", (6000, 0))])
    stack.advance(500 * MS)
    stack.output()
    c.send("PA", b"a" * 100, seq=b, options=[("Timestamp", (6001, 0))])     # received before
    ack = stack.one()
    assert ack.ack == b + 100 and blocks(ack) == [(b, b + 100)]          # below the ACK: a D-SACK
    c.send("PA", b"b" * 10, options=[("Timestamp", (6002, 0))])
    stack.advance(500 * MS)
    ack = stack.one()
    assert ack.ack == b + 110 and opt(ack, "SAck") is None              # once only
    assert tw.recv(c.pcb, 200) == b"a" * 100 + b"b" * 10


def test_partly_old_segment_dsacks_the_old_part(stack):
    c = sack_open(stack)
    b = c.snd
    c.send("A", b"1" * 100)
    c.send("A", b"2" * 100, seq=b + 200)                         # a hole at b + 100: ACKs now
    stack.output()
    c.send("A", b"1" * 50 + b"h" * 100, seq=b + 50)              # 50 old bytes, then the hole
    ack = stack.one()
    assert ack.ack == b + 300 and blocks(ack) == [(b + 50, b + 100)]
    assert tw.recv(c.pcb, 400) == b"1" * 100 + b"h" * 100 + b"2" * 100


def test_no_dsack_unless_agreed(stack):
    c = sack_open(stack, sack=False)
    c.send("PA", b"a" * 100)
    stack.advance(500 * MS)
    stack.output()
    c.send("PA", b"a" * 100, seq=c.snd - 100)
    ack = stack.one()
    assert opt(ack, "SAck") is None and tw.stats()["dsack_blocks_out"] == 0


@pytest.mark.parametrize("ts,most", [(True, 3), (False, 4)])
def test_at_most_what_the_option_space_holds(stack, ts, most):
    c = sack_open(stack, ts=ts)
    b = c.snd
    tsv = 6000
    for i in range(5):
        o = [("Timestamp", (tsv + i, 0))] if ts else []
        c.send("A", b"k" * 10, seq=b + 100 * (i + 1), options=o)
    ack = stack.output()[-1]
    want = [(b + 100 * (i + 1), b + 100 * (i + 1) + 10) for i in reversed(range(5))][:most]
    assert blocks(ack) == want
    assert len(bytes(ack)) - len(payload(ack)) <= 60


def test_blocks_go_once_the_holes_fill(stack):
    c = sack_open(stack)
    b = c.snd
    c.send("A", b"2" * 100, seq=b + 100)
    c.send("A", b"4" * 100, seq=b + 300)
    stack.output()
    c.send("A", b"1" * 100, seq=b)                               # first hole filled
    ack = stack.one()
    assert ack.ack == b + 200 and blocks(ack) == [(b + 300, b + 400)]
    c.send("A", b"3" * 100, seq=b + 200)                         # the last one
    ack = stack.one()
    assert ack.ack == b + 400 and opt(ack, "SAck") is None
    assert tw.recv(c.pcb, 400) == b"1" * 100 + b"2" * 100 + b"3" * 100 + b"4" * 100


def test_no_blocks_unless_agreed(stack):
    c = sack_open(stack, sack=False)
    c.send("A", b"2" * 100, seq=c.snd + 100)
    ack = stack.one()
    assert ack.ack == c.snd and opt(ack, "SAck") is None


def test_data_segment_with_blocks_stays_within_mss(stack):
    c = sack_open(stack, ts=True)
    c.send("A", b"2" * 100, seq=c.snd + 100, options=[("Timestamp", (6000, 0))])
    stack.output()
    tw.set_nodelay(c.pcb, True)
    assert tw.send(c.pcb, b"d" * (3 * MSS)) == 3 * MSS
    segs = stack.output()
    assert segs and all(blocks(s) == [(c.snd + 100, c.snd + 200)] for s in segs)
    # 20 + 12 (timestamps) + 12 (NOP NOP, one block) + payload <= 20 + peer MSS
    assert max(len(bytes(s)) for s in segs) <= 20 + MSS
    assert max(len(payload(s)) for s in segs) == MSS - 12 - 12


# ------------------------------------------------------------------ ESTABLISHED: sending

def send_window(c, nsegs):
    tw.set_nodelay(c.pcb, True)
    data = bytes(range(256)) * (nsegs * MSS // 256 + 1)
    assert tw.send(c.pcb, data[:nsegs * MSS]) == nsegs * MSS
    segs = stack_output(c)
    assert len(segs) == nsegs and all(len(payload(s)) == MSS for s in segs)
    return segs


def stack_output(c):
    return c.stack.output()


def sack(c, ack, *ranges):
    """T acknowledges up to ack and SACKs ranges [(left, right)...], newest first."""
    flat = tuple(x for r in ranges for x in r)
    c.send("A", ack=ack, options=[("SAck", flat)] if flat else [])


def test_one_hole_only_the_hole_is_resent(stack):
    c = sack_open(stack)
    segs = send_window(c, 10)
    s = [x.seq for x in segs] + [segs[-1].seq + MSS]
    sack(c, s[1])                                                  # segment 0 arrived
    stack.none()
    st0 = tw.stats()
    # T lost segment 1; 2, 3, 4 arrive: three duplicate ACKs, each SACKing more.
    sack(c, s[1], (s[2], s[3]))
    assert stack.output() == []
    sack(c, s[1], (s[2], s[4]))
    assert stack.output() == []
    flight = s[10] - s[1]
    sack(c, s[1], (s[2], s[5]))
    out = stack.output()
    assert [(x.seq, len(payload(x))) for x in out] == [(s[1], MSS)]
    info = tw.info(c.pcb)
    assert info["in_recovery"] and info["recover"] == s[10]
    assert info["ssthresh"] == max(flight // 2, 2 * MSS) and info["cwnd"] == info["ssthresh"]
    st = tw.stats()
    assert st["sack_recoveries"] == st0["sack_recoveries"] + 1
    assert st["fast_retransmits"] == st0["fast_retransmits"] + 1
    # The rest of the window arrives: nothing SACKed is sent again.
    for k in range(6, 11):
        sack(c, s[1], (s[2], s[k]))
        for x in stack.output():
            assert not (s[2] <= x.seq < s[10]), f"resent SACKed data at {x.seq}"
    # The retransmission arrives: everything to the recovery point is acknowledged.
    c.send("A", ack=s[10])
    info = tw.info(c.pcb)
    assert not info["in_recovery"] and info["cwnd"] == info["ssthresh"]
    assert info["scoreboard"] == []
    st = tw.stats()
    assert st["retransmits"] == 0                                  # no RTO
    assert st["sack_bytes_not_resent"] == 8 * MSS
    assert st["sack_blocks_in"] - st0["sack_blocks_in"] == 8


def test_islost_starts_recovery_before_three_dupacks(stack):
    c = sack_open(stack)
    segs = send_window(c, 8)
    s = [x.seq for x in segs] + [segs[-1].seq + MSS]
    sack(c, s[0], (s[1], s[4]))                                    # one ACK: three segments above
    out = stack.output()
    assert out and out[0].seq == s[0] and len(payload(out[0])) == MSS
    assert tw.info(c.pcb)["in_recovery"] and tw.stats()["sack_recoveries"] == 1
    assert tw.sack_is_lost(c.pcb, s[0]) and not tw.sack_is_lost(c.pcb, s[4])


def test_two_sacked_segments_are_not_a_loss(stack):
    c = sack_open(stack)
    segs = send_window(c, 8)
    s = [x.seq for x in segs]
    sack(c, s[0], (s[1], s[3]))                                    # 2 * SMSS: not more than that
    assert stack.output() == [] and not tw.info(c.pcb)["in_recovery"]
    assert not tw.sack_is_lost(c.pcb, s[0])


def test_pipe_counts_unsacked_not_lost_and_retransmitted(stack):
    c = sack_open(stack)
    segs = send_window(c, 10)
    s = [x.seq for x in segs] + [segs[-1].seq + MSS]
    sack(c, s[0], (s[1], s[2]))
    sack(c, s[0], (s[1], s[3]))
    assert tw.sack_pipe(c.pcb) == 10 * MSS - 2 * MSS               # nothing lost yet
    sack(c, s[0], (s[1], s[4]))                                    # recovery: segment 0 lost and resent
    stack.output()
    # 0: lost and retransmitted (1); 1-3 SACKed (0); 4-9 in flight (6)
    assert tw.sack_pipe(c.pcb) == 7 * MSS


def test_two_holes_repaired_in_one_recovery(stack):
    c = sack_open(stack)
    segs = send_window(c, 10)
    s = [x.seq for x in segs] + [segs[-1].seq + MSS]
    sack(c, s[1])                                                  # 0 arrived; T lost 1 and 4
    resent = []
    for ranges in ([(s[2], s[3])], [(s[2], s[4])],
                   [(s[5], s[6]), (s[2], s[4])], [(s[5], s[7]), (s[2], s[4])],
                   [(s[5], s[8]), (s[2], s[4])], [(s[5], s[9]), (s[2], s[4])],
                   [(s[5], s[10]), (s[2], s[4])]):
        sack(c, s[1], *ranges)
        resent += [x.seq for x in stack.output() if x.seq < s[10]]
    assert sorted(resent) == [s[1], s[4]], resent                  # exactly the two holes
    c.send("A", ack=s[4], options=[("SAck", (s[5], s[10]))])       # hole 1 repaired: partial ACK
    assert tw.info(c.pcb)["in_recovery"]
    assert [x.seq for x in stack.output() if x.seq < s[10]] == []  # hole 2 already resent
    c.send("A", ack=s[10])
    info = tw.info(c.pcb)
    assert not info["in_recovery"]
    st = tw.stats()
    assert st["sack_recoveries"] == 1 and st["retransmits"] == 0
    assert st["sack_retransmits"] + st["fast_retransmits"] == 2


def test_rto_forgets_the_scoreboard_and_goes_back(stack):
    c = sack_open(stack)
    segs = send_window(c, 8)
    s = [x.seq for x in segs] + [segs[-1].seq + MSS]
    sack(c, s[0], (s[2], s[3]))
    sack(c, s[0], (s[4], s[5]), (s[2], s[3]))
    assert tw.info(c.pcb)["scoreboard"] == [(s[2], s[3]), (s[4], s[5])]
    stack.output()
    stack.advance_to_next_deadline()                               # RTO
    r = stack.one()
    assert r.seq == s[0] and len(payload(r)) == MSS
    info = tw.info(c.pcb)
    assert info["scoreboard"] == [] and not info["in_recovery"] and info["cwnd"] == MSS
    assert tw.stats()["retransmits"] == 1
    # After the timeout the peer reports again what it holds: going back skips it.
    sack(c, s[1], (s[2], s[3]), (s[4], s[5]))
    out = stack.output()
    assert [x.seq for x in out] == [s[1], s[3]], [x.seq for x in out]
    sack(c, s[3], (s[4], s[5]))                                    # 1 arrived: 2 was held
    out = stack.output()
    sack(c, s[5])                                                  # 3 arrived: 4 was held
    out += stack.output()
    sent = [x.seq for x in out]
    assert s[5] in sent and s[2] not in sent and s[4] not in sent, sent


def test_no_new_recovery_before_the_timeout_recovery_point(stack):
    c = sack_open(stack)
    segs = send_window(c, 8)
    s = [x.seq for x in segs] + [segs[-1].seq + MSS]
    stack.advance_to_next_deadline()                               # RTO: recover = SND.MAX
    stack.output()
    for k in (4, 5, 6):                                            # would be a loss, but below RecoveryPoint
        sack(c, s[1], (s[3], s[k]))
    assert not tw.info(c.pcb)["in_recovery"] and tw.stats()["sack_recoveries"] == 0


@pytest.mark.parametrize("kind", ["reversed", "empty", "beyond_snd_nxt", "below_snd_una", "straddling"])
def test_bogus_blocks_ignored_and_counted(stack, kind):
    c = sack_open(stack)
    segs = send_window(c, 4)
    s = [x.seq for x in segs] + [segs[-1].seq + MSS]
    c.send("A", ack=s[1])                                          # SND.UNA = s[1]
    block = {"reversed": (s[3], s[2]), "empty": (s[2], s[2]), "beyond_snd_nxt": (s[3], s[4] + 1),
             "below_snd_una": (s[0], s[1]), "straddling": (s[0] + 10, s[2])}[kind]
    before = tw.stats()
    for _ in range(2):
        sack(c, s[1], block)
    st = tw.stats()
    counter = "sack_blocks_old" if kind == "below_snd_una" else "sack_blocks_bad"
    assert st[counter] == before[counter] + 2
    assert st["sack_blocks_in"] == before["sack_blocks_in"]
    assert tw.info(c.pcb)["scoreboard"] == []
    assert stack.output() == [] and not tw.info(c.pcb)["in_recovery"]


def test_good_block_beside_a_bad_one_is_taken(stack):
    c = sack_open(stack)
    segs = send_window(c, 4)
    s = [x.seq for x in segs] + [segs[-1].seq + MSS]
    sack(c, s[0], (s[3], s[2]), (s[1], s[2]))
    assert tw.info(c.pcb)["scoreboard"] == [(s[1], s[2])]
    assert tw.stats()["sack_blocks_bad"] == 1 and tw.stats()["sack_blocks_in"] == 1


def test_scoreboard_is_bounded_and_keeps_the_lowest(stack):
    c = sack_open(stack)
    segs = send_window(c, 10)
    s = [x.seq for x in segs]
    # 9 disjoint ranges, 100 bytes inside each of segments 1..9, three per ACK
    ranges = [(s[k] + 100, s[k] + 200) for k in range(1, 10)]
    for i in range(0, 9, 3):
        sack(c, s[0], *ranges[i:i + 3][::-1])
    board = tw.info(c.pcb)["scoreboard"]
    assert board == ranges[:8] and tw.stats()["sack_scoreboard_full"] == 1


def test_blocks_ignored_when_not_agreed(stack):
    c = sack_open(stack, sack=False)
    segs = send_window(c, 4)
    s = [x.seq for x in segs]
    sack(c, s[0], (s[1], s[2]))
    assert tw.info(c.pcb)["scoreboard"] == [] and tw.stats()["sack_blocks_bad"] == 1


def test_newreno_unchanged_without_sack(stack):
    c = sack_open(stack, sack=False)
    segs = send_window(c, 8)
    s = [x.seq for x in segs] + [segs[-1].seq + MSS]
    for k in range(2, 5):                                          # blocks sent anyway: ignored
        sack(c, s[0], (s[1], s[k]))
    r = stack.one()
    assert r.seq == s[0]
    info = tw.info(c.pcb)
    # RFC 6582: cwnd = ssthresh + 3 * SMSS (inflated), not RFC 6675's cwnd = ssthresh
    assert info["in_recovery"] and info["cwnd"] == info["ssthresh"] + 3 * MSS
    assert tw.stats()["sack_recoveries"] == 0
    c.send("A", ack=s[4])                                          # partial ACK: NewReno resends
    assert stack.output()[0].seq == s[4]
    assert tw.stats()["partial_ack_retransmits"] == 1


# ------------------------------------------------------------------ any state: blocks never trusted

def check_scoreboard(pcb):
    i = tw.info(pcb)
    una, mx = i["snd_una"], i["snd_max"]
    board = [((l - una) % (1 << 32), (r - una) % (1 << 32)) for l, r in i["scoreboard"]]
    span = (mx - una) % (1 << 32)
    assert len(board) <= 8
    for lo, hi in board:
        assert lo < hi <= span, (board, span)
    for (_, hi), (lo, _) in zip(board, board[1:]):
        assert hi < lo, board                                      # sorted, disjoint, merged
    if i["state"] == tw.ESTABLISHED:
        assert tw.sack_pipe(pcb) <= 2 * span


SACK_STEP = st.one_of(
    st.tuples(st.just("ack"), st.integers(-3000, 30000),
              st.lists(st.tuples(st.integers(-5000, 40000), st.integers(-2000, 6000)), max_size=4)),
    st.tuples(st.just("send"), st.integers(0, 20000)),
    st.tuples(st.just("time"), st.sampled_from([1 * MS, 200 * MS, 1 * SEC, 3 * SEC])),
)


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SACK_STEP, max_size=40), st.booleans())
def test_random_sack_blocks_keep_the_scoreboard_sane(steps, ts):
    s = Stack()
    c = sack_open(s, ts=ts)
    tw.set_nodelay(c.pcb, True)
    for step in steps:
        if step[0] == "ack":
            _, dack, ranges = step
            una = tw.info(c.pcb)["snd_una"]
            flat = tuple(x & 0xFFFFFFFF for lo, n in ranges for x in (una + lo, una + lo + n))
            o = ([("SAck", flat)] if flat else []) + ([("Timestamp", (7000, 0))] if ts else [])
            c.send("A", ack=(una + dack) & 0xFFFFFFFF, options=o)
        elif step[0] == "send":
            tw.send(c.pcb, b"s" * step[1])
        else:
            tw.advance(step[1])
        s.output()
        if tw.state(c.pcb) == tw.ESTABLISHED:
            check_scoreboard(c.pcb)
