# The console tty's line discipline (see tty.pxd), after Linux's drivers/tty/n_tty.c:
# input processing (ICRNL & co., IXON), the canonical line editor (ERASE, KILL, WERASE,
# LNEXT, REPRINT, EOF), echo (ECHO, ECHOE, ECHOK, ECHOKE, ECHOCTL, ECHONL), ISIG, the
# non-canonical VMIN/VTIME reads, and output processing (OPOST: ONLCR, OCRNL, ONOCR,
# ONLRET, XTABS).  Not done: PARMRK/INPCK (the UART reports no parity errors), IUCLC/
# OLCUC, IXOFF (the UART has no flow control), job control (SIGTTIN/SIGTTOU for a
# background group; the console has one foreground group in practice).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.arch.uaccess cimport copy_to_user, copy_from_user
from tyn.arch.tsc cimport monotonic_ns
from tyn.lib.spinlock cimport spinlock, spinlock_init, spinlock_acquire, spinlock_release, SPINLOCK_RANK_TTY
from tyn.proc.waitq cimport waitq_lock, waitq_unlock, waitq_sleep, io_waitq, io_notify
from tyn.proc.task cimport process, thread, WAKE_INTERRUPTED, WAKE_TIMEOUT
from tyn.proc.process cimport process_for_each
from tyn.proc.sched cimport sched_current
from tyn.sys.signal cimport process_signal_group
from tyn.fs.wakeups cimport io_wakeups, io_wakeups_init, io_wake_in, io_wake_out
from tyn.fs.vfs cimport TCGETS, TIOCGWINSZ, FIONREAD, POLLIN, POLLRDNORM, POLLOUT, POLLWRNORM
from tyn.sys.errno cimport *

cdef enum:
    CHUNK = 256
    TAB_STOP = 8
    DECISECOND_NS = 100000000
    ASCII_DEL = 0x7f
    ASCII_SPACE = 0x20
    CTRL_ECHO_BIT = 0x40            # ^C is shown as '^' and 'C' = 0x03 ^ 0x40
    POSIX_VDISABLE = 0              # a c_cc entry of 0 is switched off
    # per-byte flags of the input buffer
    BYTE_ENDS_LINE = 1              # '\n', EOL, EOL2 or EOF: a canonical read stops after it
    BYTE_IS_EOF = 2                 # the EOF placeholder: ends the line, never delivered

cdef struct tty_state:
    spinlock lock
    tty_termios termios
    tty_winsize winsize
    int pgrp                        # foreground process group
    int session                     # the session this is the controlling tty of (0: none)
    uint8_t buf[TTY_BUF_SIZE]
    uint8_t flags[TTY_BUF_SIZE]
    uint32_t read_head              # next byte a reader takes
    uint32_t canon_head             # bytes before it may be read in canonical mode
    uint32_t read_tail              # end of what was received
    uint32_t column                 # output column (tabs, erase, ONOCR)
    uint32_t canon_column           # column where the line being edited started
    bint lnext                      # the next byte is taken literally
    bint stopped                    # output stopped (IXON STOP, TCOOFF)
    uint64_t dropped
    tty_output_fn output
    tty_signal_fn signal
    io_wakeups wakeups

cdef tty_state tty

cdef process *caller() noexcept nogil:
    cdef thread *t = sched_current()
    return t.proc if t != NULL else NULL

cdef inline tty_termios *tio() noexcept nogil:
    return &tty.termios

cdef inline bint lflag(uint32_t f) noexcept nogil:
    return (tty.termios.c_lflag & f) != 0

cdef inline bint iflag(uint32_t f) noexcept nogil:
    return (tty.termios.c_iflag & f) != 0

cdef inline bint oflag(uint32_t f) noexcept nogil:
    return (tty.termios.c_oflag & f) != 0

cdef inline bint is_cc(uint8_t c, int index) noexcept nogil:
    return tty.termios.c_cc[index] != POSIX_VDISABLE and c == tty.termios.c_cc[index]

