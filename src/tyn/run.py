"""python -m tyn.run IMAGE [options] [-- QEMU-ARGS...]: boot a Tyn image under QEMU.

The serial console is this process's stdout and stdin; the exit status is the guest's.
See `--help` (the epilog lists the exit statuses) and tyn.qemu for the protocol.
"""

from __future__ import annotations

import argparse
import os
import selectors
import shlex
import signal
import subprocess
import sys
import time

from tyn import qemu

PROG = "python -m tyn.run"
TAIL_BYTES = 64 * 1024          # console bytes kept for the `tyn: exit status N` line

EPILOG = f"""\
exit status:
  0-125   the guest's exit status (isa-debug-exit protocol, src/tyn/arch/power.pxd)
  N&255   a guest status N above 125 (the guest prints `tyn: exit status N`)
  127     kernel panic ("tyn.run: kernel panic" on stderr)
  {qemu.EXIT_BAD_INPUT}     bad input: missing/invalid image, bad option, QEMU not installed, no KVM for --accel kvm
  {qemu.EXIT_QEMU_FAILED}     QEMU failed to start (its message is on stderr)
  {qemu.EXIT_INTERRUPTED}     interrupted (Ctrl-C, SIGTERM, SIGHUP): QEMU was stopped
  {qemu.EXIT_NO_GUEST_STATUS}     QEMU exited without a guest status: even QEMU status (e.g. 0 after a triple
          fault under -no-reboot) or QEMU killed by a signal
  {qemu.EXIT_PROTOCOL}     the guest reported 126 but printed no `tyn: exit status N` line
A status tyn.run chose itself always comes with a "tyn.run: error: ..." line on stderr.

stdin is forwarded to the guest's serial port; for scripts use `</dev/null`.

the terminal:
  When stdin is a terminal, tyn.run owns it while QEMU runs and restores it on every
  exit: no echo or line editing of its own (the guest's tty does that), no output
  processing (the guest sends CR LF).  An interactive image (`tyn.build image --shell`;
  --interactive forces it) gets the terminal raw: Ctrl-C, Ctrl-Z, Ctrl-\\ go to the guest,
  and the escape is Ctrl-] followed by
      x or q   stop QEMU (status 130)
      Ctrl-]   send Ctrl-] itself
  Other images keep Ctrl-C for tyn.run (it stops QEMU).  The guest's console size is the
  terminal's (tty_cols=/tty_rows= on the kernel command line), 80x24 otherwise.
"""


# While tyn.run's terminal has no output processing (run_qemu), a line on stderr needs its CR.
_stderr_newline = "\n"


def say(msg: str) -> None:
    print(f"tyn.run: {msg}", file=sys.stderr, end=_stderr_newline, flush=True)


