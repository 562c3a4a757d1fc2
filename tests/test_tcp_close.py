"""TCP conformance: closing — passive and active close, TIME-WAIT with RFC 1337,
simultaneous close, and the state × segment matrix of RFC 9293 §3.10.7.4 (cases 38-41)."""
import pytest
from scapy.layers.inet import TCP

from tcp_harness import F, MS, PEER, SEC, flags_of, ip, payload, stack, tw  # noqa: F401


def test_passive_close(stack):                                    # case 38
    c = stack.passive_open()
    c.send("FA")
    ack = stack.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    assert tw.state(c.pcb) == tw.CLOSE_WAIT
    assert tw.recv(c.pcb, 10) == b""                              # EOF
    assert tw.poll(c.pcb) & 0x2000                                # POLLRDHUP
    tw.close(c.pcb)
    fin = stack.one()
    assert flags_of(fin) == F("FA")
    c.send("A", ack=fin.seq + 1)
    stack.none()
    assert tw.pcbs_in_use() == 1                                  # only the listener
    stack.advance(200 * SEC)
    stack.none()


def test_active_close_time_wait(stack):                           # case 39
    c = stack.passive_open()
    tw.close(c.pcb)
    fin = stack.one()
    assert flags_of(fin) == F("FA")
    c.send("A", ack=fin.seq + 1)
    stack.none()
    c.send("FA", ack=fin.seq + 1)
    ack = stack.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    tw_pcb = [p for p in tw.all_pcbs() if tw.info(p)["state"] == tw.TIME_WAIT]
    assert len(tw_pcb) == 1
    stack.advance(30 * SEC)
    c.send("FA", seq=c.snd - 1, ack=fin.seq + 1, advance=False)   # retransmitted FIN
    again = stack.one()
    assert flags_of(again) == "A" and again.ack == c.snd
    c.send("R", seq=c.snd, advance=False)                         # RFC 1337: ignored
    stack.none()
    assert tw.info(tw_pcb[0])["state"] == tw.TIME_WAIT
    stack.advance(59 * SEC)                                       # restarted at the retransmission
    assert tw.pcbs_in_use() == 2
    stack.advance(1 * SEC)
    assert tw.pcbs_in_use() == 1
    c.send("A")
    assert flags_of(stack.one()) == "R"


def test_active_close_with_queued_data(stack):
    c = stack.passive_open()
    tw.send(c.pcb, b"first")
    first = stack.one()
    tw.send(c.pcb, b"last words")                                 # held by Nagle
    tw.close(c.pcb)                                               # pushes it, FIN after (as Linux)
    seg = stack.one()
    assert payload(seg) == b"last words" and flags_of(seg) == F("FPA")
    assert seg.seq == first.seq + 5


def test_fin_rides_with_last_data(stack):
    c = stack.passive_open()
    tw.set_nodelay(c.pcb, True)
    tw.send(c.pcb, b"bye")
    stack.one()
    c.send("A", ack=c.rcv + 3)
    tw.send(c.pcb, b"bye2")
    tw.shutdown(c.pcb, tw.SHUT_WR_)
    segs = stack.output()
    assert len(segs) == 1 or flags_of(segs[-1]) == F("FA")


def test_shutdown_wr_then_peer_close(stack):
    c = stack.passive_open()
    assert tw.shutdown(c.pcb, tw.SHUT_WR_) == 0
    fin = stack.one()
    assert tw.state(c.pcb) == tw.FIN_WAIT_1
    assert tw.send(c.pcb, b"x") == -32
    c.send("PA", b"still reading", ack=fin.seq + 1)
    assert tw.state(c.pcb) == tw.FIN_WAIT_2
    c.send("FA", ack=fin.seq + 1)
    assert tw.state(c.pcb) == tw.TIME_WAIT
    assert tw.recv(c.pcb, 100) == b"still reading"
    assert tw.recv(c.pcb, 100) == b""


def test_orphan_fin_wait_2_times_out(stack):
    c = stack.passive_open()
    tw.close(c.pcb)
    fin = stack.one()
    c.send("A", ack=fin.seq + 1)
    stack.advance(60 * SEC)
    assert flags_of(stack.one()) == F("RA")
    assert tw.pcbs_in_use() == 1


def test_data_after_close_resets(stack):
    c = stack.passive_open()
    tw.close(c.pcb)
    fin = stack.one()
    c.send("PA", b"too late", ack=fin.seq + 1)
    assert flags_of(stack.one()) == F("RA")
    assert tw.pcbs_in_use() == 1