# ------------------------------------------------------------------ setup

cdef void default_termios(tty_termios *t) noexcept nogil:
    # Linux's tty_std_termios with a serial console's c_cflag (115200 8N1, CLOCAL).
    memset(t, 0, sizeof(tty_termios))
    t.c_iflag = ICRNL | IXON
    t.c_oflag = OPOST | ONLCR
    t.c_cflag = B115200 | CS8 | CREAD | HUPCL | CLOCAL
    t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN
    t.c_cc[VINTR] = 3           # ^C
    t.c_cc[VQUIT] = 28          # ^\
    t.c_cc[VERASE] = ASCII_DEL
    t.c_cc[VKILL] = 21          # ^U
    t.c_cc[VEOF] = 4            # ^D
    t.c_cc[VTIME] = 0
    t.c_cc[VMIN] = 1
    t.c_cc[VSTART] = 17         # ^Q
    t.c_cc[VSTOP] = 19          # ^S
    t.c_cc[VSUSP] = 26          # ^Z
    t.c_cc[VREPRINT] = 18       # ^R
    t.c_cc[VDISCARD] = 15       # ^O
    t.c_cc[VWERASE] = 23        # ^W
    t.c_cc[VLNEXT] = 22         # ^V

cdef void tty_init(tty_output_fn output, uint16_t cols, uint16_t rows) noexcept nogil:
    memset(&tty, 0, sizeof(tty_state))
    spinlock_init(&tty.lock, b"tty", SPINLOCK_RANK_TTY)
    default_termios(&tty.termios)
    tty.winsize.ws_col = cols if cols != 0 else TTY_DEFAULT_COLS
    tty.winsize.ws_row = rows if rows != 0 else TTY_DEFAULT_ROWS
    tty.pgrp = 1                # the console belongs to init's session and group
    tty.session = 1
    tty.output = output
    tty.signal = process_signal_group
    io_wakeups_init(&tty.wakeups, POLLIN | POLLRDNORM, POLLOUT | POLLWRNORM)

cdef void tty_set_signal_fn(tty_signal_fn fn) noexcept nogil:
    tty.signal = fn

cdef io_wakeups *tty_wakeups() noexcept nogil:
    return &tty.wakeups

cdef uint64_t tty_dropped() noexcept nogil:
    return tty.dropped

# ------------------------------------------------------------------ output processing

cdef inline void out_raw(const char *s, size_t n) noexcept nogil:
    if tty.output != NULL:
        tty.output(s, n)

cdef uint32_t process_output(const uint8_t *src, uint32_t n, char *dst) noexcept nogil:
    """OPOST processing of n bytes into dst (room for 8 n); bytes written.  Updates the column."""
    cdef uint32_t i, k = 0, spaces
    cdef uint8_t c
    if not oflag(OPOST):
        memcpy(dst, src, n)
        for i in range(n):
            c = src[i]
            if c == b'\n' or c == b'\r':
                tty.column = 0
            elif c == b'\b':
                if tty.column > 0:
                    tty.column -= 1
            elif c >= ASCII_SPACE and c != ASCII_DEL:
                tty.column += 1
        return n
    for i in range(n):
        c = src[i]
        if c == b'\n':
            if oflag(ONLRET):
                tty.column = 0
            if oflag(ONLCR):
                dst[k] = b'\r'
                k += 1
                tty.column = 0
            dst[k] = b'\n'
            k += 1
        elif c == b'\r':
            if oflag(ONOCR) and tty.column == 0:
                continue
            if oflag(OCRNL):
                dst[k] = b'\n'
                k += 1
                if oflag(ONLRET):
                    tty.column = 0
                continue
            tty.column = 0
            dst[k] = b'\r'
            k += 1
        elif c == b'\t':
            spaces = TAB_STOP - (tty.column % TAB_STOP)
            if (tty.termios.c_oflag & TABDLY) == XTABS:
                tty.column += spaces
                while spaces > 0:
                    dst[k] = b' '
                    k += 1
                    spaces -= 1
                continue
            tty.column += spaces
            dst[k] = b'\t'
            k += 1
        elif c == b'\b':
            if tty.column > 0:
                tty.column -= 1
            dst[k] = <char>c
            k += 1
        else:
            if c >= ASCII_SPACE and c != ASCII_DEL:
                tty.column += 1
            dst[k] = <char>c
            k += 1
    return k

