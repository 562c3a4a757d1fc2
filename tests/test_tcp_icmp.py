"""TCP and ICMP errors (RFC 1122 §4.2.3.9, RFC 5927), by state, as Linux's tcp_v4_err:
the error must quote a connection and a sequence number it has in flight; SYN-SENT
aborts with the error's errno; later states keep a soft error that SO_ERROR and a
timeout report; a listener's half-open connection goes on net/host unreachable only.

The errors are fed to tcp_icmp_error as ICMP's dispatcher hands them over (the quoted
TCP header, 8 bytes of it as RFC 792 requires, the type and code); the full path from a
frame through IPv4 and ICMP is in tests/test_net_tcp_over_ipv4.py."""
import struct

import pytest
from scapy.layers.inet import TCP

from tcp_harness import LOCAL, PEER, SEC, flags_of, ip, stack, tw  # noqa: F401

DEST_UNREACH, TIME_EXCEEDED, PARAMETERPROB = 3, 11, 12
NET_UNREACH, HOST_UNREACH, PROT_UNREACH, PORT_UNREACH, FRAG_NEEDED = 0, 1, 2, 3, 4
ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ENOPROTOOPT, ETIMEDOUT, EPROTO = 111, 113, 101, 92, 110, 71


def quote(sport, dport, seq):
    """The first 8 bytes of a TCP header S sent: what an ICMP error must carry at least."""
    return struct.pack("!HHI", sport, dport, seq)


def icmp(sport, dport, seq, type=DEST_UNREACH, code=PORT_UNREACH, info=0, src=LOCAL, dst=PEER):
    tw.icmp_error(ip(src), ip(dst), quote(sport, dport, seq), type, code, info)


def connecting(stack, port=5555):
    p = tw.new()
    assert tw.connect(p, ip(PEER), port) == -115
    syn = stack.one()
    tw.take_events()
    return p, syn


def stat(name):
    return tw.stats()[name]


# ------------------------------------------------------------------ SYN-SENT

@pytest.mark.parametrize("type,code,errno", [
    (DEST_UNREACH, PORT_UNREACH, ECONNREFUSED),
    (DEST_UNREACH, HOST_UNREACH, EHOSTUNREACH),
    (DEST_UNREACH, NET_UNREACH, ENETUNREACH),
    (DEST_UNREACH, PROT_UNREACH, ENOPROTOOPT),
    (TIME_EXCEEDED, 0, EHOSTUNREACH),
    (PARAMETERPROB, 0, EPROTO),
])
def test_synsent_error_aborts_connect(stack, type, code, errno):
    p, syn = connecting(stack)
    icmp(syn.sport, syn.dport, syn.seq, type, code)
    assert tw.state(p) == tw.CLOSED
    assert dict(tw.take_events())[p] & tw.EVENT_ERR
    assert tw.sock_error(p) == errno
    stack.none()                                                  # no RST, no retry
    assert tw.next_deadline() == 0
    assert stat("icmp_hard_errors") == 1
    tw.close(p)
    assert tw.pcbs_in_use() == 0


@pytest.mark.parametrize("delta", [2, -1, 1 << 31, 12345])   # [iss, iss + 1] is in flight
def test_synsent_error_with_wrong_sequence_ignored(stack, delta):
    p, syn = connecting(stack)
    icmp(syn.sport, syn.dport, (syn.seq + delta) % (1 << 32))
    assert tw.state(p) == tw.SYN_SENT and tw.sock_error(p) == 0
    assert stat("icmp_out_of_window") == 1 and stat("icmp_hard_errors") == 0
    stack.advance(1 * SEC)
    assert flags_of(stack.one()) == "S"                           # still trying


def test_synsent_error_for_other_ports_or_addresses_ignored(stack):
    p, syn = connecting(stack)
    icmp(syn.sport, syn.dport + 1, syn.seq)
    icmp(syn.sport + 1, syn.dport, syn.seq)
    icmp(syn.sport, syn.dport, syn.seq, dst="10.0.2.99")
    icmp(syn.sport, syn.dport, syn.seq, src="10.0.2.16")
    assert tw.state(p) == tw.SYN_SENT and stat("icmp_no_pcb") == 4


