"""TCP conformance: CLOSED (no pcb), LISTEN and SYN-RECEIVED, and the listen backlog
(tcp-conformance.md cases 1-10, 18-20, 42)."""
import struct

import pytest
from scapy.layers.inet import TCP

from tcp_harness import (F, LOCAL, MS, OTHER_PEER, PEER, SEC, flags_of, ip, opt, stack, tw)  # noqa: F401


# ------------------------------------------------------------------ CLOSED

def test_syn_closed_answers_rst_ack(stack):                       # case 3
    stack.send(TCP(sport=1234, dport=81, flags="S", seq=5000))
    r = stack.one()
    assert flags_of(r) == F("RA") and r.seq == 0 and r.ack == 5001
    assert tw.stats()["no_pcb"] == 1


def test_syn_fin_closed_counts_both(stack):
    stack.send(TCP(sport=1234, dport=81, flags="SF", seq=5000))
    r = stack.one()
    assert flags_of(r) == F("RA") and r.ack == 5002


def test_ack_closed_answers_rst_seq_ack(stack):                   # case 4
    stack.send(TCP(sport=1234, dport=81, flags="A", seq=10, ack=0xDEADBEEF))
    r = stack.one()
    assert flags_of(r) == "R" and r.seq == 0xDEADBEEF


def test_rst_closed_is_silent(stack):                             # case 5
    stack.send(TCP(sport=1234, dport=81, flags="R", seq=10))
    stack.send(TCP(sport=1234, dport=81, flags="RA", seq=10, ack=5))
    stack.none()


def test_syn_rst_combination_dropped_and_counted(stack):
    stack.listener(80)
    stack.send(TCP(sport=1234, dport=80, flags="SR", seq=10))
    stack.none()
    assert tw.stats()["bad_flags"] == 1


# ------------------------------------------------------------------ LISTEN

def test_syn_listen_answers_synack_with_mss(stack):               # case 1
    stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000, options=[("MSS", 1460)]))
    r = stack.one()
    assert flags_of(r) == F("SA") and r.ack == 1001
    assert opt(r, "MSS") == 1460
    assert r.sport == 80 and r.dport == 40000 and r.ip_src == LOCAL and r.ip_dst == PEER


def test_handshake_completes_without_reply_and_is_accepted(stack):  # case 2
    l = stack.listener(80)
    assert tw.accept(l) == (0, -11)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000, options=[("MSS", 1460)]))
    sa = stack.one()
    tw.take_events()
    stack.send(TCP(sport=40000, dport=80, flags="A", seq=1001, ack=sa.seq + 1))
    stack.none()
    assert (l, tw.EVENT_IN) in tw.take_events()
    assert tw.poll(l) & 1
    c, err = tw.accept(l)
    assert err == 0 and tw.state(c) == tw.ESTABLISHED
    assert tw.peername(c) == (ip(PEER), 40000)
    assert tw.sockname(c) == (ip(LOCAL), 80)
    assert tw.accept(l) == (0, -11)


def test_ack_in_listen_answers_rst_and_listener_survives(stack):  # case 6
    stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="A", seq=1, ack=777))
    r = stack.one()
    assert flags_of(r) == "R" and r.seq == 777
    stack.send(TCP(sport=40001, dport=80, flags="S", seq=1))
    assert flags_of(stack.one()) == F("SA")


def test_rst_in_listen_is_silent_and_listener_survives(stack):    # case 7
    stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="R", seq=1))
    stack.none()
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1))
    assert flags_of(stack.one()) == F("SA")


def test_data_without_syn_in_listen_dropped(stack):
    stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="", seq=1) / b"xx")
    stack.none()
    assert tw.stats()["listen_drops"] == 1


def test_unknown_option_ignored(stack):                           # case 18
    stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1,
                   options=[(253, b"\x01\x02\x03"), ("MSS", 1000), ("NOP", None), (99, b"")]))
    r = stack.one()
    assert flags_of(r) == F("SA") and r.ack == 2 and opt(r, "MSS") == 1460


def raw_syn(options: bytes, sport=40000, dport=80, seq=1) -> bytes:
    """A SYN with the given option bytes (padded), checksum filled for PEER -> LOCAL."""
    from tyn.twins import checksum_twin as ck
    options += b"\0" * (-len(options) % 4)
    hlen = 20 + len(options)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (hlen // 4) << 4, 0x02, 65535, 0, 0) + options
    csum = ck.checksum_with_pseudo(ip(PEER), ip(LOCAL), 6, hdr)
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:]