cdef void echo_bytes(const char *s, uint32_t n) noexcept nogil:
    cdef char out[64]
    cdef uint32_t k
    if n > 8:
        n = 8
    k = process_output(<const uint8_t *>s, n, out)
    out_raw(out, k)

cdef inline bint echoed_as_ctl(uint8_t c) noexcept nogil:
    return lflag(ECHOCTL) and (c < ASCII_SPACE or c == ASCII_DEL) and c != b'\t' and c != b'\n'

cdef void echo_char(uint8_t c) noexcept nogil:
    cdef char two[2]
    if echoed_as_ctl(c):
        two[0] = b'^'
        two[1] = <char>(c ^ CTRL_ECHO_BIT)
        echo_bytes(two, 2)
    else:
        two[0] = <char>c
        echo_bytes(two, 1)

# ------------------------------------------------------------------ input processing

cdef inline uint32_t held() noexcept nogil:
    return tty.read_tail - tty.read_head

cdef inline uint32_t at(uint32_t index) noexcept nogil:
    return index % TTY_BUF_SIZE

cdef bint put_byte(uint8_t c, uint8_t flags) noexcept nogil:
    """Append to the input buffer; a full buffer drops and counts (canonical mode keeps its
    last slot for a byte that ends the line, so a line can always be finished)."""
    cdef uint32_t room = TTY_BUF_SIZE - held()
    if room == 0 or (room == 1 and lflag(ICANON) and not (flags & BYTE_ENDS_LINE)):
        tty.dropped += 1
        return False
    tty.buf[at(tty.read_tail)] = c
    tty.flags[at(tty.read_tail)] = flags
    tty.read_tail += 1
    return True

cdef void commit_line() noexcept nogil:
    tty.canon_head = tty.read_tail
    tty.canon_column = tty.column
    io_wake_in(&tty.wakeups)

cdef uint32_t erase_width(uint32_t index) noexcept nogil:
    """How many columns the echo of the byte at index took."""
    cdef uint8_t c = tty.buf[at(index)]
    cdef uint32_t i, col
    if c == b'\t':
        # The column after the tab, replayed from the start of the line.
        col = tty.canon_column
        i = tty.canon_head
        while i != index:
            c = tty.buf[at(i)]
            if c == b'\t':
                col += TAB_STOP - (col % TAB_STOP)
            elif echoed_as_ctl(c):
                col += 2
            elif c >= ASCII_SPACE and c != ASCII_DEL:
                col += 1
            i += 1
        return tty.column - col if tty.column > col else 0
    if echoed_as_ctl(c):
        return 2
    if c < ASCII_SPACE or c == ASCII_DEL:
        return 0
    return 1

cdef void erase_one_echo(uint32_t index) noexcept nogil:
    cdef uint32_t w = erase_width(index)
    while w > 0:
        echo_bytes(b"\b \b", 3)
        w -= 1

cdef inline bint is_word_char(uint8_t c) noexcept nogil:
    return (c >= b'0' and c <= b'9') or (c >= b'a' and c <= b'z') or (c >= b'A' and c <= b'Z') or c == b'_'