class _Parser(argparse.ArgumentParser):
    def error(self, message):                    # one line, our status for bad input
        self.exit(qemu.EXIT_BAD_INPUT, f"tyn.run: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= n <= 255:
        raise argparse.ArgumentTypeError(f"{n} is not in 1..255")
    return n


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog=PROG, description="Boot a Tyn image (32-bit multiboot ELF) under QEMU with the "
                 "serial console on stdin/stdout; exit with the guest's exit status. "
                 "Arguments after `--` go to QEMU unchanged.",
                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image", help="bootable image, e.g. build/tyn.elf")
    ap.add_argument("--accel", choices=qemu.ACCELS, default="auto",
                    help="auto (default): KVM when /dev/kvm works here and is not PVM, else TCG")
    ap.add_argument("--machine", "-M", choices=qemu.MACHINES, default="microvm",
                    help="QEMU machine (default microvm: fastest boot)")
    ap.add_argument("--firmware", choices=qemu.FIRMWARES, default="qboot",
                    help="pc/q35 firmware: qboot (default, fast) or seabios (QEMU's default BIOS)")
    ap.add_argument("--smp", type=_positive_int, default=1, metavar="N", help="CPUs (default 1)")
    ap.add_argument("-m", "--memory", default="512M", metavar="MEM", help="guest RAM (default 512M)")
    ap.add_argument("--append", metavar="CMDLINE", help="kernel command line")
    ap.add_argument("--net", default="user", metavar="BACKEND",
                    help="the NIC's QEMU backend (a virtio-net device on every machine: virtio-mmio "
                         f"on microvm, PCI on pc/q35): {qemu.NET_HELP}")
    ap.add_argument("--mac", metavar="MAC", help="the NIC's MAC address (default QEMU's 52:54:00:12:34:56)")
    ap.add_argument("-p", "--publish", action="append", default=[], metavar="HOST:GUEST",
                    help="forward host TCP port HOST to guest port GUEST (--net user)")
    ap.add_argument("--no-rng", dest="rng", action="store_false",
                    help="no virtio-rng device (the kernel then seeds its generator from RDSEED/RDRAND "
                         "and timing jitter only)")
    ap.add_argument("--gdb", action="store_true",
                    help=f"gdb stub on :{qemu.GDB_PORT}, CPU stopped until gdb continues (-s -S)")
    ap.add_argument("--interactive", action=argparse.BooleanOptionalAction, default=None,
                    help="raw terminal, Ctrl-C to the guest, Ctrl-] x quits (default: what the "
                         "image asks for; `tyn.build image --shell` images do)")
    ap.add_argument("--dry-run", action="store_true", help="print the QEMU command and exit")
    ap.add_argument("-q", "--quiet", action="store_true", help="no 'tyn.run: accel=...' line")
    return ap


def config_from_args(argv: list[str]) -> tuple[argparse.Namespace, qemu.Config]:
    """Parse argv (raises SystemExit on usage errors, qemu.InputError on bad values)."""
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    args = parser().parse_args(argv)
    image = qemu.check_image(args.image)
    memory = qemu.parse_memory(args.memory)
    forwards = [qemu.parse_port_forward(p) for p in args.publish]
    hosts = [h for h, _ in forwards]
    dup = {h for h in hosts if hosts.count(h) > 1}
    if dup:
        raise qemu.InputError(f"host port {min(dup)} is forwarded twice")
    net = qemu.parse_net(args.net)
    if forwards and net.kind != "user":
        raise qemu.InputError(f"-p forwards ports through user networking; --net {args.net} has none")
    mac = qemu.parse_mac(args.mac) if args.mac is not None else None
    if mac and net.kind == "none":
        raise qemu.InputError("--mac needs a NIC; --net none has none")
    cfg = qemu.Config(image=image, machine=args.machine, firmware=args.firmware, smp=args.smp,
                      memory_mib=memory, append=args.append, forwards=forwards, net=net, mac=mac,
                      gdb=args.gdb, rng=args.rng, extra=extra)
    return args, cfg


# ------------------------------------------------------------------ running

class _Stop(Exception):
    def __init__(self, signum: int):
        self.signum = signum


def _raise_stop(signum, _frame):
    raise _Stop(signum)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _die_with_parent() -> None:
    """In the QEMU child: get SIGTERM if tyn.run dies, so no QEMU outlives it."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)             # PR_SET_PDEATHSIG
    except Exception:
        pass


# QEMU stops the guest and keeps running (forever) after these: stop it instead.
GUEST_STUCK_MARKERS = (b"KVM internal error", b"KVM: entry failed")
STUCK_GRACE_S = 0.5                                # let QEMU finish its register dump


def _close_quietly(f) -> None:
    try:
        f.close()
    except OSError:
        pass


def _relay_file_stdin(proc: subprocess.Popen) -> None:
    """stdin that select cannot wait on (a regular file): hand it over whole, then EOF."""
    try:
        data = os.read(0, 1 << 20)
        while data:
            _write_all(proc.stdin.fileno(), data)
            data = os.read(0, 1 << 20)
    except OSError:
        pass
    _close_quietly(proc.stdin)


def _stop_qemu(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)          # QEMU shuts down cleanly on SIGTERM
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


ESCAPE = 0x1d                                      # Ctrl-]: the interactive console's escape
ESCAPE_QUIT = (ord("x"), ord("q"))


def image_is_interactive(image) -> bool:
    """Whether the image's root filesystem asks for an interactive console (CONSOLE_FILE)."""
    from tyn.build.cpio import CpioError, read_members
    from tyn.build.image import CONSOLE_INTERACTIVE
    from tyn.build.rootfs import CONSOLE_FILE
    from tyn.hostrun import HostrunError, extract_cpio
    try:
        blob = open(image, "rb").read()
        members = read_members(extract_cpio(blob, str(image)))
    except (OSError, HostrunError, CpioError):
        return False                                   # not readable as an image: QEMU will say so
    name = CONSOLE_FILE.lstrip("/")
    return any(m.name.lstrip("./") == name and m.data == CONSOLE_INTERACTIVE for m in members)


def terminal_mode(attrs: list, interactive: bool) -> list:
    """The mode tyn.run gives the terminal: QEMU's stdio mode without output processing
    (the guest's tty does ONLCR), and raw (no ISIG) when interactive."""
    import termios
    new = [list(a) if isinstance(a, list) else a for a in attrs]
    new[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR |
                termios.IGNCR | termios.ICRNL | termios.IXON)
    new[1] &= ~termios.OPOST
    new[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN)
    if interactive:
        new[3] &= ~termios.ISIG
    new[6][termios.VMIN] = 1
    new[6][termios.VTIME] = 0
    return new


class _Escape:
    """Ctrl-] handling on the interactive console's input: what to send to the guest, and
    whether the user asked to quit."""

    def __init__(self):
        self.pending = False
        self.quit = False

    def filter(self, data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            if self.pending:
                self.pending = False
                if b in ESCAPE_QUIT:
                    self.quit = True
                    break
                if b == ESCAPE:
                    out.append(ESCAPE)
                continue                               # unknown command: dropped
            if b == ESCAPE:
                self.pending = True
                continue
            out.append(b)
        return bytes(out)


def run_qemu(cmd: list[str], interactive: bool = False) -> int:
    """Run QEMU relaying its console to stdout and stdin to it, its stderr to stderr;
    returns tyn.run's status."""
    global _stderr_newline
    tty_state = None
    if os.isatty(0):
        import termios
        try:
            tty_state = termios.tcgetattr(0)
            termios.tcsetattr(0, termios.TCSADRAIN, terminal_mode(tty_state, interactive))
        except termios.error:
            tty_state = None
    # stderr on the terminal whose OPOST is off: its lines get their CR here
    crlf_stderr = tty_state is not None and os.isatty(2)
    if crlf_stderr:
        _stderr_newline = "\r\n"
    escape = _Escape() if interactive and tty_state is not None else None
    old_handlers = {s: signal.signal(s, _raise_stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    proc = None
    stopped_by: int | None = None
    tail = bytearray()
    console_seen = False
    err_text = bytearray()
    try:
        try:
            # stdin through a pipe: QEMU never changes the terminal, tyn.run owns it
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    preexec_fn=_die_with_parent)
        except OSError as e:
            say(f"error: cannot run {cmd[0]}: {e.strerror or e}")
            return qemu.EXIT_BAD_INPUT
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ, 1)
        sel.register(proc.stderr, selectors.EVENT_READ, 2)
        try:
            sel.register(0, selectors.EVENT_READ, 0)
        except (ValueError, OSError):                  # closed or not pollable (a regular file)
            _relay_file_stdin(proc)
        open_streams = 2
        stdout_ok = True
        stuck_at: float | None = None
        while open_streams:
            if stuck_at is not None and time.monotonic() >= stuck_at + STUCK_GRACE_S:
                _stop_qemu(proc)
                stuck = next(m for m in GUEST_STUCK_MARKERS if m in err_text).decode()
                say(f"error: QEMU reported '{stuck}' and stopped the guest; QEMU terminated")
                return qemu.EXIT_NO_GUEST_STATUS
            try:
                events = sel.select(None if stuck_at is None else STUCK_GRACE_S / 5)
            except KeyboardInterrupt:
                stopped_by = signal.SIGINT
                break
            except _Stop as s:
                stopped_by = s.signum
                break
            for key, _ in events:
                if key.data == 0:
                    raw = os.read(0, 4096)
                    if not raw:                        # EOF: the guest's serial input ends too
                        sel.unregister(0)
                        _close_quietly(proc.stdin)
                        continue
                    data = escape.filter(raw) if escape is not None else raw
                    if escape is not None and escape.quit:
                        stopped_by = signal.SIGINT
                        open_streams = 0
                        break
                    try:
                        _write_all(proc.stdin.fileno(), data)
                    except OSError:                    # QEMU is gone; its streams tell the rest
                        sel.unregister(0)
                    continue
                data = os.read(key.fileobj.fileno(), 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if key.data == 1:
                    console_seen = True
                    tail += data
                    del tail[:-TAIL_BYTES]
                    if stdout_ok:
                        try:
                            _write_all(1, data)
                        except BrokenPipeError:
                            stdout_ok = False      # nobody is reading the console: stop the guest
                            stopped_by = signal.SIGPIPE
                            open_streams = 0
                            break
                else:
                    if len(err_text) < 65536:
                        err_text += data
                    _write_all(2, data.replace(b"\n", b"\r\n") if crlf_stderr else data)
                    if stuck_at is None and any(m in err_text for m in GUEST_STUCK_MARKERS):
                        stuck_at = time.monotonic()
        sel.close()
        if stopped_by is not None:
            _stop_qemu(proc)
            if escape is not None and escape.quit:
                say("Ctrl-] x: QEMU stopped")
                return qemu.EXIT_INTERRUPTED
            if stopped_by != signal.SIGPIPE:
                say(f"interrupted ({signal.Signals(stopped_by).name}); QEMU stopped")
                return qemu.EXIT_INTERRUPTED
            return 128 + signal.SIGPIPE
        returncode = proc.wait()
    except KeyboardInterrupt:
        if proc is not None:
            _stop_qemu(proc)
        say("interrupted (SIGINT); QEMU stopped")
        return qemu.EXIT_INTERRUPTED
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for s, h in old_handlers.items():
            signal.signal(s, h)
        _stderr_newline = "\n"
        if tty_state is not None:
            import termios
            try:
                termios.tcsetattr(0, termios.TCSADRAIN, tty_state)
            except termios.error:
                pass
    outcome = qemu.interpret_exit(returncode, bytes(tail), console_seen=console_seen,
                                  qemu_stderr=err_text.decode("utf-8", "replace"))
    if outcome.status == qemu.GUEST_STATUS_PANIC:
        say("kernel panic")
    elif outcome.error:
        say(f"error: {outcome.error}")
    return outcome.status


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args, cfg = config_from_args(argv)
        cfg.accel, note = qemu.choose_accel(args.accel)
        if not args.dry_run:
            cfg.qemu = qemu.find_qemu()
    except qemu.InputError as e:
        say(f"error: {e}")
        return qemu.EXIT_BAD_INPUT
    interactive = args.interactive
    if interactive is None:
        interactive = os.isatty(0) and image_is_interactive(cfg.image)
    if os.isatty(1):
        size = os.get_terminal_size(1)
        cfg.tty_size = (size.columns, size.lines)
    cmd = qemu.command(cfg)
    if args.dry_run:
        print(shlex.join(cmd), flush=True)
        return 0
    if not args.quiet:
        machine = cfg.machine if cfg.machine == "microvm" else f"{cfg.machine} firmware={cfg.firmware}"
        say(f"accel={cfg.accel} machine={machine}" + (f" ({note})" if note else ""))
    if cfg.gdb:
        say(f"waiting for gdb on :{qemu.GDB_PORT} (e.g. gdb build/kernel/tyn64.elf "
            f"-ex 'target remote :{qemu.GDB_PORT}')")
    if interactive and not args.quiet:
        say("interactive console: Ctrl-] x stops QEMU")
    return run_qemu(cmd, interactive)


if __name__ == "__main__":
    sys.exit(main())