@pytest.mark.parametrize("options", [
    b"\x02\x00\x05\xb4",            # MSS with length 0
    b"\x01\x01\x01\x03",            # NOPs then a kind with no room for its length
    b"\x02\x08\x05\xb4",            # MSS whose length runs past the header
    b"\xfd\x01\x00\x00",            # unknown kind, length 1
])
def test_bad_option_length_dropped_then_next_syn_works(stack, options):  # case 19
    stack.listener(80)
    stack.send_raw(raw_syn(options))
    stack.none()
    assert tw.stats()["bad_options"] == 1
    stack.send_raw(raw_syn(b"\x02\x04\x05\xb4", sport=40001))
    assert flags_of(stack.one()) == F("SA")


def test_reserved_bits_ignored(stack):                            # case 20
    stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1, reserved=7))
    r = stack.one()                     # the harness checks S's reserved bits are zero
    assert flags_of(r) == F("SA")


def test_short_and_bad_offset_segments_dropped(stack):
    stack.listener(80)
    good = raw_syn(b"")
    stack.send_raw(good[:19])
    bad = bytearray(good)
    bad[12] = 0x40                      # data offset 4
    stack.send_raw(bytes(bad))
    bad[12] = 0xF0                      # 60 bytes in a 20-byte segment
    stack.send_raw(bytes(bad))
    stack.none()
    assert tw.stats()["bad_header"] == 3


# ------------------------------------------------------------------ SYN-RECEIVED

def test_synack_retransmitted_with_backoff_then_given_up(stack):  # case 8
    l = stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000))
    first = stack.one()
    t0 = tw.now()
    times = []
    while tw.next_deadline():
        stack.advance_to_next_deadline()
        for s in stack.output():
            assert flags_of(s) == F("SA") and s.seq == first.seq
            times.append(tw.now() - t0)
    gaps = [b - a for a, b in zip([0] + times, times)]
    assert gaps == [1 * SEC, 2 * SEC, 4 * SEC, 8 * SEC, 16 * SEC]   # RFC 6298 doubling, 5 retries
    assert tw.stats()["synack_giveups"] == 1
    assert tw.info(l)["syn_queue"] == 0 and tw.pcbs_in_use() == 1


def test_dup_syn_in_synrcvd_resends_same_synack(stack):           # case 9
    stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000))
    a = stack.one()
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000))
    b = stack.one()
    assert flags_of(b) == F("SA") and b.seq == a.seq and b.ack == 1001


def test_rst_in_synrcvd_drops_half_open(stack):                   # case 10
    l = stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000))
    stack.one()
    stack.send(TCP(sport=40000, dport=80, flags="R", seq=1001))
    stack.none()
    assert tw.info(l)["syn_queue"] == 0 and tw.pcbs_in_use() == 1
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=5000))
    assert flags_of(stack.one()) == F("SA")


def test_bad_ack_in_synrcvd_answers_rst(stack):
    stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000))
    sa = stack.one()
    stack.send(TCP(sport=40000, dport=80, flags="A", seq=1001, ack=sa.seq + 1000))
    r = stack.one()
    assert flags_of(r) == "R" and r.seq == sa.seq + 1000


def test_data_with_handshake_ack_delivered(stack):
    l = stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000))
    sa = stack.one()
    stack.send(TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=sa.seq + 1) / b"early")
    c, err = tw.accept(l)
    assert tw.recv(c, 10) == b"early"


# ------------------------------------------------------------------ backlog

@pytest.mark.parametrize("backlog,extra", [(1, 1), (3, 2), (5, 5)])
def test_backlog_overflow_drops_silently_then_answers_retransmission(stack, backlog, extra):  # case 42
    l = stack.listener(80, backlog=backlog)
    synacks = {}
    for i in range(backlog + extra):
        stack.send(TCP(sport=41000 + i, dport=80, flags="S", seq=100 * i))
        for s in stack.output():
            assert flags_of(s) == F("SA"), "a SYN over the backlog must not be reset"
            synacks[s.dport] = s
    assert sorted(synacks) == [41000 + i for i in range(backlog)]
    assert tw.stats()["listen_overflow"] == extra
    for port, sa in synacks.items():
        stack.send(TCP(sport=port, dport=80, flags="A", seq=100 * (port - 41000) + 1, ack=sa.seq + 1))
    stack.none()
    assert tw.info(l)["accept_queue"] == backlog
    # Still full: the first extra client's retransmitted SYN is dropped again.
    stack.send(TCP(sport=41000 + backlog, dport=80, flags="S", seq=100 * backlog))
    stack.none()
    c, err = tw.accept(l)
    assert err == 0
    stack.send(TCP(sport=41000 + backlog, dport=80, flags="S", seq=100 * backlog))
    r = stack.one()
    assert flags_of(r) == F("SA") and r.dport == 41000 + backlog