cdef void eraser(uint8_t c) noexcept nogil:
    """ERASE, WERASE or KILL on the line being edited (n_tty's eraser)."""
    cdef bint kill = is_cc(c, VKILL)
    cdef bint word = not kill and is_cc(c, VWERASE)
    cdef bint seen_word = False
    cdef uint8_t prev
    if tty.read_tail == tty.canon_head:
        return
    if kill and lflag(ECHO) and not (lflag(ECHOE) and lflag(ECHOKE)):
        tty.read_tail = tty.canon_head     # KILL echoed as the character (and a newline)
        echo_char(c)
        if lflag(ECHOK):
            echo_bytes(b"\n", 1)
        return
    while tty.read_tail != tty.canon_head:
        prev = tty.buf[at(tty.read_tail - 1)]
        if word:
            if is_word_char(prev):
                seen_word = True
            elif seen_word:
                break
        if lflag(ECHO):
            if lflag(ECHOE) or kill or word:
                erase_one_echo(tty.read_tail - 1)
            else:
                echo_char(tty.termios.c_cc[VERASE])
        tty.read_tail -= 1
        if not kill and not word:
            break

cdef void reprint_line() noexcept nogil:
    cdef uint32_t i = tty.canon_head
    echo_char(tty.termios.c_cc[VREPRINT])
    echo_bytes(b"\n", 1)
    while i != tty.read_tail:
        echo_char(tty.buf[at(i)])
        i += 1

cdef void flush_input() noexcept nogil:
    tty.read_head = tty.read_tail
    tty.canon_head = tty.read_tail
    tty.lnext = False

cdef int signal_char(uint8_t c) noexcept nogil:
    """The signal an ISIG character raises, or 0."""
    if is_cc(c, VINTR):
        return TTY_SIGINT
    if is_cc(c, VQUIT):
        return TTY_SIGQUIT
    if is_cc(c, VSUSP):
        return TTY_SIGTSTP
    return 0

cdef int receive_char(uint8_t c, bint *wake_writers) noexcept nogil:
    """One received byte through the line discipline (tty_lock held); a signal to raise or 0."""
    cdef int sig
    if tty.lnext:
        tty.lnext = False
        if lflag(ECHO):
            echo_bytes(b"\b", 1)            # over the '^' shown for LNEXT
            echo_char(c)
        put_byte(c, 0)
        if not lflag(ICANON):
            commit_line()
        return 0
    if iflag(ISTRIP):
        c &= 0x7f
    if iflag(IXON):
        if is_cc(c, VSTOP):
            tty.stopped = True
            return 0
        if is_cc(c, VSTART):
            if tty.stopped:
                tty.stopped = False
                wake_writers[0] = True
            return 0
        if tty.stopped and iflag(IXANY):
            tty.stopped = False
            wake_writers[0] = True
    if lflag(ISIG):
        sig = signal_char(c)
        if sig != 0:
            if not lflag(NOFLSH):
                flush_input()
            if tty.stopped:
                tty.stopped = False
                wake_writers[0] = True
            if lflag(ECHO):
                echo_char(c)
            tty.canon_column = tty.column
            return sig
    if c == b'\r':
        if iflag(IGNCR):
            return 0
        if iflag(ICRNL):
            c = b'\n'
    elif c == b'\n' and iflag(INLCR):
        c = b'\r'
    if lflag(ICANON):
        if is_cc(c, VERASE) or is_cc(c, VKILL) or (is_cc(c, VWERASE) and lflag(IEXTEN)):
            eraser(c)
            return 0
        if is_cc(c, VLNEXT) and lflag(IEXTEN):
            tty.lnext = True
            if lflag(ECHO):
                echo_bytes(b"^\b", 2)
            return 0
        if is_cc(c, VREPRINT) and lflag(ECHO) and lflag(IEXTEN):
            reprint_line()
            return 0
        if c == b'\n':
            if lflag(ECHO) or lflag(ECHONL):
                echo_bytes(b"\n", 1)
            if put_byte(c, BYTE_ENDS_LINE):
                commit_line()
            return 0
        if is_cc(c, VEOF):
            if put_byte(0, BYTE_ENDS_LINE | BYTE_IS_EOF):
                commit_line()
            return 0
        if is_cc(c, VEOL) or (is_cc(c, VEOL2) and lflag(IEXTEN)):
            if lflag(ECHO):
                echo_char(c)
            if put_byte(c, BYTE_ENDS_LINE):
                commit_line()
            return 0
    if lflag(ECHO):
        echo_char(c)
    elif lflag(ECHONL) and c == b'\n':
        echo_bytes(b"\n", 1)
    put_byte(c, 0)
    if not lflag(ICANON):
        commit_line()
    return 0

