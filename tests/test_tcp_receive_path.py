"""The bulk receive path's behaviour (host build, simulated clock): receive-buffer
autotuning (tcp_rcvspace), ACKs for segments larger than the MSS (what a device's TCP
segmentation offload delivers), and checksums a device vouched for (NETDEV_RX_CHECKSUM_OK)."""

from tcp_harness import *  # noqa: F403
from tcp_harness import MS, PEER, LOCAL, tw, flags_of, F, ip, stack  # noqa: F401

from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

import net_support
from net_support import ns, eth_to_me, drops

MSS = 1460
SEG = 16384                     # larger than the MSS, as an offloading device delivers them
READ_ALL = 4 << 20
WSCALE = 7                      # the tester's; the stack picks its own from buf_max


def round_trip(c, nbytes, read, rtt_ns=10 * MS):
    """T sends nbytes (within the window S advertised), a round trip passes, and S's
    reader takes `read` bytes.  Returns what S sent after the read."""
    sent = 0
    while sent < nbytes:
        n = min(SEG, nbytes - sent)
        c.send("A", b"d" * n)
        sent += n
    stack_ = c.stack
    stack_.advance(rtt_ns)
    stack_.output()
    if read:
        tw.recv(c.pcb, read)
    return stack_.output()


def open_scaled(stack, listener=None):
    c = stack.passive_open(wscale=WSCALE, listener=listener)
    return c


def drain_rounds(stack, c, rounds, per_round):
    for _ in range(rounds):
        room = tw.info(c.pcb)["rcvbuf"] - tw.readable(c.pcb)
        round_trip(c, min(per_round, room), read=READ_ALL)


# ------------------------------------------------------------- autotuning

def test_reader_that_keeps_up_gets_a_bigger_buffer(stack):
    c = open_scaled(stack)
    start = tw.info(c.pcb)["rcvbuf"]
    drain_rounds(stack, c, 8, 1 << 20)                  # every round: a full window, all read
    info = tw.info(c.pcb)
    assert info["rcv_rtt_ns"] > 0
    assert info["rcvbuf"] > start and tw.stats()["rcvbuf_grown"] > 0
    assert info["rcvbuf"] <= tw.tunables()["buf_max"]
    # The bigger buffer is advertised (scaled): the window now exceeds the starting buffer.
    round_trip(c, MSS, read=0)
    c.send("A", b"")                                    # any segment; S answers nothing
    tw.recv(c.pcb, READ_ALL)
    upd = stack.output()
    adv = tw.info(c.pcb)["rcv_adv"] - tw.info(c.pcb)["rcv_nxt"]
    assert adv > start, (adv, start, [summary(s) for s in upd])


def test_growth_stops_at_buf_max(stack):
    tw.set_tunable("buf_max", 262144)
    c = open_scaled(stack)
    drain_rounds(stack, c, 20, 1 << 20)
    assert tw.info(c.pcb)["rcvbuf"] == 262144


def test_reader_that_lags_keeps_its_buffer(stack):
    c = open_scaled(stack)
    start = tw.info(c.pcb)["rcvbuf"]
    for _ in range(8):
        round_trip(c, 4 * MSS, read=1000)               # reads less than arrives, every round
    assert tw.info(c.pcb)["rcvbuf"] == start and tw.stats()["rcvbuf_grown"] == 0


def test_so_rcvbuf_turns_autotuning_off(stack):
    l = stack.listener(80)
    tw.set_rcvbuf(l, 65536)
    c = open_scaled(stack, listener=l)
    drain_rounds(stack, c, 8, 1 << 20)
    assert tw.info(c.pcb)["rcvbuf"] == 65536 and tw.stats()["rcvbuf_grown"] == 0


def test_no_growth_without_a_round_trip_measured(stack):
    c = open_scaled(stack)
    start = tw.info(c.pcb)["rcvbuf"]
    for _ in range(8):                                  # the clock never moves
        c.send("A", b"d" * MSS)
        tw.recv(c.pcb, READ_ALL)
    assert tw.info(c.pcb)["rcvbuf"] == start


# ------------------------------------------------- segments larger than the MSS

def test_large_segment_acked_at_once(stack):
    """One 64 KiB segment (a device's receive offload) is more than two full-sized
    segments: ACKed at once (RFC 5681 §4.2), not after the delayed-ACK timer."""
    c = open_scaled(stack)
    c.send("A", b"g" * 65000)
    ack = stack.one()
    assert flags_of(ack) == "A" and ack.ack == c.snd
    assert tw.readable(c.pcb) == 65000


def test_large_segment_trimmed_to_the_window(stack):
    l = stack.listener(80)
    tw.set_rcvbuf(l, 16384)
    c = stack.passive_open(listener=l)
    c.send("A", b"g" * 40000, advance=False)
    ack = stack.one()
    assert tw.readable(c.pcb) == 16384 and ack.ack == c.snd + 16384


# ------------------------------------------------ checksums the device vouched for

def test_device_checked_checksum_is_not_checked_again(stack):
    c = stack.passive_open()
    raw = bytes(IP(src=PEER, dst=LOCAL) / c.seg("PA", b"partial"))[20:]
    b = bytearray(raw)
    b[16:18] = b"\x12\x34"                              # what NEEDS_CSUM leaves: not the sum
    tw.input(ip(PEER), ip(LOCAL), bytes(b), tw.RX_CHECKSUM_OK)
    assert tw.readable(c.pcb) == 7 and tw.stats()["bad_checksum"] == 0
    tw.input(ip(PEER), ip(LOCAL), bytes(b))             # without the device's word: dropped
    assert tw.readable(c.pcb) == 7 and tw.stats()["bad_checksum"] == 1
