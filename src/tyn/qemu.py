"""QEMU for Tyn: accelerator probing, command lines, and the guest exit protocol.

`python -m tyn.run` is the CLI over this module; bench/boot.py and the test
harness use it directly.

Guest exit protocol (src/tyn/arch/power.pxd): the kernel writes status v to the
isa-debug-exit device at port 0xf4 and QEMU exits with (v << 1) | 1.
  v in 0..125  the guest's exit status
  v == 126     the real status was above 125; the console carries it as a line
               `tyn: exit status N`
  v == 127     kernel panic
An even QEMU status means the guest never wrote its status (a reset or triple
fault under -no-reboot, QEMU quitting on its own) or QEMU failed.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

QEMU_BINARY = "qemu-system-x86_64"

DEBUG_EXIT_PORT = 0xF4
GUEST_STATUS_MAX = 125
GUEST_STATUS_CLIPPED = 126
GUEST_STATUS_PANIC = 127

# tyn.run's own exit statuses: what happened when there is no guest status to report.
# (Guest statuses above 127 reach the host as N & 0xff and can collide with these;
# tyn.run always says on stderr when the status is its own.)
EXIT_BAD_INPUT = 128        # bad command line / image / QEMU missing: nothing was started
EXIT_QEMU_FAILED = 129      # QEMU refused to start (its error is on stderr)
EXIT_INTERRUPTED = 130      # Ctrl-C (SIGINT) / SIGTERM / SIGHUP: QEMU stopped by us
EXIT_NO_GUEST_STATUS = 131  # QEMU exited without a guest status (even status, or killed by a signal)
EXIT_PROTOCOL = 132         # guest said 126 but the console had no `tyn: exit status N` line

MACHINES = ("microvm", "pc", "q35")
FIRMWARES = ("qboot", "seabios")
ACCELS = ("auto", "kvm", "tcg")

# Under the nested KVM here plain `-cpu host` (and `max`) abort: "failed to set MSR 0x10a".
KVM_CPU = "host,-arch-capabilities"
# TCG: `max` is every feature TCG emulates (x86-64-v3-ish: SSE4.2, AVX2, RDRAND, PCID, FSGSBASE...).
TCG_CPU = "max"
GDB_PORT = 1234

# ------------------------------------------------------------------ KVM probe

KVM_DEVICE = "/dev/kvm"
KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_API_VERSION = 12


def kvm_status(device: str | None = None) -> tuple[bool, str]:
    """(usable, reason): /dev/kvm opens read-write, speaks API 12, and creates a VM.

    Nothing is cached: the probe costs well under a millisecond.  TYN_KVM_DEVICE
    overrides the device path (tests use it to simulate a machine without KVM).
    """
    device = device or os.environ.get("TYN_KVM_DEVICE") or KVM_DEVICE
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, f"{device}: {e.strerror or e}"
    try:
        try:
            version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
        except OSError as e:
            return False, f"{device}: KVM_GET_API_VERSION failed: {e.strerror or e}"
        if version != KVM_API_VERSION:
            return False, f"{device}: KVM API version {version}, need {KVM_API_VERSION}"
        try:
            vm = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        except OSError as e:
            return False, f"{device}: cannot create a VM: {e.strerror or e}"
        os.close(vm)
        return True, "ok"
    finally:
        os.close(fd)


# ----------------------------------------------------------------- inputs

class InputError(Exception):
    """Bad user input: the message is one line naming the problem."""


MULTIBOOT_MAGIC = 0x1BADB002
MULTIBOOT_SEARCH = 8192


def check_image(path: str | os.PathLike) -> Path:
    """The image must be a 32-bit multiboot ELF (what QEMU 7.2's -kernel boots)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"image {p}: no such file")
    if not p.is_file():
        raise InputError(f"image {p}: not a regular file")
    try:
        with open(p, "rb") as f:
            head = f.read(MULTIBOOT_SEARCH)
    except OSError as e:
        raise InputError(f"image {p}: cannot read: {e.strerror or e}") from None
    if head[:4] != b"\x7fELF":
        raise InputError(f"image {p}: not an ELF file (want a 32-bit multiboot ELF such as build/tyn.elf)")
    if head[4] != 1:
        hint = " (tyn64.elf is for gdb; boot build/tyn.elf)" if head[4] == 2 else ""
        raise InputError(f"image {p}: a 64-bit ELF; QEMU boots only 32-bit multiboot ELFs{hint}")
    for off in range(0, len(head) - 11, 4):
        magic, flags, checksum = struct.unpack_from("<III", head, off)
        if magic == MULTIBOOT_MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            return p
    raise InputError(f"image {p}: no multiboot header in its first 8 KiB (not a multiboot kernel)")


_SIZE = re.compile(r"^(\d+)\s*([kmgt]?)(i?b)?$", re.I)
_SIZE_SHIFT = {"": 20, "k": 10, "m": 20, "g": 30, "t": 40}   # a bare number is MiB, as in QEMU
MEM_MIN_MIB = 16
MEM_MAX_MIB = 1 << 20


def parse_memory(text: str) -> int:
    """'512M', '2G', '1024' (MiB) -> MiB."""
    m = _SIZE.match(text.strip())
    if not m:
        raise InputError(f"bad memory size {text!r} (want e.g. 512M, 2G)")
    size = int(m.group(1)) << _SIZE_SHIFT[m.group(2).lower()]
    if size % (1 << 20):
        raise InputError(f"bad memory size {text!r}: not a whole number of MiB")
    mib = size >> 20
    if not MEM_MIN_MIB <= mib <= MEM_MAX_MIB:
        raise InputError(f"bad memory size {text!r}: must be between {MEM_MIN_MIB}M and 1T")
    return mib


_PORT_FWD = re.compile(r"^(\d{1,5}):(\d{1,5})$")


def parse_port_forward(text: str) -> tuple[int, int]:
    """'8080:80' -> (8080, 80): host TCP port 8080 reaches guest port 80."""
    m = _PORT_FWD.match(text.strip())
    if not m:
        raise InputError(f"bad port forward {text!r} (want HOST:GUEST, e.g. -p 8080:80)")
    host, guest = int(m.group(1)), int(m.group(2))
    for what, port in (("host", host), ("guest", guest)):
        if not 1 <= port <= 65535:
            raise InputError(f"bad port forward {text!r}: {what} port {port} is not in 1..65535")
    return host, guest


# ------------------------------------------------------------- networking

# microvm's virtio-mmio transports (QEMU hw/i386/microvm.c): 512-byte windows from
# 0xfeb00000; with ACPI on and one I/O APIC (ioapic2=off) there are 8 of them on GSIs 16..23.
# The NIC is put on the first (bus=virtio-mmio-bus.0) and named to the kernel on its command
# line in Linux's syntax: QEMU's own auto-kernel-cmdline only edits the Linux boot
# protocol's copy of the line, which a multiboot kernel never reads.
MICROVM_VIRTIO_MMIO_BASE = 0xFEB00000
MICROVM_VIRTIO_MMIO_SIZE = 512
MICROVM_VIRTIO_IRQ_BASE = 16
MICROVM_NIC_TRANSPORT = 0
MICROVM_RNG_TRANSPORT = 1            # the virtio-rng device (--no-rng leaves it out)
NET_KINDS = ("user", "tap", "dgram", "stream", "stream-listen", "none")
NET_HELP = ("user (default: QEMU user networking; -p forwards ports) | tap:IFNAME | "
            "dgram:LOCALPORT:REMOTEPORT (one frame per UDP datagram on 127.0.0.1) | "
            "stream:PORT (QEMU connects to 127.0.0.1:PORT) | stream-listen:PORT (QEMU listens there) | "
            "none")
LOOPBACK = "127.0.0.1"
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")            # Linux IFNAMSIZ - 1
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


@dataclass
class NetSpec:
    """The guest's one NIC: a QEMU netdev backend (kind) and its parameters."""
    kind: str = "user"
    ifname: str = ""                                        # tap
    ports: tuple[int, ...] = ()                             # dgram (local, remote); stream (port)


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise InputError(f"bad --net {spec!r}: port {text!r} is not in 1..65535")
    return int(text)


def parse_net(text: str) -> NetSpec:
    """'user', 'tap:tyn0', 'dgram:5555:5556', 'stream:5555', 'stream-listen:5555', 'none'."""
    kind, _, rest = text.strip().partition(":")
    args = rest.split(":") if rest else []
    if kind in ("user", "none"):
        if args:
            raise InputError(f"bad --net {text!r}: {kind} takes no parameters")
        return NetSpec(kind)
    if kind == "tap":
        if len(args) != 1 or not _IFNAME.match(args[0]):
            raise InputError(f"bad --net {text!r}: want tap:IFNAME (an interface name of 1-15 "
                             "letters, digits, '_', '.', '-')")
        return NetSpec(kind, ifname=args[0])
    if kind == "dgram":
        if len(args) != 2:
            raise InputError(f"bad --net {text!r}: want dgram:LOCALPORT:REMOTEPORT")
        return NetSpec(kind, ports=(_port(args[0], text), _port(args[1], text)))
    if kind in ("stream", "stream-listen"):
        if len(args) != 1:
            raise InputError(f"bad --net {text!r}: want {kind}:PORT")
        return NetSpec(kind, ports=(_port(args[0], text),))
    raise InputError(f"bad --net {text!r}: want one of {', '.join(NET_KINDS)}")


def parse_mac(text: str) -> str:
    """'52:54:00:12:34:56' -> the same, lower case; a unicast address only."""
    t = text.strip().lower()
    if not _MAC.match(t):
        raise InputError(f"bad MAC address {text!r} (want six hex bytes, e.g. 52:54:00:12:34:56)")
    if int(t[:2], 16) & 1:
        raise InputError(f"bad MAC address {text!r}: a multicast address (first byte odd)")
    return t


def netdev_backend(net: NetSpec, forwards: list[tuple[int, int]]) -> str:
    """The -netdev value for the NIC (id net0)."""
    if net.kind == "user":
        return ",".join(["user,id=net0"] + [f"hostfwd=tcp::{h}-:{g}" for h, g in forwards])
    if net.kind == "tap":
        return f"tap,id=net0,ifname={net.ifname},script=no,downscript=no"
    if net.kind == "dgram":
        local, remote = net.ports
        return (f"dgram,id=net0,local.type=inet,local.host={LOOPBACK},local.port={local},"
                f"remote.type=inet,remote.host={LOOPBACK},remote.port={remote}")
    server = "on" if net.kind == "stream-listen" else "off"
    return f"stream,id=net0,server={server},addr.type=inet,addr.host={LOOPBACK},addr.port={net.ports[0]}"


def net_args(cfg: "Config") -> tuple[list[str], list[str]]:
    """(QEMU arguments, kernel command line keys) for the NIC: virtio-net-device on a
    virtio-mmio transport (microvm), virtio-net-pci (pc, q35)."""
    if cfg.net.kind == "none":
        return [], []
    mac = f",mac={cfg.mac}" if cfg.mac else ""
    if cfg.machine == "microvm":
        device = f"virtio-net-device,netdev=net0,bus=virtio-mmio-bus.{MICROVM_NIC_TRANSPORT}{mac}"
        base = MICROVM_VIRTIO_MMIO_BASE + MICROVM_NIC_TRANSPORT * MICROVM_VIRTIO_MMIO_SIZE
        keys = [f"virtio_mmio.device={MICROVM_VIRTIO_MMIO_SIZE}@{base:#x}:"
                f"{MICROVM_VIRTIO_IRQ_BASE + MICROVM_NIC_TRANSPORT}"]
    else:
        device, keys = f"virtio-net-pci,netdev=net0{mac}", []
    return ["-netdev", netdev_backend(cfg.net, cfg.forwards), "-device", device], keys


def rng_args(cfg: "Config") -> tuple[list[str], list[str]]:
    """(QEMU arguments, kernel command line keys) for the virtio-rng device that seeds the
    kernel's random generator: on microvm's second virtio-mmio transport, else on PCI.
    QEMU's default backend (rng-builtin) reads the host's getrandom."""
    if not cfg.rng:
        return [], []
    if cfg.machine == "microvm":
        base = MICROVM_VIRTIO_MMIO_BASE + MICROVM_RNG_TRANSPORT * MICROVM_VIRTIO_MMIO_SIZE
        return (["-device", f"virtio-rng-device,bus=virtio-mmio-bus.{MICROVM_RNG_TRANSPORT}"],
                [f"virtio_mmio.device={MICROVM_VIRTIO_MMIO_SIZE}@{base:#x}:"
                 f"{MICROVM_VIRTIO_IRQ_BASE + MICROVM_RNG_TRANSPORT}"])
    return ["-device", "virtio-rng-pci"], []


def find_qemu() -> str:
    path = shutil.which(QEMU_BINARY)
    if not path:
        raise InputError(f"{QEMU_BINARY} not found on PATH (Debian: apt-get install qemu-system-x86, "
                         "or run ./scripts/setup.sh)")
    return path


# ------------------------------------------------------------ command line

@dataclass
class Config:
    image: Path
    accel: str = "tcg"                 # kvm | tcg (resolved; see choose_accel)
    machine: str = "microvm"
    firmware: str = "qboot"            # pc/q35 only
    smp: int = 1
    memory_mib: int = 512
    append: str | None = None
    forwards: list[tuple[int, int]] = field(default_factory=list)
    net: NetSpec = field(default_factory=NetSpec)
    mac: str | None = None             # the NIC's MAC (QEMU's default 52:54:00:12:34:56)
    gdb: bool = False
    rng: bool = True                   # a virtio-rng device (QEMU's built-in backend: host getrandom)
    qemu: str = QEMU_BINARY
    extra: list[str] = field(default_factory=list)
    tty_size: tuple[int, int] | None = None    # (columns, rows) of the host terminal: the console's size


# Which kernel module provides /dev/kvm tells hardware virtualisation from PVM
# (kvm-pvm: KVM inside a VM without VMX/SVM, which emulates the guest kernel's
# instructions: a hello boot takes ~11 s there against ~0.8 s under TCG).
# TYN_KVM_MODULES_DIR overrides /sys/module (tests simulate either kind of host).
SYS_MODULE_DIR = "/sys/module"
KVM_HARDWARE_MODULES = ("kvm_intel", "kvm_amd")
KVM_PVM_MODULE = "kvm_pvm"


def kvm_is_pvm(modules_dir: str | None = None) -> bool:
    """True when /dev/kvm comes from kvm-pvm and no hardware KVM module is loaded."""
    d = Path(modules_dir or os.environ.get("TYN_KVM_MODULES_DIR") or SYS_MODULE_DIR)
    if any((d / m).exists() for m in KVM_HARDWARE_MODULES):
        return False
    return (d / KVM_PVM_MODULE).exists()


def choose_accel(requested: str) -> tuple[str, str]:
    """(accel, note).  'auto' is hardware KVM when it works here, else TCG (also when
    /dev/kvm is PVM, where TCG is much faster); 'kvm' insists on /dev/kvm, PVM or not."""
    if requested == "tcg":
        return "tcg", ""
    ok, reason = kvm_status()
    if ok:
        if requested == "auto" and kvm_is_pvm():
            return "tcg", ("/dev/kvm is PVM (kvm_pvm), which emulates the guest kernel's "
                           "instructions; TCG is faster here (--accel kvm forces KVM)")
        return "kvm", ""
    if requested == "kvm":
        raise InputError(f"--accel kvm: KVM is not usable here ({reason}); use --accel tcg or auto")
    return "tcg", f"kvm unavailable: {reason}"


def machine_args(machine: str, firmware: str) -> list[str]:
    if machine == "microvm":
        # No option ROMs, no RTC: microvm reaches a multiboot kernel fastest (~0.07 s under KVM).
        # One I/O APIC (ioapic2=off: the kernel drives one), and virtio-mmio transports of
        # virtio 1.0 (QEMU 7.2's default is the legacy register layout).
        return ["-M", "microvm,x-option-roms=off,rtc=off,ioapic2=off",
                "-global", "virtio-mmio.force-legacy=false"]
    if machine not in ("pc", "q35"):
        raise InputError(f"unknown machine {machine!r} (want one of {', '.join(MACHINES)})")
    args = ["-M", machine]
    if firmware == "qboot":
        args += ["-bios", "qboot.rom"]      # found in QEMU's data directory; SeaBIOS is the default
    elif firmware != "seabios":
        raise InputError(f"unknown firmware {firmware!r} (want qboot or seabios)")
    return args


def kernel_cmdline(append: str | None, keys: list[str] | tuple[str, ...] = ()) -> str:
    """The user's command line plus realtime=<ns since the epoch>, the guest's wall clock
    (microvm has no RTC), and `keys` (device locations).  A realtime= the user gave wins;
    init arguments after ` -- ` stay last."""
    user = append or ""
    if user.startswith("-- "):
        head, sep, tail = "", " -- ", user[3:]
    else:
        head, sep, tail = user.partition(" -- ")
    added = list(keys)
    if not re.search(r"(^|\s)realtime=", head):
        added.insert(0, f"realtime={time.time_ns()}")
    if not added:
        return user
    return " ".join([head] + added).strip() + (sep + tail if sep else "")


def command(cfg: Config) -> list[str]:
    """The full QEMU command line for `cfg` (accel already resolved to kvm or tcg)."""
    cmd = [cfg.qemu]
    cmd += machine_args(cfg.machine, cfg.firmware)
    if cfg.accel == "kvm":
        cmd += ["-accel", "kvm", "-cpu", KVM_CPU]
    else:
        cmd += ["-accel", "tcg", "-cpu", TCG_CPU]
    cmd += ["-smp", str(cfg.smp), "-m", f"{cfg.memory_mib}M",
            "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
            "-serial", "stdio",
            "-device", f"isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04",
            "-kernel", str(cfg.image)]
    nic, keys = net_args(cfg)
    if cfg.tty_size and not re.search(r"(^|\s)tty_(cols|rows)=", (cfg.append or "").partition(" -- ")[0]):
        keys = [*keys, f"tty_cols={cfg.tty_size[0]}", f"tty_rows={cfg.tty_size[1]}"]
    rng, rng_keys = rng_args(cfg)
    cmd += ["-append", kernel_cmdline(cfg.append, keys + rng_keys)]
    cmd += nic + rng
    if cfg.gdb:
        cmd += ["-s", "-S"]
    return cmd + list(cfg.extra)


# ----------------------------------------------------------- exit protocol

_CLIPPED_LINE = re.compile(rb"(?:^|[\r\n])tyn: exit status (-?\d+)[\r\n]")


def parse_clipped_status(console: bytes | str) -> int | None:
    """The status from the last `tyn: exit status N` console line, or None."""
    if isinstance(console, str):
        console = console.encode("utf-8", "replace")
    # A final line may lack its newline if QEMU exited right after writing it.
    found = _CLIPPED_LINE.findall(console + b"\n")
    return int(found[-1]) if found else None


@dataclass
class Outcome:
    status: int              # what tyn.run exits with
    error: str | None = None  # one line for stderr (None: the guest exited normally)
    guest_status: int | None = None


def interpret_exit(returncode: int, console_tail: bytes | str = b"", *,
                   console_seen: bool = True, qemu_stderr: str = "") -> Outcome:
    """Map QEMU's exit (subprocess returncode) and the console to tyn.run's outcome.

    console_seen/qemu_stderr detect QEMU failing before the guest ran: that also
    exits 1, which otherwise means "guest status 0".
    """
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return Outcome(EXIT_NO_GUEST_STATUS, f"QEMU was killed by {name} before the guest exited")
    if returncode == 1 and not console_seen and qemu_stderr.strip():
        first = next(line for line in qemu_stderr.splitlines() if line.strip())
        return Outcome(EXIT_QEMU_FAILED, f"QEMU failed to start: {first.strip()}")
    if returncode % 2 == 0:
        m = re.search(r"terminating on signal (\d+)", qemu_stderr)
        if m:
            try:
                name = signal.Signals(int(m.group(1))).name
            except ValueError:
                name = f"signal {m.group(1)}"
            return Outcome(EXIT_NO_GUEST_STATUS, f"QEMU was stopped by {name} before the guest exited")
        why = ("the guest reset (triple fault?) under -no-reboot, or QEMU quit on its own"
               if returncode == 0 else "QEMU failed")
        return Outcome(EXIT_NO_GUEST_STATUS,
                       f"QEMU exited with status {returncode} and no guest exit status ({why})")
    v = returncode >> 1
    if v == GUEST_STATUS_PANIC:
        return Outcome(GUEST_STATUS_PANIC, "kernel panic", guest_status=GUEST_STATUS_PANIC)
    if v == GUEST_STATUS_CLIPPED:
        n = parse_clipped_status(console_tail)
        if n is None:
            return Outcome(EXIT_PROTOCOL, "guest exited with status 126 (status above 125) but the "
                                          "console has no 'tyn: exit status N' line")
        return Outcome(n & 0xFF, guest_status=n)
    return Outcome(v, guest_status=v)


# ------------------------------------------------------------ stub guests

def stub_guest(message: bytes = b"", status: int | None = 0, *, triple_fault: bool = False,
               echo_until: bytes | None = None) -> bytes:
    """A minimal 32-bit multiboot ELF: prints `message` on COM1, then one of
    - echo_until=b'q': echoes serial input until that byte, then exits
    - triple_fault: loads an empty IDT and traps (QEMU resets; -no-reboot exits 0)
    - status=None: halts forever
    - status=v: writes v to isa-debug-exit.
    For probing QEMU and testing tyn.run's exit protocol without the kernel.
    """
    base, code_off = 0x100000, 96
    code = bytearray()
    fixups = []                                  # (position of rel8, label)
    labels = {}

    def emit(*bs):
        code.extend(bs)

    def jump(opcode, label):
        emit(opcode, 0)
        fixups.append((len(code) - 1, label))

    def mov_dx(port):
        emit(0x66, 0xBA, *struct.pack("<H", port))

    data_off = code_off + 128
    msg_addr = base + data_off
    idtr_addr = msg_addr + len(message) + 1
    idtr_addr += -idtr_addr % 8
    emit(0xFA)                                   # cli
    emit(0xBE, *struct.pack("<I", msg_addr))     # mov esi, message
    labels["print"] = len(code)
    emit(0xAC, 0x84, 0xC0)                       # lodsb; test al, al
    jump(0x74, "printed")                        # jz printed
    mov_dx(0x3F8)
    emit(0xEE)                                   # out dx, al
    jump(0xEB, "print")
    labels["printed"] = len(code)
    if echo_until is not None:
        labels["poll"] = len(code)
        mov_dx(0x3FD)
        emit(0xEC, 0xA8, 0x01)                   # in al, dx; test al, 1
        jump(0x74, "poll")
        mov_dx(0x3F8)
        emit(0xEC, 0xEE)                         # in al, dx; out dx, al
        emit(0x3C, echo_until[0])                # cmp al, stop byte
        jump(0x75, "poll")
    if triple_fault:
        emit(0x0F, 0x01, 0x1D, *struct.pack("<I", idtr_addr))   # lidt [empty]
        emit(0x0F, 0x0B)                                         # ud2 -> #GP -> #DF -> reset
    if status is not None:
        mov_dx(DEBUG_EXIT_PORT)
        emit(0xB8, *struct.pack("<I", status & 0xFFFFFFFF))      # mov eax, status
        emit(0xEF)                                               # out dx, eax
    labels["halt"] = len(code)
    emit(0xF4)                                   # hlt
    jump(0xEB, "halt")
    for at, label in fixups:
        rel = labels[label] - (at + 1)
        assert -128 <= rel <= 127
        code[at] = rel & 0xFF
    assert len(code) <= data_off - code_off

    image = bytearray(idtr_addr - base + 8)
    flags = 0
    mb = struct.pack("<III", MULTIBOOT_MAGIC, flags, -(MULTIBOOT_MAGIC + flags) & 0xFFFFFFFF)
    ehdr = (b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
            + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, base + code_off, 52, 0, 0, 52, 32, 1, 40, 0, 0))
    phdr = struct.pack("<IIIIIIII", 1, 0, base, base, len(image), len(image), 7, 0x1000)
    image[0:len(ehdr)] = ehdr
    image[52:84] = phdr
    image[84:96] = mb
    image[code_off:code_off + len(code)] = code
    image[data_off:data_off + len(message)] = message
    return bytes(image)


def write_stub_guest(path: str | os.PathLike, *args, **kwargs) -> Path:
    p = Path(path)
    p.write_bytes(stub_guest(*args, **kwargs))
    return p