cdef void raise_signal(int sig) noexcept nogil:
    if tty.signal != NULL and tty.pgrp > 0:
        tty.signal(tty.pgrp, sig)

cdef void tty_receive(const uint8_t *buf, size_t n) noexcept nogil:
    cdef size_t i
    cdef int sig
    cdef int sigs[CHUNK]
    cdef uint32_t nsig = 0, j
    cdef bint wake_writers = False
    cdef uint64_t flags
    while n > 0:
        flags = spinlock_acquire(&tty.lock)
        nsig = 0
        i = 0
        while i < n and nsig < CHUNK:
            sig = receive_char(buf[i], &wake_writers)
            if sig != 0:
                sigs[nsig] = sig
                nsig += 1
            i += 1
        spinlock_release(&tty.lock, flags)
        for j in range(nsig):
            raise_signal(sigs[j])
        buf += i
        n -= i
    if wake_writers:
        io_wake_out(&tty.wakeups)
    io_notify()

# ------------------------------------------------------------------ reading

cdef bint canon_readable() noexcept nogil:
    return tty.canon_head != tty.read_head

cdef uint32_t raw_wanted() noexcept nogil:
    """Bytes that make a non-canonical tty readable for poll (n_tty's input_available_p)."""
    cdef uint8_t vmin = tty.termios.c_cc[VMIN]
    if vmin != 0 and tty.termios.c_cc[VTIME] == 0:
        return vmin
    return 1

cdef bint readable_now() noexcept nogil:
    if tty.termios.c_lflag & ICANON:
        return canon_readable()
    return tty.read_tail != tty.read_head

cdef uint32_t take_canon(uint8_t *dst, uint32_t room, bint *line_done) noexcept nogil:
    """Up to room bytes of the first line (tty_lock held); stops after the line's end."""
    cdef uint32_t k = 0
    cdef uint8_t fl
    line_done[0] = False
    while k < room and tty.read_head != tty.canon_head:
        fl = tty.flags[at(tty.read_head)]
        if fl & BYTE_IS_EOF:
            tty.read_head += 1
            line_done[0] = True
            break
        dst[k] = tty.buf[at(tty.read_head)]
        k += 1
        tty.read_head += 1
        if fl & BYTE_ENDS_LINE:
            line_done[0] = True
            break
    return k

cdef uint32_t take_raw(uint8_t *dst, uint32_t room) noexcept nogil:
    cdef uint32_t k = 0
    while k < room and tty.read_head != tty.read_tail:
        dst[k] = tty.buf[at(tty.read_head)]
        tty.flags[at(tty.read_head)] = 0
        k += 1
        tty.read_head += 1
    if tty.canon_head - tty.read_head > TTY_BUF_SIZE:    # canon_head fell behind read_head
        tty.canon_head = tty.read_head
    return k

cdef inline int64_t copy_out(uint64_t dst, const void *src, uint64_t n, bint user) noexcept nogil:
    if user:
        return copy_to_user(dst, src, n)
    memcpy(<void *>dst, src, n)
    return 0

cdef int wait_input(uint64_t deadline_ns) noexcept nogil:
    """Sleep until input is readable or the deadline (0: none); a WAKE_* reason."""
    cdef uint64_t flags = waitq_lock()
    cdef int reason = 0
    while not readable_now():
        reason = waitq_sleep(io_waitq(), deadline_ns)
        if reason != 0:
            break
    waitq_unlock(flags)
    return reason

cdef uint32_t take(uint8_t *dst, uint64_t room, bint canon, bint *line_done) noexcept nogil:
    cdef uint64_t flags = spinlock_acquire(&tty.lock)
    cdef uint32_t k
    if room > CHUNK:
        room = CHUNK
    line_done[0] = False
    if canon:
        k = take_canon(dst, <uint32_t>room, line_done)
    else:
        k = take_raw(dst, <uint32_t>room)
    spinlock_release(&tty.lock, flags)
    return k