def test_simultaneous_close(stack):                               # case 40
    c = stack.passive_open()
    tw.close(c.pcb)
    fin = stack.one()
    c.send("FA", ack=fin.seq)                                     # crossing FIN, ours not acked
    ack = stack.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    states = [tw.info(p)["state"] for p in tw.all_pcbs()]
    assert tw.CLOSING in states
    c.send("A", ack=fin.seq + 1)
    stack.none()
    states = [tw.info(p)["state"] for p in tw.all_pcbs()]
    assert tw.TIME_WAIT in states


def test_fin_retransmitted_until_acked(stack):
    c = stack.passive_open()
    tw.close(c.pcb)
    fin = stack.one()
    stack.advance(1 * SEC)
    again = stack.one()
    assert flags_of(again) == F("FA") and again.seq == fin.seq


# ------------------------------------------------------------------ the matrix (case 41)

def to_syn_received(stack):
    stack.listener(80)
    stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000))
    sa = stack.one()
    from tcp_harness import Conn
    c = Conn(stack, None, sport=40000, dport=80, snd=1001, rcv=sa.seq + 1)
    c.our_fin = None
    return c


def to_fin_wait_1(stack):
    c = stack.passive_open()
    tw.close(c.pcb)
    c.our_fin = stack.one().seq
    return c


def to_fin_wait_2(stack):
    c = to_fin_wait_1(stack)
    c.send("A", ack=c.our_fin + 1)
    c.rcv = c.our_fin + 1
    return c


def to_close_wait(stack):
    c = stack.passive_open()
    c.send("FA")
    stack.one()
    c.our_fin = None
    return c


def to_closing(stack):
    c = to_fin_wait_1(stack)
    c.send("FA", ack=c.our_fin)
    stack.one()
    return c


def to_last_ack(stack):
    c = to_close_wait(stack)
    tw.close(c.pcb)
    c.our_fin = stack.one().seq
    return c


def to_time_wait(stack):
    c = to_fin_wait_2(stack)
    c.send("FA")
    stack.one()
    return c


SETUPS = {
    "SYN_RECEIVED": to_syn_received, "FIN_WAIT_1": to_fin_wait_1, "FIN_WAIT_2": to_fin_wait_2,
    "CLOSE_WAIT": to_close_wait, "CLOSING": to_closing, "LAST_ACK": to_last_ack,
    "TIME_WAIT": to_time_wait,
}

# (state, event) -> (reply flags or None, state afterwards or None when the pcb is gone)
MATRIX = {
    ("SYN_RECEIVED", "fin"): ("A", "CLOSE_WAIT"),
    ("SYN_RECEIVED", "rst_exact"): (None, None),
    ("SYN_RECEIVED", "rst_inwin"): ("A", "SYN_RECEIVED"),
    ("SYN_RECEIVED", "syn"): (None, None),                   # passive: back to LISTEN
    ("SYN_RECEIVED", "ack"): (None, "ESTABLISHED"),
    ("FIN_WAIT_1", "fin"): ("A", "CLOSING"),
    ("FIN_WAIT_1", "rst_exact"): (None, None),
    ("FIN_WAIT_1", "rst_inwin"): ("A", "FIN_WAIT_1"),
    ("FIN_WAIT_1", "syn"): ("A", "FIN_WAIT_1"),
    ("FIN_WAIT_1", "ack"): (None, "FIN_WAIT_2"),
    ("FIN_WAIT_2", "fin"): ("A", "TIME_WAIT"),
    ("FIN_WAIT_2", "rst_exact"): (None, None),
    ("FIN_WAIT_2", "rst_inwin"): ("A", "FIN_WAIT_2"),
    ("FIN_WAIT_2", "syn"): ("A", "FIN_WAIT_2"),
    ("FIN_WAIT_2", "ack"): (None, "FIN_WAIT_2"),
    ("CLOSE_WAIT", "fin"): ("A", "CLOSE_WAIT"),              # a retransmitted FIN
    ("CLOSE_WAIT", "rst_exact"): (None, "CLOSED"),           # the socket still holds it
    ("CLOSE_WAIT", "rst_inwin"): ("A", "CLOSE_WAIT"),
    ("CLOSE_WAIT", "syn"): ("A", "CLOSE_WAIT"),
    ("CLOSE_WAIT", "ack"): (None, "CLOSE_WAIT"),
    ("CLOSING", "fin"): ("A", "CLOSING"),
    ("CLOSING", "rst_exact"): (None, None),
    ("CLOSING", "rst_inwin"): ("A", "CLOSING"),
    ("CLOSING", "syn"): ("A", "CLOSING"),
    ("CLOSING", "ack"): (None, "TIME_WAIT"),
    ("LAST_ACK", "fin"): ("A", "LAST_ACK"),
    ("LAST_ACK", "rst_exact"): (None, None),
    ("LAST_ACK", "rst_inwin"): ("A", "LAST_ACK"),
    ("LAST_ACK", "syn"): ("A", "LAST_ACK"),
    ("LAST_ACK", "ack"): (None, None),
    ("TIME_WAIT", "fin"): ("A", "TIME_WAIT"),
    ("TIME_WAIT", "rst_exact"): (None, "TIME_WAIT"),         # RFC 1337
    ("TIME_WAIT", "rst_inwin"): (None, "TIME_WAIT"),
    ("TIME_WAIT", "syn"): ("A", "TIME_WAIT"),                # old sequence: challenge ACK
    ("TIME_WAIT", "ack"): (None, "TIME_WAIT"),
}


