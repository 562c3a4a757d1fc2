# Host face of fs/tty: the signals the line discipline raises, recorded instead of sent
# (the host build has no processes), and its counters.
from tyn.fs.tty cimport tty_set_signal_fn, tty_dropped
from tyn.drivers.serial cimport serial_poll_rx, serial_rx_ready

cdef int recorded_pgid[64]
cdef int recorded_sig[64]
cdef int recorded

cdef int record_signal(int pgid, int sig) noexcept nogil:
    global recorded
    if recorded < 64:
        recorded_pgid[recorded] = pgid
        recorded_sig[recorded] = sig
        recorded += 1
    return 1

def capture_signals():
    """From now on the tty's signals are recorded (see signals())."""
    global recorded
    recorded = 0
    tty_set_signal_fn(record_signal)

def signals():
    """[(pgid, sig), ...] raised since the last call."""
    global recorded
    out = [(recorded_pgid[i], recorded_sig[i]) for i in range(recorded)]
    recorded = 0
    return out

def dropped() -> int:
    return tty_dropped()

def receive():
    """Hand everything the simulated UART holds to the tty (what the receive interrupt
    does in the kernel; the host build has no interrupts)."""
    while serial_rx_ready():
        serial_poll_rx()