def test_synsent_frag_needed_ignored(stack):
    # We send without DF: a "fragmentation needed" about our segment feeds nothing.
    p, syn = connecting(stack)
    icmp(syn.sport, syn.dport, syn.seq, DEST_UNREACH, FRAG_NEEDED, info=576)
    assert tw.state(p) == tw.SYN_SENT and tw.sock_error(p) == 0
    assert stat("icmp_frag_needed_ignored") == 1


def test_short_quote_ignored(stack):
    p, syn = connecting(stack)
    tw.icmp_error(ip(LOCAL), ip(PEER), quote(syn.sport, syn.dport, syn.seq)[:7], DEST_UNREACH, PORT_UNREACH)
    assert tw.state(p) == tw.SYN_SENT


def test_simultaneous_open_syn_received_aborts(stack):
    p, syn = connecting(stack)
    stack.send(TCP(sport=5555, dport=syn.sport, flags="S", seq=3000))
    stack.one()                                                   # our SYN-ACK
    assert tw.state(p) == tw.SYN_RECEIVED
    icmp(syn.sport, syn.dport, syn.seq, DEST_UNREACH, HOST_UNREACH)
    assert tw.state(p) == tw.CLOSED and tw.sock_error(p) == EHOSTUNREACH


# ------------------------------------------------------------------ ESTABLISHED and later

def established_with_data_in_flight(stack, data=b"x" * 100):
    c = stack.active_open()
    assert tw.send(c.pcb, data) == len(data)
    seg = stack.one()
    tw.take_events()
    return c, seg


@pytest.mark.parametrize("code,errno", [(PORT_UNREACH, ECONNREFUSED), (HOST_UNREACH, EHOSTUNREACH),
                                        (PROT_UNREACH, ENOPROTOOPT)])
def test_established_error_is_soft(stack, code, errno):
    c, seg = established_with_data_in_flight(stack)
    icmp(seg.sport, seg.dport, seg.seq, DEST_UNREACH, code)
    assert tw.state(c.pcb) == tw.ESTABLISHED
    assert tw.sock_error(c.pcb) == 0                              # no hard error
    assert tw.info(c.pcb)["soft_error"] == errno
    assert dict(tw.take_events())[c.pcb] & tw.EVENT_SOFT_ERR
    assert tw.poll(c.pcb) & 0x8 == 0                              # no POLLERR
    assert stat("icmp_soft_errors") == 1
    # The connection goes on: T acknowledges and sends.
    c.ack_all([seg])
    c.send("PA", b"reply")
    assert tw.recv(c.pcb, 100) == b"reply"


def test_established_soft_error_explains_the_timeout(stack):
    c, seg = established_with_data_in_flight(stack)
    icmp(seg.sport, seg.dport, seg.seq, DEST_UNREACH, HOST_UNREACH)
    while tw.state(c.pcb) == tw.ESTABLISHED:
        stack.advance_to_next_deadline()
        stack.output()
    assert tw.state(c.pcb) == tw.CLOSED
    assert tw.sock_error(c.pcb) == EHOSTUNREACH                   # not ETIMEDOUT (tcp_write_err)


def test_timeout_without_soft_error_is_etimedout(stack):
    c, seg = established_with_data_in_flight(stack)
    while tw.state(c.pcb) == tw.ESTABLISHED:
        stack.advance_to_next_deadline()
        stack.output()
    assert tw.sock_error(c.pcb) == ETIMEDOUT


def test_acknowledged_data_clears_the_soft_error(stack):
    c, seg = established_with_data_in_flight(stack)
    icmp(seg.sport, seg.dport, seg.seq, DEST_UNREACH, HOST_UNREACH)
    c.ack_all([seg])
    assert tw.info(c.pcb)["soft_error"] == 0


@pytest.mark.parametrize("offset", [-1, 101, 5000])
def test_established_error_outside_the_flight_ignored(stack, offset):
    # [snd_una, snd_max] is [seq, seq + 100]: anything else is a guess (RFC 5927 §4.1).
    c, seg = established_with_data_in_flight(stack)
    icmp(seg.sport, seg.dport, (seg.seq + offset) % (1 << 32), DEST_UNREACH, PORT_UNREACH)
    assert tw.info(c.pcb)["soft_error"] == 0 and stat("icmp_out_of_window") == 1


