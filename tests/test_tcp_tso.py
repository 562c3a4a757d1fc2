"""TCP transmit offloads (host twin): with the route's device able to finish checksums
(OFFLOAD_CSUM) and cut segments (OFFLOAD_TSO4), data leaves as large segments with a partial
checksum; without, as MSS-sized segments with full checksums.  Whatever the device does with
a large segment must give the segments the MSS-at-a-time path sends: same bytes, same
sequence numbers, same window, Nagle and FIN decisions.  Organised by what is offered."""
import struct

import pytest

from tcp_harness import LOCAL, PEER, Stack, ip, tw

CSUM, TSO4 = tw.OFFLOAD_CSUM, tw.OFFLOAD_TSO4
MSS = 1460


def fold(s: int) -> int:
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ones_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    return fold(sum(struct.unpack(f"!{len(data) // 2}H", data)))


def pseudo_sum(length: int) -> int:
    src, dst = ip(LOCAL), ip(PEER)
    return fold((src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6 + length)


def checksum_ok(seg: bytes) -> bool:
    return fold(pseudo_sum(len(seg)) + ones_sum(seg)) == 0xFFFF


def finish(seg: bytes, offload) -> bytes:
    """What a device does with NEEDS_CSUM: sum from csum_start, store at csum_offset."""
    start, where = offload["csum_start"], offload["csum_start"] + offload["csum_offset"]
    c = 0xFFFF & ~ones_sum(seg[start:])
    return seg[:where] + struct.pack("!H", c) + seg[where + 2:]


def cut(seg: bytes, offload) -> list[bytes]:
    """What a device does with GSO_TCPV4 (Linux's tcp_gso_segment): gso_size pieces with the
    header copied, sequence numbers advanced, FIN and PSH on the last piece only."""
    hlen, size = offload["hdr_len"], offload["gso_size"]
    hdr, data = seg[:hlen], seg[hlen:]
    seq = struct.unpack("!I", hdr[4:8])[0]
    out = []
    for off in range(0, len(data), size):
        last = off + size >= len(data)
        h = bytearray(hdr)
        h[4:8] = struct.pack("!I", (seq + off) & 0xFFFFFFFF)
        if not last:
            h[13] &= ~0x09                                    # FIN, PSH
        h[16:18] = struct.pack("!H", pseudo_sum(hlen + len(data[off:off + size])))
        piece = bytes(h) + data[off:off + size]
        out.append(finish(piece, {"csum_start": 0, "csum_offset": 16}))
    return out


def wire(taken) -> list[bytes]:
    """The segments as they would leave the device, each checked."""
    out = []
    for seg, offload in taken:
        if offload is None:
            assert checksum_ok(seg), "a finished segment with a bad checksum"
            out.append(seg)
            continue
        assert offload["flags"] & CSUM and offload["csum_start"] == 0 and offload["csum_offset"] == 16
        assert struct.unpack("!H", seg[16:18])[0] == pseudo_sum(len(seg)), "not the pseudo-header sum"
        if offload["flags"] & TSO4:
            assert offload["hdr_len"] == (seg[12] >> 4) * 4 and len(seg) - offload["hdr_len"] > offload["gso_size"]
            out += cut(seg, offload)
        else:
            out.append(finish(seg, offload))
    for s in out:
        assert checksum_ok(s)
    return out


def seq_len_flags(segs):
    return [(struct.unpack("!I", s[4:8])[0], len(s) - (s[12] >> 4) * 4, s[13]) for s in segs]


def data_of(segs):
    return b"".join(s[(s[12] >> 4) * 4:] for s in segs)


def run(offloads, scenario):
    """The scenario on a fresh stack whose route reports offloads; what was handed to the
    output hook, [(segment, offload)]."""
    stack = Stack()
    tw.set_route_offloads(offloads)
    return stack, scenario(stack)


def pattern(n):
    return (bytes(range(251)) * (n // 251 + 1))[:n]


def open_conn(stack, nodelay=False, **kw):
    c = stack.passive_open(**kw)
    if nodelay:
        tw.set_nodelay(c.pcb, True)
    return c


# ------------------------------------------------------- CSUM and TSO4 offered

def test_tso_initial_window_goes_as_one_large_segment():
    def scenario(stack):
        c = open_conn(stack, nodelay=True, wscale=7)
        assert tw.send(c.pcb, pattern(64 * 1024)) == 64 * 1024
        return tw.take_output_offload()
    _, taken = run(CSUM | TSO4, scenario)
    assert len(taken) == 1                                         # IW10: one segment of 10 MSS
    seg, offload = taken[0]
    assert offload["flags"] == CSUM | TSO4 and offload["gso_size"] == MSS
    assert len(seg) - offload["hdr_len"] == 10 * MSS
    assert tw.stats()["tso_segs_out"] == 1
    assert data_of(wire(taken)) == pattern(10 * MSS)


def test_tso_cut_up_equals_mss_output_bytes_and_sequence():
    def scenario(stack):
        c = open_conn(stack, nodelay=True, wscale=7)
        tw.send(c.pcb, pattern(40 * MSS))
        out = tw.take_output_offload()
        for _ in range(3):                                         # slow start, several rounds
            c.rcv = (c.rcv + sum(len(s) - (s[12] >> 4) * 4 for s, _ in out)) % (1 << 32)
            c.send("A", window=65535)
            out += tw.take_output_offload()
        return out
    _, with_tso = run(CSUM | TSO4, scenario)
    _, without = run(0, scenario)
    assert all(o is None for _, o in without)
    assert all(len(s) - (s[12] >> 4) * 4 <= MSS for s, _ in without)
    assert any(o and o["flags"] & TSO4 for _, o in with_tso)
    assert len(with_tso) < len(without)
    cut_up = wire(with_tso)
    assert seq_len_flags(cut_up) == seq_len_flags(wire(without))
    assert cut_up == wire(without)


def test_tso_nagle_holds_the_short_tail():
    def scenario(stack):
        c = open_conn(stack)
        tw.send(c.pcb, pattern(3 * MSS + 100))
        return tw.take_output_offload()
    _, with_tso = run(CSUM | TSO4, scenario)
    assert len(with_tso) == 1 and len(with_tso[0][0]) - with_tso[0][1]["hdr_len"] == 3 * MSS
    _, without = run(0, scenario)
    assert wire(with_tso) == wire(without)                         # the 100 bytes wait for an ACK


def test_tso_nodelay_sends_the_tail_in_the_large_segment():
    def scenario(stack):
        c = open_conn(stack, nodelay=True)
        tw.send(c.pcb, pattern(3 * MSS + 100))
        return tw.take_output_offload()
    _, with_tso = run(CSUM | TSO4, scenario)
    assert len(with_tso) == 1 and len(with_tso[0][0]) - with_tso[0][1]["hdr_len"] == 3 * MSS + 100
    _, without = run(0, scenario)
    assert wire(with_tso) == wire(without)


def test_tso_window_limited_ends_on_an_mss_boundary():
    def scenario(stack):
        c = open_conn(stack, window=5000)
        tw.send(c.pcb, pattern(8 * MSS))
        return tw.take_output_offload()
    _, with_tso = run(CSUM | TSO4, scenario)
    assert len(with_tso) == 1 and len(with_tso[0][0]) - with_tso[0][1]["hdr_len"] == 3 * MSS
    _, without = run(0, scenario)
    assert wire(with_tso) == wire(without)                         # 620 bytes of window: SWS waits


def test_tso_fin_follows_the_last_byte_as_without():
    def scenario(stack):
        c = open_conn(stack)
        tw.send(c.pcb, pattern(2 * MSS + 10))                      # the tail waits (Nagle)
        tw.close(c.pcb)                                            # then goes with the FIN
        return tw.take_output_offload()
    _, with_tso = run(CSUM | TSO4, scenario)
    assert len(with_tso) == 2 and with_tso[0][1]["flags"] & TSO4
    cut_up = wire(with_tso)
    assert [f & 0x01 for _, _, f in seq_len_flags(cut_up)] == [0, 0, 1]
    _, without = run(0, scenario)
    assert cut_up == wire(without)


def test_tso_fin_on_a_large_segment_lands_on_its_last_piece():
    def scenario(stack):
        c = open_conn(stack, window=0)                             # everything waits ...
        tw.send(c.pcb, pattern(3 * MSS + 10))
        tw.close(c.pcb)
        c.send("A", window=65535)                                  # ... until the window opens
        return tw.take_output_offload()
    _, with_tso = run(CSUM | TSO4, scenario)
    assert len(with_tso) == 1 and with_tso[0][0][13] & 0x01 and with_tso[0][1]["flags"] & TSO4
    cut_up = wire(with_tso)
    assert [f & 0x01 for _, _, f in seq_len_flags(cut_up)] == [0, 0, 0, 1]
    _, without = run(0, scenario)
    assert cut_up == wire(without)


def test_tso_gso_size_is_the_mss_less_timestamps():
    def scenario(stack):
        l = stack.listener()
        from scapy.layers.inet import TCP
        stack.send(TCP(sport=40000, dport=80, flags="S", seq=1000, window=65535,
                       options=[("MSS", MSS), ("Timestamp", (5, 0))]))
        synack = tw.take_output_offload()[0][0]
        sseq = struct.unpack("!I", synack[4:8])[0]
        stack.send(TCP(sport=40000, dport=80, flags="A", seq=1001, ack=sseq + 1, window=65535,
                       options=[("Timestamp", (6, 0))]))
        c, err = tw.accept(l)
        assert err == 0
        tw.set_nodelay(c, True)
        tw.send(c, pattern(4 * MSS))
        return tw.take_output_offload()
    _, taken = run(CSUM | TSO4, scenario)
    seg, offload = taken[0]
    assert offload["gso_size"] == MSS - 12 and offload["hdr_len"] == 32
    assert data_of(wire(taken)) == pattern(4 * MSS)[:len(data_of(wire(taken)))]


def test_tso_lost_large_segment_retransmitted_mss_sized_then_recovers():
    stack, taken = run(CSUM | TSO4, lambda s: None)
    c = open_conn(stack, nodelay=True, wscale=7)
    data = pattern(10 * MSS)
    tw.send(c.pcb, data)
    first = tw.take_output_offload()
    assert len(first) == 1 and first[0][1]["flags"] & TSO4        # ... and T never sees it
    stack.advance_to_next_deadline()                               # RTO
    again = tw.take_output_offload()
    assert len(again) == 1 and tw.stats()["retransmits"] == 1
    seg, offload = again[0]
    assert offload is None or not offload["flags"] & TSO4          # cwnd is one MSS now
    got = wire(again)
    assert seq_len_flags(got)[0][:2] == (c.rcv, MSS) and data_of(got) == data[:MSS]
    received = data_of(got)
    while len(received) < len(data):                               # T acknowledges each flight
        c.rcv = (struct.unpack("!I", got[-1][4:8])[0] + len(got[-1]) - (got[-1][12] >> 4) * 4) % (1 << 32)
        c.send("A", window=65535)
        got = wire(tw.take_output_offload())
        assert got, "stalled after the retransmission"
        received += data_of(got)
    assert received == data


def test_tso_fast_retransmit_resends_one_mss():
    stack, _ = run(CSUM | TSO4, lambda s: None)
    c = open_conn(stack, nodelay=True, wscale=7)
    data = pattern(10 * MSS)
    tw.send(c.pcb, data)
    first = tw.take_output_offload()
    assert len(first) == 1
    una = c.rcv
    for i in range(3):                                             # the first piece lost
        c.send("A", ack=una)
    r = wire(tw.take_output_offload())
    assert tw.stats()["fast_retransmits"] == 1
    assert seq_len_flags(r)[0][:2] == (una, MSS) and data_of(r[:1]) == data[:MSS]


# ---------------------------------------------------------------- CSUM only

def test_csum_only_mss_segments_with_partial_checksums():
    def scenario(stack):
        c = open_conn(stack, nodelay=True, wscale=7)
        tw.send(c.pcb, pattern(5 * MSS))
        return tw.take_output_offload()
    _, taken = run(CSUM, scenario)
    assert len(taken) == 5
    assert all(o is not None and o["flags"] == CSUM for _, o in taken)
    assert not all(checksum_ok(s) for s, _ in taken)               # left to the device
    _, without = run(0, scenario)
    assert wire(taken) == wire(without)


def test_pure_acks_and_syn_are_summed_here_even_with_offloads():
    stack, _ = run(CSUM | TSO4, lambda s: None)
    c = open_conn(stack)
    c.send("PA", b"x" * 10)
    stack.advance(500 * 1_000_000)
    taken = tw.take_output_offload()
    assert taken and all(o is None and checksum_ok(s) for s, o in taken)


# ------------------------------------------------------------------ none

def test_no_offloads_mss_segments_full_checksums():
    def scenario(stack):
        c = open_conn(stack, nodelay=True, wscale=7)
        tw.send(c.pcb, pattern(10 * MSS))
        return tw.take_output_offload()
    _, taken = run(0, scenario)
    assert len(taken) == 10 and all(o is None and checksum_ok(s) for s, o in taken)
    assert tw.stats()["tso_segs_out"] == 0


@pytest.mark.parametrize("offloads", [TSO4])
def test_tso_without_csum_is_not_used(offloads):
    def scenario(stack):
        c = open_conn(stack, nodelay=True)
        tw.send(c.pcb, pattern(5 * MSS))
        return tw.take_output_offload()
    _, taken = run(offloads, scenario)
    assert len(taken) == 5 and all(o is None for _, o in taken)
