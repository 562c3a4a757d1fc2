from tcp_harness import *  # noqa: F401,F403
from tcp_harness import stack  # noqa: F401


def test_smoke(stack):
    c = stack.passive_open()
    assert tw.state(c.pcb) == tw.ESTABLISHED
    c.send("PA", b"hello")
    assert tw.recv(c.pcb, 100) == b"hello"