def test_established_error_at_the_edges_accepted(stack):
    c, seg = established_with_data_in_flight(stack)
    icmp(seg.sport, seg.dport, seg.seq + 100, DEST_UNREACH, PORT_UNREACH)   # snd_max
    assert tw.info(c.pcb)["soft_error"] == ECONNREFUSED


def test_idle_established_accepts_only_snd_una(stack):
    c = stack.active_open()
    una = tw.info(c.pcb)["snd_una"]
    icmp(c.dport, c.sport, una + 1, DEST_UNREACH, PORT_UNREACH)
    assert tw.info(c.pcb)["soft_error"] == 0
    icmp(c.dport, c.sport, una, DEST_UNREACH, PORT_UNREACH)
    assert tw.info(c.pcb)["soft_error"] == ECONNREFUSED and tw.state(c.pcb) == tw.ESTABLISHED


def test_close_wait_and_fin_wait_errors_are_soft(stack):
    c = stack.active_open()
    c.send("FA")
    stack.one()
    assert tw.state(c.pcb) == tw.CLOSE_WAIT
    una = tw.info(c.pcb)["snd_una"]
    icmp(c.dport, c.sport, una, DEST_UNREACH, PORT_UNREACH)
    assert tw.state(c.pcb) == tw.CLOSE_WAIT and tw.info(c.pcb)["soft_error"] == ECONNREFUSED


def test_time_wait_ignores_errors(stack):
    c = stack.active_open()
    tw.shutdown(c.pcb, tw.SHUT_WR_)
    fin = stack.one()
    c.ack_all([fin])
    c.send("FA")
    stack.one()
    assert tw.state(c.pcb) == tw.TIME_WAIT
    icmp(c.dport, c.sport, fin.seq + 1, DEST_UNREACH, PORT_UNREACH)
    assert tw.state(c.pcb) == tw.TIME_WAIT and stat("icmp_no_pcb") == 1


# ------------------------------------------------------------------ listener and its SYN queue

def half_open(stack, sport=40000):
    l = stack.listener(80)
    stack.send(TCP(sport=sport, dport=80, flags="S", seq=1000, options=[("MSS", 1460)]))
    synack = stack.one()
    assert tw.info(l)["syn_queue"] == 1
    return l, synack


@pytest.mark.parametrize("type,code", [(DEST_UNREACH, HOST_UNREACH), (DEST_UNREACH, NET_UNREACH),
                                       (TIME_EXCEEDED, 0), (PARAMETERPROB, 0)])
def test_syn_queue_entry_dropped_on_unreachable_host(stack, type, code):
    l, synack = half_open(stack)
    icmp(synack.sport, synack.dport, synack.seq, type, code)
    assert tw.info(l)["syn_queue"] == 0
    assert tw.pcbs_in_use() == 1                                  # the listener alone
    stack.advance(1 * SEC)
    stack.none()                                                  # no SYN-ACK retransmission
    assert tw.state(l) == tw.LISTEN


@pytest.mark.parametrize("code", [PORT_UNREACH, PROT_UNREACH])
def test_syn_queue_entry_kept_on_port_unreachable(stack, code):
    l, synack = half_open(stack)
    icmp(synack.sport, synack.dport, synack.seq, DEST_UNREACH, code)
    assert tw.info(l)["syn_queue"] == 1


def test_syn_queue_entry_needs_its_exact_isn(stack):
    l, synack = half_open(stack)
    icmp(synack.sport, synack.dport, synack.seq + 1, DEST_UNREACH, HOST_UNREACH)
    assert tw.info(l)["syn_queue"] == 1 and stat("icmp_out_of_window") == 1


def test_listener_itself_ignores_errors(stack):
    l = stack.listener(80)
    icmp(80, 40000, 0, DEST_UNREACH, HOST_UNREACH)
    assert tw.state(l) == tw.LISTEN and stat("icmp_no_pcb") == 1
