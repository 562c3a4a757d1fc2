# The console's tty: a line discipline in the manner of Linux's n_tty over the COM1
# console.  Input bytes come from the UART's receive path (tty_receive); output goes
# through the tty's output processing to the UART.  The vfs's console files
# (/dev/console, /dev/tty, init's fds 0-2) use tty_read/tty_write/tty_poll/tty_ioctl.
#
# Lock: `tty_lock` (a spinlock, rank SPINLOCK_RANK_TTY) protects the termios, the input
# buffer and its indices, the window size, the foreground group and the session.  It is
# taken by the receive interrupt and by the file operations; nothing is called with it
# held but the UART output (echoes) -- wakeups and signals go out after it is released.
# Wait conditions (run under waitq_lock) read single words without it.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from tyn.fs.wakeups cimport io_wakeups

cdef enum:
    TTY_NCCS = 19                   # the kernel's struct termios (NCCS of asm-generic/termbits.h)
    TTY_BUF_SIZE = 4096             # N_TTY_BUF_SIZE
    TTY_DEFAULT_COLS = 80
    TTY_DEFAULT_ROWS = 24
    TTY_MAX_DIMENSION = 65535       # ws_col/ws_row are 16 bits

    # c_cc indices
    VINTR = 0
    VQUIT = 1
    VERASE = 2
    VKILL = 3
    VEOF = 4
    VTIME = 5
    VMIN = 6
    VSWTC = 7
    VSTART = 8
    VSTOP = 9
    VSUSP = 10
    VEOL = 11
    VREPRINT = 12
    VDISCARD = 13
    VWERASE = 14
    VLNEXT = 15
    VEOL2 = 16

    # c_iflag
    IGNBRK = 0o1
    BRKINT = 0o2
    IGNPAR = 0o4
    PARMRK = 0o10
    INPCK = 0o20
    ISTRIP = 0o40
    INLCR = 0o100
    IGNCR = 0o200
    ICRNL = 0o400
    IUCLC = 0o1000
    IXON = 0o2000
    IXANY = 0o4000
    IXOFF = 0o10000
    IMAXBEL = 0o20000
    IUTF8 = 0o40000

    # c_oflag
    OPOST = 0o1
    OLCUC = 0o2
    ONLCR = 0o4
    OCRNL = 0o10
    ONOCR = 0o20
    ONLRET = 0o40
    TABDLY = 0o14000
    XTABS = 0o14000

    # c_cflag
    B38400 = 0o17
    B115200 = 0o10002
    CS8 = 0o60
    CREAD = 0o200
    HUPCL = 0o2000
    CLOCAL = 0o4000

    # c_lflag
    ISIG = 0o1
    ICANON = 0o2
    ECHO = 0o10
    ECHOE = 0o20
    ECHOK = 0o40
    ECHONL = 0o100
    NOFLSH = 0o200
    TOSTOP = 0o400
    ECHOCTL = 0o1000
    ECHOPRT = 0o2000
    ECHOKE = 0o4000
    IEXTEN = 0o100000

    # ioctl requests (asm-generic/ioctls.h); TCGETS and TIOCGWINSZ are in fs/vfs.pxd
    TCSETS = 0x5402
    TCSETSW = 0x5403
    TCSETSF = 0x5404
    TCSBRK = 0x5409
    TCXONC = 0x540A
    TCFLSH = 0x540B
    TIOCSCTTY = 0x540E
    TIOCGPGRP = 0x540F
    TIOCSPGRP = 0x5410
    TIOCOUTQ = 0x5411
    TIOCSWINSZ = 0x5414
    TIOCNOTTY = 0x5422
    TCSBRKP = 0x5425
    TIOCGSID = 0x5429

    # tcflush / tcflow arguments
    TCIFLUSH = 0
    TCOFLUSH = 1
    TCIOFLUSH = 2
    TCOOFF = 0
    TCOON = 1
    TCIOFF = 2
    TCION = 3

    # signals the tty raises (Linux x86_64 numbers)
    TTY_SIGINT = 2
    TTY_SIGQUIT = 3
    TTY_SIGTSTP = 20
    TTY_SIGWINCH = 28

# Linux's struct termios as TCGETS/TCSETS copy it (36 bytes; musl's is this plus more).
cdef struct tty_termios:
    uint32_t c_iflag
    uint32_t c_oflag
    uint32_t c_cflag
    uint32_t c_lflag
    uint8_t c_line
    uint8_t c_cc[TTY_NCCS]

cdef struct tty_winsize:
    uint16_t ws_row
    uint16_t ws_col
    uint16_t ws_xpixel
    uint16_t ws_ypixel

# Where the tty's processed output goes (the UART; tests may capture it).
ctypedef void (*tty_output_fn)(const char *buf, size_t n) noexcept nogil
# Deliver sig to every process of group pgid (the tty's signals: ISIG, SIGWINCH).
ctypedef int (*tty_signal_fn)(int pgid, int sig) noexcept nogil

# Set up the console tty: Linux's default termios for a serial console, the window size
# (cols x rows; 0 means the 80x24 default), and where output goes.  Foreground group and
# session start as the first process's (pid 1).
cdef extern void tty_init(tty_output_fn output, uint16_t cols, uint16_t rows) noexcept nogil
# Who receives the tty's signals (default: sys/signal's process_signal_group; host tests
# record them instead).
cdef extern void tty_set_signal_fn(tty_signal_fn fn) noexcept nogil
# Bytes from the UART (interrupt or polled receive): the line discipline takes them in,
# echoes, raises signals, wakes readers.
cdef extern void tty_receive(const uint8_t *buf, size_t n) noexcept nogil
# The console files' operations.
cdef extern int64_t tty_read(uint64_t buf, uint64_t count, bint nonblock, bint user) noexcept nogil
cdef extern int64_t tty_write(uint64_t buf, uint64_t count, bint nonblock, bint user) noexcept nogil
cdef extern uint32_t tty_poll() noexcept nogil
cdef extern int64_t tty_ioctl(uint64_t cmd, uint64_t arg) noexcept nogil
cdef extern io_wakeups *tty_wakeups() noexcept nogil
# Input bytes dropped because the buffer was full.
cdef extern uint64_t tty_dropped() noexcept nogil