def test_listener_close_resets_unaccepted(stack):
    l = stack.listener(80)
    c = stack.passive_open(listener=l, accept=False)
    stack.send(TCP(sport=40001, dport=80, flags="S", seq=1))
    stack.one()
    tw.close(l)
    r = stack.one()
    assert flags_of(r) == F("RA") and r.dport == c.sport
    assert tw.pcbs_in_use() == 0
    stack.send(TCP(sport=40002, dport=80, flags="S", seq=1))
    assert flags_of(stack.one()) == F("RA")


# ------------------------------------------------------------------ bind / ports / caps

def test_bind_reuseaddr_rules(stack):
    a = tw.new()
    assert tw.bind(a, 0, 80) == 0
    b = tw.new()
    assert tw.bind(b, 0, 80) == -98                     # EADDRINUSE
    assert tw.bind(b, ip(LOCAL), 80) == -98
    tw.set_reuseaddr(a, True)
    tw.set_reuseaddr(b, True)
    assert tw.bind(b, 0, 80) == 0                       # both reuse, neither listening
    assert tw.listen(a, 4) == 0
    assert tw.listen(b, 4) == -98                       # never two listeners
    c = tw.new()
    tw.set_reuseaddr(c, True)
    assert tw.bind(c, 0, 80) == -98                     # a listener holds it
    assert tw.bind(c, 0, 81) == 0
    assert tw.bind(c, 0, 82) == -22                     # already bound


def test_reuseaddr_binds_over_time_wait(stack):
    c = stack.passive_open(port=80)
    tw.close(c.listener)
    tw.close(c.pcb)
    fin = stack.one()
    c.send("FA", ack=fin.seq + 1)
    stack.one()
    assert tw.info(tw.all_pcbs()[0])["state"] == tw.TIME_WAIT
    a = tw.new()
    assert tw.bind(a, 0, 80) == -98
    tw.set_reuseaddr(a, True)
    assert tw.bind(a, 0, 80) == 0
    assert tw.listen(a, 4) == 0


def test_bind_port_zero_and_listen_autobind(stack):
    a = tw.new()
    assert tw.listen(a, 4) == 0
    port = tw.sockname(a)[1]
    assert 32768 <= port <= 60999


def test_pcb_cap_refuses_and_counts(stack):
    tw.set_tunable("max_pcbs", 2)
    l = stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1))
    assert flags_of(stack.one()) == F("SA")
    stack.send(TCP(sport=40001, dport=80, flags="S", seq=1))
    stack.none()                                        # dropped, never reset
    assert tw.new() == 0
    assert tw.stats()["pcb_cap_drops"] == 2
    assert tw.pcbs_in_use() == 2


def test_pcb_cap_recycles_time_wait(stack):
    tw.set_tunable("max_pcbs", 2)
    c = stack.passive_open(port=80)
    tw.close(c.pcb)
    fin = stack.one()
    c.send("FA", ack=fin.seq + 1)
    stack.one()
    tw.close(c.listener)
    l = stack.listener(81)
    stack.send(TCP(sport=40005, dport=81, flags="S", seq=1))
    assert flags_of(stack.one()) == F("SA")
    assert tw.stats()["time_wait_recycled"] == 1


def test_syn_to_time_wait_with_higher_seq_opens_new_connection(stack):
    c = stack.passive_open(port=80)
    tw.close(c.pcb)
    fin = stack.one()
    c.send("FA", ack=fin.seq + 1)
    stack.one()
    stack.send(TCP(sport=c.sport, dport=80, flags="S", seq=c.snd + 100000))
    r = stack.one()
    assert flags_of(r) == F("SA") and r.ack == c.snd + 100001
    assert tw.stats()["syn_in_time_wait_reused"] == 1