cdef int64_t tty_read(uint64_t buf, uint64_t count, bint nonblock, bint user) noexcept nogil:
    """n_tty_read: canonical reads return one line (or what a mode change pushed);
    non-canonical ones follow VMIN/VTIME as POSIX describes them."""
    cdef uint8_t tmp[CHUNK]
    cdef uint64_t done = 0, deadline = 0, target
    cdef uint32_t k, vmin, vtime
    cdef bint line_done = False, canon
    cdef int reason
    if count == 0:
        return 0
    while True:
        canon = (tty.termios.c_lflag & ICANON) != 0
        vmin = tty.termios.c_cc[VMIN]
        vtime = tty.termios.c_cc[VTIME]
        k = take(tmp, count - done, canon, &line_done)
        if k > 0:
            if copy_out(buf + done, tmp, k, user) < 0:
                return <int64_t>done if done > 0 else -EFAULT
            done += k
        if done == count:
            return <int64_t>done
        if canon:
            if line_done:
                return <int64_t>done
            if k > 0:
                if canon_readable():
                    continue            # the rest of a long line
                return <int64_t>done    # what a mode change pushed, without a line end
        else:
            if k > 0 and tty.read_head != tty.read_tail:
                continue
            target = vmin if vmin < count else count
            if vmin == 0 and (vtime == 0 or done > 0):
                return <int64_t>done
            if vmin != 0 and done >= target:
                return <int64_t>done
            if vtime != 0:
                if vmin == 0 and deadline == 0:
                    deadline = monotonic_ns() + <uint64_t>vtime * DECISECOND_NS     # the whole wait
                elif vmin != 0 and k > 0:
                    deadline = monotonic_ns() + <uint64_t>vtime * DECISECOND_NS     # the gap after a byte
        if nonblock:
            return <int64_t>done if done > 0 else -EAGAIN
        reason = wait_input(deadline)
        if reason == WAKE_TIMEOUT:
            k = take(tmp, count - done, False, &line_done) if not canon else 0
            if k > 0:
                if copy_out(buf + done, tmp, k, user) < 0:
                    return <int64_t>done if done > 0 else -EFAULT
                done += k
            return <int64_t>done
        if reason == WAKE_INTERRUPTED:
            return <int64_t>done if done > 0 else -ERESTARTSYS

# ------------------------------------------------------------------ writing

cdef bint output_running(void *unused) noexcept nogil:
    return not tty.stopped

cdef int64_t tty_write(uint64_t buf, uint64_t count, bint nonblock, bint user) noexcept nogil:
    cdef uint8_t src[CHUNK]
    cdef char out[CHUNK * 2 + TAB_STOP * CHUNK]
    cdef uint64_t done = 0, chunk, flags
    cdef uint32_t k
    cdef int reason
    while done < count:
        if tty.stopped:
            if done > 0:
                return <int64_t>done
            if nonblock:
                return -EAGAIN
            flags = waitq_lock()
            reason = 0
            while tty.stopped:
                reason = waitq_sleep(io_waitq(), 0)
                if reason != 0:
                    break
            waitq_unlock(flags)
            if reason != 0:
                return -ERESTARTSYS
        chunk = count - done
        if chunk > CHUNK:
            chunk = CHUNK
        if user:
            if copy_from_user(src, buf + done, chunk) < 0:
                return <int64_t>done if done > 0 else -EFAULT
        else:
            memcpy(src, <const void *>(buf + done), chunk)
        flags = spinlock_acquire(&tty.lock)
        k = process_output(src, <uint32_t>chunk, out)
        out_raw(out, k)
        spinlock_release(&tty.lock, flags)
        done += chunk
    return <int64_t>done

