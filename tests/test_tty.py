"""The console tty's line discipline (fs/tty, after Linux's n_tty) on the host build:
bytes typed on the simulated UART, the console read and written through the syscall
layer, what the UART sends back checked byte for byte.  Organised by mode: the default
(canonical, echo), raw, signals, output processing, ioctls."""

from __future__ import annotations

import errno as E
import struct
import termios as T

import pytest

from fs_support import Kernel
from tyn.twins import machine
from tyn.twins import tty_twin

TERMIOS = struct.Struct("<IIIIB19s")        # Linux's struct termios (TCGETS/TCSETS)
WINSIZE = struct.Struct("<HHHH")
O_NONBLOCK = 0o4000
F_GETFL, F_SETFL = 3, 4
TIOCINQ = 0x541B
TIOCOUTQ = 0x5411
TCSETS, TCSETSW, TCSETSF = 0x5402, 0x5403, 0x5404
TCFLSH, TCXONC, TCSBRK = 0x540B, 0x540A, 0x5409
SIGINT, SIGQUIT, SIGTSTP, SIGWINCH = 2, 3, 20, 28


class Tty(Kernel):
    def tcgetattr(self, fd=0):
        arg = self.alloc(TERMIOS.size)
        assert self.call("ioctl", fd, T.TCGETS, arg) == 0
        iflag, oflag, cflag, lflag, line, cc = TERMIOS.unpack(self.get(arg, TERMIOS.size))
        return [iflag, oflag, cflag, lflag, line, bytearray(cc)]

    def tcsetattr(self, attrs, fd=0, req=TCSETS):
        iflag, oflag, cflag, lflag, line, cc = attrs
        arg = self.put(TERMIOS.pack(iflag, oflag, cflag, lflag, line, bytes(cc)))
        return self.call("ioctl", fd, req, arg)

    def set_lflag(self, on=0, off=0):
        a = self.tcgetattr()
        a[3] = (a[3] | on) & ~off
        assert self.tcsetattr(a) == 0

    def raw(self, vmin=1, vtime=0):
        a = self.tcgetattr()
        a[0] &= ~(T.ICRNL | T.IXON | T.ISTRIP | T.INLCR | T.IGNCR)
        a[1] &= ~T.OPOST
        a[3] &= ~(T.ICANON | T.ECHO | T.ISIG | T.IEXTEN)
        a[5][T.VMIN] = vmin
        a[5][T.VTIME] = vtime
        assert self.tcsetattr(a) == 0

    def nonblock(self, fd=0):
        assert self.call("fcntl", fd, F_SETFL, O_NONBLOCK) == 0

    def type(self, data: bytes):
        for i in range(0, len(data), 64):         # the simulated UART holds a few bytes only
            machine.feed_uart(data[i:i + 64])
            tty_twin.receive()

    def inq(self, fd=0):
        arg = self.alloc(4)
        assert self.call("ioctl", fd, TIOCINQ, arg) == 0
        return struct.unpack("<i", self.get(arg, 4))[0]


@pytest.fixture
def k():
    kern = Tty()
    assert kern.mount_rc == 0
    tty_twin.capture_signals()
    machine.console_raw()
    return kern


# ------------------------------------------------------------------ the default settings

def test_default_termios_is_linux_std_for_a_serial_console(k):
    iflag, oflag, cflag, lflag, line, cc = k.tcgetattr()
    assert iflag == T.ICRNL | T.IXON
    assert oflag == T.OPOST | T.ONLCR
    assert cflag == T.B115200 | T.CS8 | T.CREAD | T.HUPCL | T.CLOCAL
    assert lflag == T.ISIG | T.ICANON | T.ECHO | T.ECHOE | T.ECHOK | T.ECHOCTL | T.ECHOKE | T.IEXTEN
    assert line == 0
    assert cc[T.VINTR] == 3 and cc[T.VQUIT] == 0x1c and cc[T.VERASE] == 0x7f and cc[T.VKILL] == 0x15
    assert cc[T.VEOF] == 4 and cc[T.VMIN] == 1 and cc[T.VTIME] == 0 and cc[T.VSUSP] == 0x1a
    assert cc[T.VSTART] == 0x11 and cc[T.VSTOP] == 0x13 and cc[T.VWERASE] == 0x17 and cc[T.VLNEXT] == 0x16


def test_every_console_fd_and_dev_tty_are_the_same_tty(k):
    for fd in range(3):
        assert k.tcgetattr(fd)[3] & T.ICANON
    fd = k.open("/dev/tty", 2)
    assert fd >= 0 and k.tcgetattr(fd)[3] & T.ICANON
    k.set_lflag(off=T.ECHO)
    assert not k.tcgetattr(fd)[3] & T.ECHO


