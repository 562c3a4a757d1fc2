"""Boot Tyn images through the real CLI (`python -m tyn.run`) and watch the console.

    with boot(image, accel="tcg", append="selftest=pagefault") as vm:
        vm.expect("Tyn ")                  # literal text, or a compiled regex
        vm.expect("panic", timeout=5)
        assert vm.wait_exit() == 127
        assert "tyn.run: kernel panic" in vm.log

Everything the run prints (the serial console and tyn.run's/QEMU's stderr) lands in
`vm.log`.  Any timeout, early EOF or unexpected exit raises BootFailure whose message
holds the whole log.  Output passes through a pty, so console lines end in "\\r\\n"
(`vm.log` has plain "\\n"); write regexes with `\\r?\\n`.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path

import pexpect

DEFAULT_TIMEOUT = 30.0


class BootFailure(AssertionError):
    """A boot that did not go as expected; str() includes the whole console log."""


class Boot:
    """One `python -m tyn.run IMAGE ...` process on a pty."""

    def __init__(self, image, *, accel: str = "auto", append: str | None = None,
                 machine: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 args: list[str] | tuple[str, ...] = (), env: dict | None = None,
                 wrapper: list[str] | tuple[str, ...] = (), runner: list[str] | tuple[str, ...] = ()):
        # wrapper: a command the run is started under, e.g. ["ip", "netns", "exec", NS]
        # runner: what boots the image instead of `python -m tyn.run` (with the same options),
        # e.g. bench/linux_guest.py for the Linux baseline
        runner = list(runner) or [sys.executable, "-m", "tyn.run"]
        self.argv = [*wrapper, *runner, str(image), "--accel", accel]
        if machine:
            self.argv += ["--machine", machine]
        if append is not None:
            self.argv += ["--append", append]
        self.argv += list(args)
        self.timeout = timeout
        self._raw = io.StringIO()
        self.exit_status: int | None = None
        self.exit_signal: int | None = None
        self.child = pexpect.spawn(self.argv[0], self.argv[1:], env={**os.environ, **(env or {})},
                                   encoding="utf-8", codec_errors="replace", timeout=timeout,
                                   dimensions=(50, 250), echo=False)
        self.child.logfile_read = self._raw

    # ------------------------------------------------------------- output

    @property
    def log(self) -> str:
        """Everything read so far (console + stderr), with "\\r\\n" turned into "\\n"."""
        return self._raw.getvalue().replace("\r\n", "\n")

    def fail(self, what: str) -> BootFailure:
        status = ("still running" if self.exit_status is None and self.exit_signal is None else
                  f"exit status {self.exit_status}" if self.exit_signal is None else
                  f"killed by signal {self.exit_signal}")
        return BootFailure(f"{what}\n$ {shlex.join(self.argv)}   [{status}]\n"
                           f"----- log -----\n{self.log}\n----- end of log -----")

    def expect(self, marker: str | re.Pattern, timeout: float | None = None) -> str:
        """Wait for `marker` (literal text, or a compiled regex) on the console; returns the match."""
        timeout = self.timeout if timeout is None else timeout
        try:
            if isinstance(marker, re.Pattern):
                self.child.expect(marker, timeout=timeout)
                return self.child.match.group(0)
            self.child.expect_exact(marker, timeout=timeout)
            return marker
        except pexpect.TIMEOUT:
            raise self.fail(f"timed out after {timeout:g}s waiting for {marker!r}") from None
        except pexpect.EOF:
            self._reap()
            raise self.fail(f"the run ended before {marker!r} appeared") from None

    def send(self, text: str) -> None:
        """Type `text` on the guest's serial port."""
        self.child.send(text)

    # ---------------------------------------------------------------- exit

    def _reap(self) -> None:
        if self.child.isalive():
            self.child.wait()
        self.child.close()
        self.exit_status, self.exit_signal = self.child.exitstatus, self.child.signalstatus

    def wait_exit(self, timeout: float | None = None) -> int:
        """Wait for tyn.run to exit; returns its exit status (the guest's, see tyn.run --help)."""
        timeout = self.timeout if timeout is None else timeout
        if not self.child.closed:
            try:
                self.child.expect(pexpect.EOF, timeout=timeout)
            except pexpect.TIMEOUT:
                raise self.fail(f"did not exit within {timeout:g}s") from None
            self._reap()
        if self.exit_signal is not None:
            raise self.fail(f"tyn.run was killed by signal {self.exit_signal}")
        return self.exit_status

    def expect_exit(self, status: int, timeout: float | None = None) -> None:
        got = self.wait_exit(timeout)
        if got != status:
            raise self.fail(f"exit status {got}, expected {status}")

    def interrupt(self) -> None:
        """Ctrl-C, as a user at the terminal would type it."""
        self.child.sendintr()

    def close(self) -> None:
        """Stop the run if it is still going (tyn.run stops QEMU on SIGTERM)."""
        if self.child.closed:
            return
        if self.child.isalive():
            self.child.kill(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self.child.isalive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.child.isalive():
                self.child.kill(signal.SIGKILL)
        self.child.close(force=True)

    @property
    def pid(self) -> int:
        return self.child.pid

    def __enter__(self) -> "Boot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def boot(image, *, accel: str = "auto", append: str | None = None, timeout: float = DEFAULT_TIMEOUT,
         **kwargs) -> Boot:
    """Start `python -m tyn.run image ...`; see Boot."""
    return Boot(image, accel=accel, append=append, timeout=timeout, **kwargs)


def run(image, **kwargs) -> tuple[int, str]:
    """Boot to completion: (exit status, log)."""
    with boot(image, **kwargs) as vm:
        status = vm.wait_exit()
        return status, vm.log


def build_kernel(build_dir, selftest: bool = False) -> Path:
    """tyn.build.kernel.build_kernel into `build_dir` (it locks the variant's work
    directory, so test sessions running at once can share build/test/); returns the
    64-bit kernel ELF."""
    from tyn.build import kernel
    return kernel.build_kernel(kernel.KernelBuild(build_dir=Path(build_dir), selftest=selftest))


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
