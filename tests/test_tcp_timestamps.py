"""TCP timestamps (RFC 7323, tyn.net.tcp_tstamp), by state: the option offered in our
SYN (SYN-SENT) and answered only when offered (LISTEN/SYN-RECEIVED), TSval/TSecr on
every segment of an agreed connection and never on one that was not (ESTABLISHED),
the payload room less the option's 12 bytes, PAWS (§5.3 R1: an old TSval is dropped and
ACKed, an RST is exempt, TS.Recent older than 24 days is not used, §5.5), TS.Recent
updates (§4.3), and RTT samples from TSecr (§4.1)."""
from scapy.layers.inet import TCP
from scapy.packet import Raw

from tcp_harness import F, MS, PEER, SEC, Conn, flags_of, open_offering, opt, payload, stack, tw  # noqa: F401

DAY = 24 * 3600 * SEC
PAWS_IDLE = 24 * DAY


def ts_open(stack, tsval=5000, port=80, sport=40000, isn=1000, mss=1460, ts=True):
    """A passive open whose SYN (and handshake ACK) carry timestamps when ts."""
    opts = [("MSS", mss)] + ([("Timestamp", (tsval, 0))] if ts else [])
    return open_offering(stack, opts, port=port, sport=sport, isn=isn)


# ------------------------------------------------------------------ SYN-SENT

def test_syn_offers_timestamps_with_zero_echo(stack):
    p = tw.new()
    assert tw.connect(p, 0x0A000202, 5555) == -115
    syn = stack.one()
    tsval, tsecr = opt(syn, "Timestamp")
    assert tsecr == 0
    # the SYN-ACK agrees: our ACK echoes its TSval
    stack.send(TCP(sport=5555, dport=syn.sport, flags="SA", seq=9000, ack=syn.seq + 1, window=65535,
                   options=[("MSS", 1460), ("Timestamp", (777, tsval))]))
    ack = stack.one()
    assert flags_of(ack) == "A" and opt(ack, "Timestamp")[1] == 777
    assert tw.state(p) == tw.ESTABLISHED


def test_synack_without_timestamps_turns_them_off(stack):
    c = stack.active_open()                                        # the peer's SYN-ACK has none
    assert opt(c.syn, "Timestamp") is not None
    assert tw.send(c.pcb, b"d" * 10) == 10
    seg = stack.one()
    assert opt(seg, "Timestamp") is None and payload(seg) == b"d" * 10


def test_tunable_off_offers_nothing(stack):
    tw.set_tunable("timestamps", 0)
    try:
        p = tw.new()
        assert tw.connect(p, 0x0A000202, 5555) == -115
        assert opt(stack.one(), "Timestamp") is None
        c = ts_open(stack)
        assert opt(c.synack, "Timestamp") is None
    finally:
        tw.set_tunable("timestamps", 1)


# ------------------------------------------------------------------ LISTEN / SYN-RECEIVED

def test_synack_answers_timestamps_only_when_offered(stack):
    c = ts_open(stack, tsval=4242)
    assert opt(c.synack, "Timestamp")[1] == 4242
    plain = stack.passive_open(port=81)
    assert opt(plain.synack, "Timestamp") is None


# ------------------------------------------------------------------ ESTABLISHED

def test_every_segment_carries_tsval_and_echo(stack):
    c = ts_open(stack, tsval=100)
    c.send("PA", b"x" * 10, options=[("Timestamp", (200, 0))])
    stack.advance(500 * MS)
    ack = stack.one()
    assert opt(ack, "Timestamp")[1] == 200                         # TS.Recent from the data
    first = opt(ack, "Timestamp")[0]
    stack.advance(1 * SEC)
    assert tw.send(c.pcb, b"y" * 5) == 5
    seg = stack.one()
    assert opt(seg, "Timestamp")[0] - first >= 1000                # a millisecond clock
    assert opt(seg, "Timestamp")[1] == 200