cdef uint32_t tty_poll() noexcept nogil:
    cdef uint32_t mask = 0
    if tty.termios.c_lflag & ICANON:
        if canon_readable():
            mask |= POLLIN | POLLRDNORM
    elif tty.read_tail - tty.read_head >= raw_wanted():
        mask |= POLLIN | POLLRDNORM
    if not tty.stopped:
        mask |= POLLOUT | POLLWRNORM
    return mask

# ------------------------------------------------------------------ ioctl

cdef void set_termios(const tty_termios *t) noexcept nogil:
    """Apply new settings (tty_lock held); a change of ICANON makes everything typed so far
    readable, as n_tty_set_termios does."""
    cdef bint was_canon = lflag(ICANON)
    memcpy(&tty.termios, t, sizeof(tty_termios))
    if was_canon != lflag(ICANON):
        tty.canon_head = tty.read_tail
        tty.canon_column = tty.column
        tty.lnext = False
    if not iflag(IXON) and tty.stopped:
        tty.stopped = False

cdef struct process_match:
    int pgrp                            # the group to find (and, with sid >= 0, its session)
    int sid
    int pid                             # or a process with this pid (pid_exists)
    bint found

cdef void match_process(process *p, void *ctx) noexcept nogil:
    cdef process_match *m = <process_match *>ctx
    if p.exiting:
        return
    if m.sid >= 0:
        if p.pgid == m.pgrp and p.sid == m.sid:
            m.found = True
    elif p.pid == m.pid or p.pgid == m.pgrp:
        m.found = True

cdef bint group_in_session(int pgrp, int sid) noexcept nogil:
    cdef process_match m
    m.pgrp, m.sid, m.pid, m.found = pgrp, sid, 0, False
    process_for_each(match_process, &m)
    return m.found

cdef bint pid_exists(int nr) noexcept nogil:
    """Whether nr names a live process or process group (Linux's find_vpid)."""
    cdef process_match m
    m.pgrp, m.sid, m.pid, m.found = nr, -1, nr, False
    process_for_each(match_process, &m)
    return m.found