def deliver(c, event):
    peer_fin_sent = event == "fin" and c.our_fin is None and tw.STATE_NAMES  # noqa: F841
    if event == "fin":
        # In CLOSE-WAIT, CLOSING, LAST-ACK and TIME-WAIT T's FIN was sent already: resend it.
        resend = c.state_name in ("CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")
        ack = c.rcv if c.state_name != "FIN_WAIT_1" else c.our_fin
        if resend:
            c.send("FA", seq=c.snd - 1, ack=ack, advance=False)
        else:
            c.send("FA", ack=ack)
    elif event == "rst_exact":
        c.send("R", advance=False)
    elif event == "rst_inwin":
        c.send("R", seq=c.snd + 1, advance=False)
    elif event == "syn":
        c.send("S", seq=c.snd - 2 if c.state_name == "TIME_WAIT" else c.snd + 1000, advance=False)
    elif event == "ack":
        ack = c.our_fin + 1 if c.our_fin is not None else c.rcv
        c.send("A", ack=ack, advance=False)


def conn_state(c):
    """The state of the connection's pcb (found by its peer port), None if gone."""
    for p in tw.all_pcbs():
        info = tw.info(p)
        if info["remote"][1] == c.sport and info["state"] != tw.LISTEN:
            return tw.STATE_NAMES[info["state"]]
    return None


@pytest.mark.parametrize("state,event", sorted(MATRIX))
def test_state_event_matrix(stack, state, event):
    c = SETUPS[state](stack)
    c.state_name = state
    assert conn_state(c) == state
    stack.output()
    deliver(c, event)
    reply, after = MATRIX[(state, event)]
    segs = stack.output()
    if reply is None:
        assert segs == [], [flags_of(s) for s in segs]
    else:
        assert len(segs) == 1 and flags_of(segs[0]) == F(reply)
        assert "R" not in flags_of(segs[0])
    assert conn_state(c) == after


def test_fin_acknowledged_ends_send_closing_with_an_event(stack):
    # SO_LINGER's close waits on this (Linux's sk_stream_closing / sk_stream_wait_close).
    c = stack.active_open()
    assert not tw.send_closing(c.pcb)
    tw.shutdown(c.pcb, tw.SHUT_WR_)
    fin = stack.one()
    assert tw.send_closing(c.pcb) and tw.state(c.pcb) == tw.FIN_WAIT_1
    tw.take_events()
    c.ack_all([fin])
    assert tw.state(c.pcb) == tw.FIN_WAIT_2 and not tw.send_closing(c.pcb)
    assert dict(tw.take_events())[c.pcb] & tw.EVENT_SEND_DONE


def test_fin_stuck_behind_a_zero_window_keeps_send_closing(stack):
    c = stack.active_open(window=0)
    assert tw.send(c.pcb, b"q" * 100) == 100
    tw.shutdown(c.pcb, tw.SHUT_WR_)
    stack.output()
    assert tw.send_closing(c.pcb)
    stack.advance_to_next_deadline()                          # a window probe, no FIN acked
    stack.output()
    assert tw.send_closing(c.pcb)