def test_payload_room_leaves_space_for_the_option(stack):
    c = ts_open(stack, mss=1460)
    assert tw.send(c.pcb, b"z" * 4000) == 4000
    segs = stack.output()
    assert segs and max(len(payload(s)) for s in segs) == 1460 - 12
    assert all(len(bytes(s)) - len(payload(s)) == 20 + 12 for s in segs)


def test_paws_drops_old_tsval_and_acks(stack):
    c = ts_open(stack, tsval=5000)
    c.send("PA", b"a" * 10, options=[("Timestamp", (6000, 0))])
    stack.advance(500 * MS)
    stack.output()
    before = tw.stats()["paws_rejected"]
    c.send("PA", b"b" * 10, options=[("Timestamp", (5999, 0))])     # older than TS.Recent
    ack = stack.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd - 10          # not taken
    assert tw.stats()["paws_rejected"] == before + 1
    assert tw.recv(c.pcb, 100) == b"a" * 10
    c.send("PA", b"b" * 10, seq=c.snd - 10, options=[("Timestamp", (6001, 0))])
    stack.advance(500 * MS)
    stack.output()
    assert tw.recv(c.pcb, 100) == b"b" * 10


def test_paws_wraps_with_sequence_arithmetic(stack):
    c = ts_open(stack, tsval=0xFFFFFFF0)
    c.send("PA", b"a" * 10, options=[("Timestamp", (0x10, 0))])     # newer, past the wrap
    stack.advance(500 * MS)
    stack.output()
    assert tw.recv(c.pcb, 100) == b"a" * 10


def test_rst_is_exempt_from_paws(stack):
    c = ts_open(stack, tsval=5000)
    c.send("R", seq=c.snd, options=[("Timestamp", (1, 0))])
    assert tw.state(c.pcb) in (tw.CLOSED, -1) or tw.info(c.pcb)["state"] == tw.CLOSED


def test_paws_holds_within_24_days(stack):
    c = ts_open(stack, tsval=5000)
    stack.advance(PAWS_IDLE - SEC)
    stack.output()
    c.send("PA", b"c" * 10, options=[("Timestamp", (1, 0))])
    assert stack.one().ack == c.snd - 10
    assert tw.recv(c.pcb, 100) == -11


def test_paws_ignores_ts_recent_idle_over_24_days(stack):
    c = ts_open(stack, tsval=5000)
    stack.advance(PAWS_IDLE + SEC)
    stack.output()
    c.send("PA", b"c" * 10, options=[("Timestamp", (1, 0))])
    stack.advance(500 * MS)
    stack.output()
    assert tw.recv(c.pcb, 100) == b"c" * 10


def test_rtt_sample_from_echo(stack):
    c = ts_open(stack)
    assert tw.send(c.pcb, b"r" * 100) == 100
    seg = stack.one()
    before = tw.info(c.pcb)["srtt_us"]
    stack.advance(300 * MS)
    c.rcv = seg.seq + 100
    c.send("A", options=[("Timestamp", (9000, opt(seg, "Timestamp")[0]))])
    expected = before - before // 8 + 300_000 // 8                  # RFC 6298 §2.3, one sample
    assert abs(tw.info(c.pcb)["srtt_us"] - expected) <= 1000


def test_rtt_sample_of_a_retransmission_from_its_echo(stack):
    # Karn's rule is not needed with timestamps: the echo tells which copy was ACKed.
    c = ts_open(stack)
    assert tw.send(c.pcb, b"k" * 100) == 100
    first = stack.one()
    stack.advance_to_next_deadline()
    again = stack.one()
    assert payload(again) == b"k" * 100 and opt(again, "Timestamp")[0] > opt(first, "Timestamp")[0]
    stack.advance(50 * MS)
    before = tw.info(c.pcb)["srtt_us"]
    c.rcv = first.seq + 100
    c.send("A", options=[("Timestamp", (9000, opt(again, "Timestamp")[0]))])
    expected = before - before // 8 + 50_000 // 8
    assert abs(tw.info(c.pcb)["srtt_us"] - expected) <= 1000