cdef int64_t tty_ioctl(uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef tty_termios t
    cdef tty_winsize ws
    cdef uint64_t flags
    cdef int v
    cdef bint changed, wake = False
    cdef process *me
    cdef uint32_t c = <uint32_t>cmd
    if c == TCGETS:
        flags = spinlock_acquire(&tty.lock)
        memcpy(&t, &tty.termios, sizeof(tty_termios))
        spinlock_release(&tty.lock, flags)
        return copy_to_user(arg, &t, sizeof(tty_termios))
    if c == TCSETS or c == TCSETSW or c == TCSETSF:
        if copy_from_user(&t, arg, sizeof(tty_termios)) < 0:
            return -EFAULT
        # TCSETSW/TCSETSF wait for output to drain: it is written synchronously, so it has.
        flags = spinlock_acquire(&tty.lock)
        if c == TCSETSF:
            flush_input()
        set_termios(&t)
        spinlock_release(&tty.lock, flags)
        io_wake_out(&tty.wakeups)
        io_notify()
        return 0
    if c == TIOCGWINSZ:
        flags = spinlock_acquire(&tty.lock)
        memcpy(&ws, &tty.winsize, sizeof(tty_winsize))
        spinlock_release(&tty.lock, flags)
        return copy_to_user(arg, &ws, sizeof(tty_winsize))
    if c == TIOCSWINSZ:
        if copy_from_user(&ws, arg, sizeof(tty_winsize)) < 0:
            return -EFAULT
        flags = spinlock_acquire(&tty.lock)
        changed = (ws.ws_row != tty.winsize.ws_row or ws.ws_col != tty.winsize.ws_col or
                   ws.ws_xpixel != tty.winsize.ws_xpixel or ws.ws_ypixel != tty.winsize.ws_ypixel)
        memcpy(&tty.winsize, &ws, sizeof(tty_winsize))
        spinlock_release(&tty.lock, flags)
        if changed:
            raise_signal(TTY_SIGWINCH)
        return 0
    if c == FIONREAD:
        flags = spinlock_acquire(&tty.lock)
        if lflag(ICANON):
            v = <int>inq_canon()
        else:
            v = <int>(tty.read_tail - tty.read_head)
        spinlock_release(&tty.lock, flags)
        return copy_to_user(arg, &v, sizeof(int))
    if c == TIOCOUTQ:
        v = 0                           # output is written synchronously: nothing queued
        return copy_to_user(arg, &v, sizeof(int))
    if c == TIOCGPGRP or c == TIOCGSID:
        me = caller()
        if me == NULL:
            return -ENOTTY
        if tty.session == 0 or me.sid != tty.session:
            return -ENOTTY
        v = tty.pgrp if c == TIOCGPGRP else tty.session
        return copy_to_user(arg, &v, sizeof(int))
    if c == TIOCSPGRP:
        me = caller()
        if me == NULL:
            return -ENOTTY
        if copy_from_user(&v, arg, sizeof(int)) < 0:
            return -EFAULT
        if tty.session == 0 or me.sid != tty.session:
            return -ENOTTY
        if v < 0:
            return -EINVAL
        if not pid_exists(v):
            return -ESRCH
        if not group_in_session(v, me.sid):
            return -EPERM
        flags = spinlock_acquire(&tty.lock)
        tty.pgrp = v
        spinlock_release(&tty.lock, flags)
        return 0
    if c == TIOCSCTTY:
        me = caller()
        if me == NULL:
            return -ENOTTY
        if tty.session == me.sid:
            return 0
        if me.sid != me.pid:
            return -EPERM               # only a session leader acquires a controlling tty
        if tty.session != 0 and group_in_session(tty.pgrp, tty.session) and arg != 1:
            return -EPERM               # another session's (stealing needs CAP_SYS_ADMIN and arg 1)
        flags = spinlock_acquire(&tty.lock)
        tty.session = me.sid
        tty.pgrp = me.pgid
        spinlock_release(&tty.lock, flags)
        return 0
    if c == TIOCNOTTY:
        me = caller()
        if me == NULL:
            return -ENOTTY
        if tty.session == 0 or me.sid != tty.session:
            return -ENOTTY
        if me.sid == me.pid:            # the session leader gives it up for the session
            flags = spinlock_acquire(&tty.lock)
            tty.session = 0
            tty.pgrp = 0
            spinlock_release(&tty.lock, flags)
        return 0
    if c == TCFLSH:
        if arg != TCIFLUSH and arg != TCOFLUSH and arg != TCIOFLUSH:
            return -EINVAL
        if arg != TCOFLUSH:
            flags = spinlock_acquire(&tty.lock)
            flush_input()
            spinlock_release(&tty.lock, flags)
        return 0                        # output: nothing is queued to flush
    if c == TCXONC:
        if arg == TCOOFF or arg == TCOON:
            flags = spinlock_acquire(&tty.lock)
            wake = arg == TCOON and tty.stopped
            tty.stopped = arg == TCOOFF
            spinlock_release(&tty.lock, flags)
        elif arg == TCIOFF or arg == TCION:
            flags = spinlock_acquire(&tty.lock)
            v = tty.termios.c_cc[VSTOP if arg == TCIOFF else VSTART]
            if v != POSIX_VDISABLE:
                t.c_cc[0] = <uint8_t>v
                out_raw(<const char *>t.c_cc, 1)
            spinlock_release(&tty.lock, flags)
        else:
            return -EINVAL
        if wake:
            io_wake_out(&tty.wakeups)
            io_notify()
        return 0
    if c == TCSBRK or c == TCSBRKP:
        return 0                        # drained already (synchronous output); no break on the UART
    return -ENOTTY

cdef uint32_t inq_canon() noexcept nogil:
    """FIONREAD in canonical mode: the bytes of complete lines (EOF markers not counted)."""
    cdef uint32_t i = tty.read_head, n = 0
    while i != tty.canon_head:
        if not (tty.flags[at(i)] & BYTE_IS_EOF):
            n += 1
        i += 1
    return n
