"""TCP under random and mutated segments (hypothesis, derandomized: the same examples
every run).  The stack must never crash, and its invariants must hold after every step:
SND.UNA <= SND.NXT <= SND.MAX, queues within their limits, memory within the cap."""
import os
import struct

from hypothesis import HealthCheck, given, settings, strategies as st

from tcp_harness import LOCAL, PEER, SEC, MS, Stack, ip, tw
from tyn.twins import checksum_twin as ck
from tyn.twins import heap_twin as heap

# TCP_FUZZ_SCALE=N multiplies the example counts (the default run is quick and fixed).
SCALE = int(os.environ.get("TCP_FUZZ_SCALE", "1"))

FLAG_BITS = st.integers(0, 0xFF)
OPTION_BYTES = st.one_of(
    st.just(b""),
    st.binary(max_size=40),
    st.sampled_from([b"\x02\x04\x05\xb4", b"\x01\x03\x03\x07", b"\x04\x02", b"\x08\x0a" + b"\0" * 8,
                     b"\x02\x00", b"\x03\x03\x0e", b"\xff\x01"]),
)


def segment(sport, dport, seq, ack, flags, window, options, payload, offset_delta=0, corrupt=False):
    options += b"\0" * (-len(options) % 4)
    words = (20 + len(options)) // 4 + offset_delta
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (words & 0xF) << 4, flags, window, 0, 0) + options
    seg = hdr + payload
    csum = ck.checksum_with_pseudo(ip(PEER), ip(LOCAL), 6, seg)
    if corrupt:
        csum ^= 0x1234
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def check_invariants(limit_pcbs):
    t = tw.tunables()
    assert tw.mem_used() <= t["mem_limit"]
    assert tw.pcbs_in_use() <= limit_pcbs
    for p in tw.all_pcbs():
        i = tw.info(p)
        una, nxt, mx = i["snd_una"], i["snd_nxt"], i["snd_max"]
        assert (nxt - una) % (1 << 32) <= (mx - una) % (1 << 32) < (1 << 31)
        assert i["sndq"] <= i["sndbuf"]
        assert i["ooo_count"] <= t["ooo_max_segs"]
        assert i["rcvq"] + i["ooo_bytes"] <= i["rcvbuf"] + 65535
        if i["state"] == tw.LISTEN:
            assert i["syn_queue"] + i["accept_queue"] <= i["backlog"]
    assert heap.check() == 0


step = st.one_of(
    st.tuples(st.just("seg"), st.integers(-70000, 70000), st.integers(-70000, 70000), FLAG_BITS,
              st.integers(0, 65535), OPTION_BYTES, st.binary(max_size=1600),
              st.sampled_from([0, 0, 0, 0, -1, 1, 10]), st.booleans() | st.just(False)),
    st.tuples(st.just("time"), st.sampled_from([1 * MS, 40 * MS, 1 * SEC, 10 * SEC, 70 * SEC])),
    st.tuples(st.just("send"), st.integers(0, 20000)),
    st.tuples(st.just("recv"), st.integers(0, 20000)),
    st.tuples(st.just("close"), st.sampled_from(["shut_wr", "close", "abort", "none"])),
)


@settings(max_examples=60 * SCALE, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(step, max_size=40), st.booleans())
def test_random_segments_against_established(steps, use_wscale):
    s = Stack()
    tw.set_tunable("mem_limit", 256 * 1024)
    c = s.passive_open(wscale=7 if use_wscale else None)
    pcb = c.pcb
    for st_ in steps:
        kind = st_[0]
        if kind == "seg":
            _, dseq, dack, flags, window, opts, data, off, corrupt = st_
            tw.input(ip(PEER), ip(LOCAL), segment(c.sport, c.dport, c.snd + dseq, c.rcv + dack, flags,
                                                  window, opts, data, off, corrupt))
        elif kind == "time":
            tw.advance(st_[1])
        elif kind == "send" and pcb:
            tw.send(pcb, b"d" * st_[1])
        elif kind == "recv" and pcb:
            tw.recv(pcb, st_[1])
        elif kind == "close" and pcb and st_[1] != "none":
            {"shut_wr": lambda p: tw.shutdown(p, tw.SHUT_WR_), "close": tw.close, "abort": tw.abort}[st_[1]](pcb)
            if st_[1] != "shut_wr":
                pcb = 0
        if pcb:
            tw.poll(pcb)
        tw.take_output()
        check_invariants(limit_pcbs=8192)
    # Whatever happened, the listener still works.
    tw.input(ip(PEER), ip(LOCAL), segment(50001, 80, 1, 0, 0x02, 1000, b"", b""))
    assert any(d[12 + 1] & 0x12 == 0x12 for _, _, _, d in tw.take_output())


@settings(max_examples=60 * SCALE, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 65535), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
                          FLAG_BITS, OPTION_BYTES, st.binary(max_size=64), st.sampled_from([0, 0, -1, 3])),
                max_size=60))
def test_random_segments_against_listener(segs):
    s = Stack()
    tw.set_tunable("max_pcbs", 16)
    l = s.listener(80, backlog=4)
    for sport, seq, ack, flags, opts, data, off in segs:
        tw.input(ip(PEER), ip(LOCAL), segment(sport, 80, seq, ack, flags, 4096, opts, data, off))
        tw.advance(100 * MS)
        for d in [o[3] for o in tw.take_output()]:
            assert d[13] & 0x04 or d[13] & 0x12 == 0x12 or d[13] & 0x10   # RST, SYN-ACK or ACK
        check_invariants(limit_pcbs=16)
    tw.accept(l)


@settings(max_examples=200 * SCALE, deadline=None, derandomize=True)
@given(st.binary(max_size=120))
def test_random_bytes_never_crash(data):
    if not hasattr(test_random_bytes_never_crash, "stack"):
        test_random_bytes_never_crash.stack = Stack()
        test_random_bytes_never_crash.stack.listener(80)
    tw.input(ip(PEER), ip(LOCAL), data)
    tw.take_output()
    check_invariants(limit_pcbs=8192)