def test_regular_files_are_not_ttys(k):
    fd = k.open("/etc/hosts")
    assert k.call("ioctl", fd, T.TCGETS, k.alloc(64)) == -E.ENOTTY
    assert k.call("ioctl", fd, T.TIOCGWINSZ, k.alloc(8)) == -E.ENOTTY


def test_window_size_defaults_to_80x24_and_is_settable(k):
    arg = k.alloc(8)
    assert k.call("ioctl", 1, T.TIOCGWINSZ, arg) == 0
    assert WINSIZE.unpack(k.get(arg, 8)) == (24, 80, 0, 0)
    assert k.call("ioctl", 1, T.TIOCSWINSZ, k.put(WINSIZE.pack(50, 132, 0, 0))) == 0
    assert k.call("ioctl", 1, T.TIOCGWINSZ, arg) == 0
    assert WINSIZE.unpack(k.get(arg, 8)) == (50, 132, 0, 0)
    assert tty_twin.signals() == [(1, SIGWINCH)]         # the foreground group hears of it
    assert k.call("ioctl", 1, T.TIOCSWINSZ, k.put(WINSIZE.pack(50, 132, 0, 0))) == 0
    assert tty_twin.signals() == []                      # no change, no signal
    assert k.call("ioctl", 1, T.TIOCGWINSZ, 0) == -E.EFAULT


# ------------------------------------------------------------------ canonical mode

def test_canonical_read_waits_for_the_line_and_echoes(k):
    k.nonblock()
    k.type(b"ab")
    assert k.read(0, 10) == -E.EAGAIN                    # no line yet
    assert machine.console_raw() == b"ab"               # echoed as typed
    k.type(b"c\r")                                      # ICRNL: CR ends the line as LF
    assert k.read(0, 10) == b"abc\n"
    assert machine.console_raw() == b"c\r\n"            # echo of the newline goes through ONLCR


def test_canonical_read_returns_one_line_at_a_time(k):
    k.nonblock()
    k.type(b"one\ntwo\nthr")
    assert k.inq() == 8
    assert k.read(0, 100) == b"one\n"
    assert k.read(0, 2) == b"tw" and k.read(0, 100) == b"o\n"
    assert k.read(0, 100) == -E.EAGAIN


def test_erase_kill_and_word_erase(k):
    k.nonblock()
    k.type(b"abx\x7fc\n")
    assert k.read(0, 100) == b"abc\n"
    assert machine.console_raw() == b"abx\b \bc\r\n"    # ECHOE: erased on the screen
    k.type(b"junk\x15ok\n")                             # VKILL (ECHOKE: erased char by char)
    assert k.read(0, 100) == b"ok\n"
    assert machine.console_raw() == b"junk" + b"\b \b" * 4 + b"ok\r\n"
    k.type(b"keep drop it\x17\x17x\n")                  # VWERASE twice
    assert k.read(0, 100) == b"keep x\n"
    k.type(b"\x7f\x7fz\n")                              # erase at the start of a line: nothing
    assert k.read(0, 100) == b"z\n"


def test_erase_of_a_control_character_removes_its_caret_form(k):
    k.nonblock()
    k.type(b"a\x01\x7f\n")
    assert k.read(0, 100) == b"a\n"
    assert machine.console_raw() == b"a^A\b \b\b \b\r\n"


def test_eof_ends_a_line_and_an_empty_line_reads_zero(k):
    k.nonblock()
    k.type(b"part\x04")
    assert k.read(0, 100) == b"part"                    # EOF pushes the line without itself
    k.type(b"\x04")
    assert k.read(0, 100) == b""                        # EOF at the start of a line: 0
    assert k.read(0, 100) == -E.EAGAIN


def test_lnext_takes_the_next_character_literally(k):
    k.nonblock()
    k.type(b"a\x16\x7f\x16\x03b\n")
    assert k.read(0, 100) == b"a\x7f\x03b\n"
    assert tty_twin.signals() == []


def test_reprint(k):
    k.nonblock()
    k.type(b"abc\x12")
    assert machine.console_raw() == b"abc^R\r\nabc"


def test_echo_off_and_echonl(k):
    k.nonblock()
    k.set_lflag(off=T.ECHO)
    k.type(b"secret\n")
    assert k.read(0, 100) == b"secret\n"
    assert machine.console_raw() == b""
    k.set_lflag(on=T.ECHONL)
    k.type(b"pw\n")
    assert k.read(0, 100) == b"pw\n"
    assert machine.console_raw() == b"\r\n"


def test_a_full_line_buffer_drops_and_counts_but_the_line_can_end(k):
    k.nonblock()
    k.set_lflag(off=T.ECHO)
    before = tty_twin.dropped()
    k.type(b"x" * 5000 + b"\n")
    data = k.read(0, 8192)
    assert data.endswith(b"\n") and len(data) == 4096
    assert tty_twin.dropped() - before == 5000 - 4095


# ------------------------------------------------------------------ raw mode

