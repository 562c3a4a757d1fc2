"""Send-buffer autotuning (tcp_sndspace, host build, simulated clock): as acknowledgements
grow the congestion window, the send buffer grows to two windows, up to buf_max; never once
SO_SNDBUF was set (inherited from a listener too), never shrinking."""
from tcp_harness import PEER, Stack, tw  # noqa: F401
from tcp_harness import stack  # noqa: F401  (fixture)

CHUNK = 1 << 20
WINDOW = 65535
WSCALE = 7


def pump(stack, c, rounds):
    """S writes as much as its buffer takes; T acknowledges every segment on its own (slow
    start grows cwnd by one MSS per ACK), each round."""
    for _ in range(rounds):
        tw.send(c.pcb, b"x" * CHUNK)
        for seg in stack.output():
            c.ack_all([seg], window=WINDOW)


def test_a_bulk_writer_gets_a_buffer_of_two_congestion_windows(stack):
    c = stack.passive_open(wscale=WSCALE)
    start = tw.info(c.pcb)["sndbuf"]
    pump(stack, c, 12)
    info = tw.info(c.pcb)
    assert info["sndbuf"] > start and tw.stats()["sndbuf_grown"] > 0
    assert info["sndbuf"] == min(2 * info["cwnd"], tw.tunables()["buf_max"])


def test_growth_stops_at_buf_max(stack):
    tw.set_tunable("buf_max", 200_000)
    c = stack.passive_open(wscale=WSCALE)
    pump(stack, c, 30)
    assert tw.info(c.pcb)["sndbuf"] == 200_000


def test_so_sndbuf_turns_autotuning_off(stack):
    c = stack.passive_open(wscale=WSCALE)
    tw.set_sndbuf(c.pcb, 32768)
    pump(stack, c, 12)
    assert tw.info(c.pcb)["sndbuf"] == 32768 and tw.stats()["sndbuf_grown"] == 0


def test_accepted_connections_inherit_the_lock(stack):
    l = stack.listener(port=81, sndbuf=32768)
    c = stack.passive_open(port=81, wscale=WSCALE, listener=l)
    pump(stack, c, 12)
    assert tw.info(c.pcb)["sndbuf"] == 32768 and tw.stats()["sndbuf_grown"] == 0


def test_an_idle_connection_keeps_its_starting_buffer(stack):
    c = stack.passive_open(wscale=WSCALE)
    start = tw.info(c.pcb)["sndbuf"]
    tw.send(c.pcb, b"x" * 100)
    c.ack_all(stack.output(), window=WINDOW)
    assert tw.info(c.pcb)["sndbuf"] == start