def test_raw_read_returns_bytes_as_they_come_without_echo(k):
    k.raw()
    k.nonblock()
    assert k.read(0, 10) == -E.EAGAIN
    k.type(b"\x1b[A\r\x03\x7f")
    assert k.read(0, 10) == b"\x1b[A\r\x03\x7f"         # no ICRNL, no ISIG, no erase
    assert machine.console_raw() == b""
    assert tty_twin.signals() == []


def test_vmin_zero_vtime_zero_is_a_poll(k):
    k.raw(vmin=0)
    assert k.read(0, 10) == b""                         # blocking fd, nothing there: 0
    k.type(b"q")
    assert k.read(0, 10) == b"q"


def test_switching_to_raw_makes_a_partial_line_readable(k):
    k.nonblock()
    k.type(b"half")
    assert k.read(0, 10) == -E.EAGAIN
    k.raw()
    assert k.read(0, 10) == b"half"


def test_tcsetsf_flushes_pending_input(k):
    k.nonblock()
    k.type(b"stale\n")
    a = k.tcgetattr()
    assert k.tcsetattr(a, req=TCSETSF) == 0
    assert k.read(0, 10) == -E.EAGAIN
    k.type(b"x\n")
    assert k.tcsetattr(a, req=TCSETSW) == 0
    assert k.read(0, 10) == b"x\n"


def test_tcflush(k):
    k.nonblock()
    k.type(b"gone\n")
    assert k.call("ioctl", 0, TCFLSH, T.TCIFLUSH) == 0
    assert k.read(0, 10) == -E.EAGAIN
    assert k.call("ioctl", 0, TCFLSH, 7) == -E.EINVAL


# ------------------------------------------------------------------ signals

def test_isig_characters_signal_the_foreground_group_and_flush(k):
    k.nonblock()
    k.type(b"typed\x03")
    assert tty_twin.signals() == [(1, SIGINT)]
    assert machine.console_raw() == b"typed^C"          # ECHOCTL
    assert k.read(0, 10) == -E.EAGAIN                   # the line was flushed
    k.type(b"\x1c\x1a")
    assert tty_twin.signals() == [(1, SIGQUIT), (1, SIGTSTP)]


def test_noflsh_keeps_input_and_isig_off_passes_the_byte(k):
    k.nonblock()
    k.set_lflag(on=T.NOFLSH)
    k.type(b"kept\x03\n")
    assert tty_twin.signals() == [(1, SIGINT)]
    assert k.read(0, 10) == b"kept\n"
    k.set_lflag(off=T.ISIG)
    k.type(b"\x03\n")
    assert k.read(0, 10) == b"\x03\n" and tty_twin.signals() == []


def test_ixon_stop_and_start_are_not_input(k):
    k.nonblock()
    k.type(b"\x13a\x11b\n")
    assert k.read(0, 10) == b"ab\n"


# ------------------------------------------------------------------ output

def test_onlcr_and_opost_off(k):
    assert k.write(1, b"a\nb\n") == 4
    assert machine.console_raw() == b"a\r\nb\r\n"
    a = k.tcgetattr()
    a[1] &= ~T.OPOST
    assert k.tcsetattr(a) == 0
    assert k.write(1, b"a\nb\n") == 4
    assert machine.console_raw() == b"a\nb\n"


def test_ocrnl_onocr_and_xtabs(k):
    a = k.tcgetattr()
    a[1] = T.OPOST | T.OCRNL | T.TAB3
    assert k.tcsetattr(a) == 0
    assert k.write(1, b"ab\r\tc") == 5
    assert machine.console_raw() == b"ab\n" + b" " * 6 + b"c"   # OCRNL keeps the column (as Linux)
    a[1] = T.OPOST | T.ONOCR | T.ONLCR
    assert k.tcsetattr(a) == 0
    assert k.write(1, b"x\n\ry\r") == 5
    assert machine.console_raw() == b"x\r\ny\r"


def test_tcxonc_stops_output(k):
    assert k.call("ioctl", 1, TCXONC, T.TCOOFF) == 0
    k.nonblock(1)
    assert k.write(1, b"held") == -E.EAGAIN
    assert k.call("ioctl", 1, TCXONC, T.TCOON) == 0
    assert k.write(1, b"go") == 2 and machine.console_raw() == b"go"
    assert k.call("ioctl", 1, TCSBRK, 1) == 0              # tcdrain
    arg = k.alloc(4)
    assert k.call("ioctl", 1, TIOCOUTQ, arg) == 0 and struct.unpack("<i", k.get(arg, 4))[0] == 0


def test_bad_pointers_are_efault(k):
    assert k.call("ioctl", 0, T.TCGETS, 0) == -E.EFAULT
    assert k.call("ioctl", 0, TCSETS, 0) == -E.EFAULT
    assert k.call("ioctl", 0, T.TIOCSWINSZ, 0) == -E.EFAULT
