"""The Linux baseline for bench/: a Tyn image's own root filesystem and beam.smp booted by
Debian bookworm's cloud kernel on the same QEMU path tyn.run uses.

    python bench/linux_guest.py IMAGE [--accel tcg|kvm] [--machine microvm|pc|q35]
                                [--net user|tap:IFNAME|none] [-p HOST:GUEST]... [--append CMDLINE]
                                [--dry-run]
    python bench/linux_guest.py --fetch        # fetch and cache the kernel and busybox only

Pieces, cached under ${TYN_CACHE:-~/.cache/tyn}/linux-guest/:
  - the newest linux-image-6.1.0-N-cloud-amd64-unsigned apt offers, and busybox-static, fetched
    with `apt-get download` and checked against the SHA-256 in apt's Packages index (as
    erts-build/lib.sh's download_verified does); from them vmlinuz, the kernel's config, the
    virtio modules the cloud kernel builds as modules (with their dependencies, from each
    .ko's .modinfo), and the static busybox;
  - per image, an initramfs: a newc cpio holding /init (a busybox sh script), busybox and the
    modules, followed by the image's rootfs cpio exactly as the boot image carries it (Linux
    unpacks concatenated archives in order).
/init mounts proc, sys and devtmpfs, loads the modules, configures eth0 statically from the
same command-line keys Tyn reads (`ip=ADDR/PREFIX gateway=GW`; default 10.0.2.15/24 via
10.0.2.2, what QEMU user networking hands out), sets the node name from /etc/hostname, and
runs /etc/tyn/argv with exactly /etc/tyn/env from the root directory.  When the BEAM exits,
init prints `linux-guest: exit status N` and powers off (QEMU then exits 0: the guest's status
is the console line, see exit_status()).

The QEMU command is tyn.qemu.command() with vmlinuz as the kernel and the initramfs added, so
machine, accelerator, CPU model, memory, NIC and backends are tyn.run's own.  The cloud kernel
has no CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES: on microvm it finds the virtio-mmio transports
through ACPI (microvm's default), and ignores the virtio_mmio.device= key tyn.qemu adds.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from tyn import qemu  # noqa: E402
from tyn.build import erts, rootfs  # noqa: E402
from tyn.build.cpio import Member, NewcWriter, read_members  # noqa: E402
from tyn.hostrun import extract_cpio  # noqa: E402

KERNEL_PACKAGE = re.compile(r"^linux-image-6\.1\.0-(\d+)-cloud-amd64-unsigned$")
KERNEL_PACKAGE_PREFIX = "linux-image-6.1.0-"
BUSYBOX_PACKAGE = "busybox-static"
# What the guest needs, as config symbols and the modules that provide them when `=m`.
NEEDED_DRIVERS = {"CONFIG_VIRTIO_NET": "virtio_net", "CONFIG_VIRTIO_MMIO": "virtio_mmio",
                  "CONFIG_VIRTIO_PCI": "virtio_pci"}
# Layout inside the initramfs (apart from /init, nothing collides with a Tyn rootfs's
# top-level etc/, otp/, tmp/).
GUEST_DIR = "linux-guest"
BUSYBOX = f"/{GUEST_DIR}/bin/busybox"
MODULE_DIR = f"/{GUEST_DIR}/modules"
# QEMU user networking's defaults, what Tyn's DHCP client gets there.
USER_NET_ADDR = "10.0.2.15/24"
USER_NET_GATEWAY = "10.0.2.2"
# quiet: the 8250 console under TCG costs boot time per line; panic=-1: a panic reboots,
# and -no-reboot turns that into QEMU's exit instead of a hang.
BASE_APPEND = "console=ttyS0 quiet panic=-1"
EXIT_LINE = re.compile(rb"linux-guest: exit status (\d+)")
# Bump when the layout or /init changes, so cached initramfs files are rebuilt.
INITRAMFS_FORMAT = 1
INITRAMFS_KEEP = 8


class LinuxGuestError(Exception):
    pass


def cache_dir() -> Path:
    return erts.cache_root() / "linux-guest"


# --------------------------------------------------------------- packages

def _apt(*args: str) -> str:
    p = subprocess.run(["apt-cache", *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise LinuxGuestError(f"apt-cache {' '.join(args)} failed: {p.stderr.strip()}")
    return p.stdout


def candidate_version(pkg: str) -> str | None:
    m = re.search(r"^\s*Candidate:\s*(\S+)", _apt("policy", pkg), re.M)
    return m.group(1) if m and m.group(1) != "(none)" else None


def current_kernel_package() -> tuple[str, str]:
    """(name, version) of the newest 6.1 cloud kernel apt can install."""
    names = [n for n in _apt("pkgnames", KERNEL_PACKAGE_PREFIX).split() if KERNEL_PACKAGE.match(n)]
    for name in sorted(names, key=lambda n: int(KERNEL_PACKAGE.match(n).group(1)), reverse=True):
        version = candidate_version(name)
        if version:
            return name, version
    raise LinuxGuestError("apt offers no linux-image-6.1.0-*-cloud-amd64-unsigned "
                          "(is a bookworm source configured? run apt-get update)")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_verified(pkg: str, version: str, dest: Path) -> Path:
    """`apt-get download pkg=version` into dest, checked against the Packages index's SHA-256."""
    dest.mkdir(parents=True, exist_ok=True)
    quoted = version.replace(":", "%3a")
    found = sorted(dest.glob(f"{pkg}_{quoted}_*.deb"))
    if not found:
        p = subprocess.run(["apt-get", "download", "-q", f"{pkg}={version}"], cwd=dest,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise LinuxGuestError(f"apt-get download {pkg}={version} failed: {p.stderr.strip()[-500:]}")
        found = sorted(dest.glob(f"{pkg}_{quoted}_*.deb"))
        if not found:
            raise LinuxGuestError(f"apt-get download {pkg}={version} left no .deb in {dest}")
    deb = found[0]
    m = re.search(r"^SHA256:\s*(\S+)", _apt("show", f"{pkg}={version}"), re.M)
    if not m:
        raise LinuxGuestError(f"apt has no SHA256 for {pkg}={version}")
    if sha256_of(deb) != m.group(1):
        deb.unlink()
        raise LinuxGuestError(f"{deb.name}: SHA-256 does not match the Packages index (deleted)")
    return deb


# ---------------------------------------------------------------- modules

def modinfo(ko: bytes) -> dict[str, str]:
    """The key=value strings of a kernel module's .modinfo section (ELF64)."""
    shoff, = struct.unpack_from("<Q", ko, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", ko, 0x3A)

    def section(i: int) -> tuple[int, int, int]:
        name, _type, _flags, _addr, off, size = struct.unpack_from("<IIQQQQ", ko, shoff + i * shentsize)
        return name, off, size

    _, names_off, _ = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        if ko[names_off + name:ko.index(b"\0", names_off + name)] == b".modinfo":
            out = {}
            for entry in ko[off:off + size].split(b"\0"):
                key, eq, value = entry.decode(errors="replace").partition("=")
                if eq:
                    out.setdefault(key, value)
            return out
    return {}


def module_load_order(module_root: Path, wanted: list[str]) -> list[Path]:
    """The .ko files for `wanted` and everything they depend on, dependencies first."""
    by_name = {ko.name[:-3].replace("-", "_"): ko for ko in module_root.rglob("*.ko")}
    order: list[Path] = []

    def visit(name: str, chain: tuple[str, ...]) -> None:
        ko = by_name.get(name)
        if ko is None:
            raise LinuxGuestError(f"module {name} (needed by {' <- '.join(chain) or 'the guest'}) not in the package")
        if ko in order or name in chain:
            return
        for dep in filter(None, modinfo(ko.read_bytes()).get("depends", "").split(",")):
            visit(dep.replace("-", "_"), chain + (name,))
        order.append(ko)

    for name in wanted:
        visit(name, ())
    return order


def kernel_config(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line.startswith("CONFIG_"))


# ------------------------------------------------------------------ fetch

@dataclass
class Kernel:
    """The cached kernel side: vmlinuz, busybox and the modules in load order."""
    root: Path
    package: str
    version: str

    @property
    def vmlinuz(self) -> Path:
        return self.root / "vmlinuz"

    @property
    def busybox(self) -> Path:
        return self.root / "busybox"

    @property
    def modules(self) -> list[Path]:
        order = self.root / "modules.order"
        return [self.root / "modules" / n for n in order.read_text().split()] if order.exists() else []


def fetch(log=lambda msg: print(msg, file=sys.stderr)) -> Kernel:
    """The kernel, its modules and busybox, from the cache or fetched and verified."""
    kpkg, kver = current_kernel_package()
    bver = candidate_version(BUSYBOX_PACKAGE)
    if not bver:
        raise LinuxGuestError(f"apt offers no {BUSYBOX_PACKAGE}")
    root = cache_dir() / f"{kpkg}_{kver}+busybox_{bver}".replace(":", "%3a")
    kernel = Kernel(root, kpkg, kver)
    if (root / ".complete").exists():
        return kernel
    log(f"linux-guest: fetching {kpkg} {kver} and {BUSYBOX_PACKAGE} {bver}")
    debs = cache_dir() / "debs"
    kdeb = download_verified(kpkg, kver, debs)
    bdeb = download_verified(BUSYBOX_PACKAGE, bver, debs)
    shutil.rmtree(root, ignore_errors=True)
    (root / "modules").mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="linux-guest-") as tmp:
        kx, bx = Path(tmp) / "k", Path(tmp) / "b"
        subprocess.run(["dpkg-deb", "-x", str(kdeb), str(kx)], check=True)
        subprocess.run(["dpkg-deb", "-x", str(bdeb), str(bx)], check=True)
        [vmlinuz] = (kx / "boot").glob("vmlinuz-*")
        [config] = (kx / "boot").glob("config-*")
        shutil.copy(vmlinuz, root / "vmlinuz")
        shutil.copy(config, root / "config")
        shutil.copy(bx / "bin" / "busybox", root / "busybox")
        cfg = kernel_config(root / "config")
        wanted = [mod for sym, mod in NEEDED_DRIVERS.items() if cfg.get(sym) == "m"]
        missing = [sym for sym in NEEDED_DRIVERS if cfg.get(sym) not in ("y", "m")]
        if missing:
            raise LinuxGuestError(f"{kpkg}: {', '.join(missing)} not configured")
        order = module_load_order(kx / "lib" / "modules", wanted)
        for ko in order:
            shutil.copy(ko, root / "modules" / ko.name)
        (root / "modules.order").write_text("".join(ko.name + "\n" for ko in order))
    (root / ".complete").touch()
    log(f"linux-guest: cached in {root} (modules: {', '.join(k.name for k in kernel.modules) or 'none'})")
    return kernel


# -------------------------------------------------------------- initramfs

def init_script(argv: list[str], env: dict[str, str], modules: list[str]) -> str:
    q = shlex.quote
    assignments = " ".join(q(f"{k}={v}") for k, v in env.items())
    return f"""#!{BUSYBOX} sh
# The Linux baseline's init (bench/linux_guest.py): set up what Tyn sets up, then run
# /etc/tyn/argv with /etc/tyn/env as Tyn's kernel does.
B={BUSYBOX}
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
for m in {" ".join(q(m) for m in modules)}; do
    $B insmod {MODULE_DIR}/$m || echo "linux-guest: insmod $m failed"
done
addr={USER_NET_ADDR} gw={USER_NET_GATEWAY}
for kv in $($B cat /proc/cmdline); do
    case $kv in ip=*) addr=${{kv#ip=}} ;; gateway=*) gw=${{kv#gateway=}} ;; esac
done
$B ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
    $B ip addr add "$addr" dev eth0 && $B ip link set eth0 up && $B ip route add default via "$gw"
else
    echo "linux-guest: no eth0"
fi
[ -f {rootfs.HOSTNAME_FILE} ] && $B hostname "$($B cat {rootfs.HOSTNAME_FILE})"
cd /
$B env -i {assignments} {" ".join(q(a) for a in argv)}
echo "linux-guest: exit status $?"
$B poweroff -f
"""


def initramfs(image: Path, kernel: Kernel, out_dir: Path | None = None) -> Path:
    """The initramfs for `image` (cached by content): busybox, modules and /init, then the
    image's rootfs cpio unchanged."""
    rootfs_cpio = extract_cpio(image.read_bytes(), str(image))
    files = {m.name: m for m in _rootfs_members(rootfs_cpio, (rootfs.ARGV_FILE, rootfs.ENV_FILE))}
    for need in (rootfs.ARGV_FILE, rootfs.ENV_FILE):
        if need[1:] not in files:
            raise LinuxGuestError(f"{image}: rootfs has no {need}")
    argv = rootfs.decode_argv(files[rootfs.ARGV_FILE[1:]].data)
    env = rootfs.decode_env(files[rootfs.ENV_FILE[1:]].data)
    script = init_script(argv, env, [ko.name for ko in kernel.modules]).encode()
    key = hashlib.sha256(b"%d\0" % INITRAMFS_FORMAT + str(kernel.root).encode() + b"\0" + script
                         + b"\0" + rootfs_cpio).hexdigest()[:24]
    out_dir = out_dir or cache_dir() / "initramfs"
    out = out_dir / f"{key}.cpio"
    if out.exists():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        w = NewcWriter(f)
        for d in ("proc", "sys", "dev", GUEST_DIR, f"{GUEST_DIR}/bin", MODULE_DIR[1:]):
            w.add(Member(d, rootfs.DIR_MODE))
        w.add(Member("init", rootfs.EXEC_MODE, script))
        w.add(Member(BUSYBOX[1:], rootfs.EXEC_MODE, kernel.busybox.read_bytes()))
        for ko in kernel.modules:
            w.add(Member(f"{MODULE_DIR[1:]}/{ko.name}", rootfs.FILE_MODE, ko.read_bytes()))
        w.finish()
        f.write(rootfs_cpio)
    tmp.replace(out)
    for old in sorted(out_dir.glob("*.cpio"), key=lambda p: p.stat().st_mtime)[:-INITRAMFS_KEEP]:
        old.unlink(missing_ok=True)
    return out


def _rootfs_members(blob: bytes, names: tuple[str, ...]):
    wanted = {n[1:] for n in names}
    return [m for m in read_members(blob) if m.name in wanted]


# ------------------------------------------------------------------ QEMU

# rdtsc; shl rdx, 32; or rax, rdx; ret
RDTSC_CODE = b"\x0f\x31\x48\xc1\xe2\x20\x48\x09\xd0\xc3"
TSC_MEASURE_S = 0.2


def host_tsc_khz() -> int:
    """The host's TSC rate, measured against CLOCK_MONOTONIC over TSC_MEASURE_S.

    Under TCG the guest's TSC is the host's (QEMU's rdtsc helper reads the host TSC).  On
    microvm Linux has no HPET or ACPI PM timer to calibrate it against, and its PIT
    calibration fails when the host is busy ("tsc: Unable to calibrate against PIT"); the
    boot then hangs in the delay-loop calibration.  tsc_early_khz= hands it the rate."""
    import ctypes
    import mmap
    import time
    buf = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    buf.write(RDTSC_CODE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    rdtsc = ctypes.CFUNCTYPE(ctypes.c_uint64)(address)
    t0, c0 = time.monotonic_ns(), rdtsc()
    time.sleep(TSC_MEASURE_S)
    t1, c1 = time.monotonic_ns(), rdtsc()
    del rdtsc
    return round((c1 - c0) * 1_000_000 / (t1 - t0))


def clock_append(accel: str) -> str:
    """Kernel parameters that give Linux its clock under TCG (see host_tsc_khz); tsc=reliable
    keeps the clocksource watchdog from dropping the TSC for jiffies when TCG's timing jitters."""
    return f"tsc_early_khz={host_tsc_khz()} tsc=reliable" if accel == "tcg" else ""


@dataclass
class Guest:
    kernel: Kernel
    initramfs: Path


def prepare(image: Path, log=lambda msg: print(msg, file=sys.stderr)) -> Guest:
    kernel = fetch(log)
    return Guest(kernel, initramfs(image, kernel))


def command(guest: Guest, *, accel: str = "tcg", machine: str = "microvm", append: str | None = None,
            net: str = "user", forwards: list[tuple[int, int]] | None = None, smp: int = 1,
            memory_mib: int = 512) -> list[str]:
    """tyn.run's QEMU command with the Linux kernel and the initramfs in place of a Tyn image."""
    cfg = qemu.Config(image=guest.kernel.vmlinuz, accel=accel, machine=machine, smp=smp,
                      memory_mib=memory_mib,
                      append=" ".join(filter(None, (BASE_APPEND, clock_append(accel), append))),
                      forwards=list(forwards or []), net=qemu.parse_net(net),
                      extra=["-initrd", str(guest.initramfs)])
    return qemu.command(cfg)


def exit_status(console: bytes | str) -> int | None:
    """The BEAM's exit status from the guest's console, None if init never printed it."""
    if isinstance(console, str):
        console = console.encode(errors="replace")
    found = EXIT_LINE.findall(console)
    return int(found[-1]) if found else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image", type=Path, nargs="?")
    ap.add_argument("--fetch", action="store_true", help="fetch and cache the kernel and busybox, then exit")
    ap.add_argument("--accel", choices=("tcg", "kvm", "auto"), default="tcg")
    ap.add_argument("--machine", choices=qemu.MACHINES, default="microvm")
    ap.add_argument("--net", default="user", help="user | tap:IFNAME | none")
    ap.add_argument("-p", dest="forwards", action="append", default=[], help="HOST:GUEST (user net)")
    ap.add_argument("--append", default="", help="extra kernel command line (ip=ADDR/PREFIX gateway=GW)")
    ap.add_argument("-m", dest="memory", default="512M")
    ap.add_argument("--dry-run", action="store_true", help="print the QEMU command")
    args = ap.parse_args(argv)
    try:
        if args.fetch:
            print(fetch().root)
            return 0
        if args.image is None:
            ap.error("IMAGE is required (or --fetch)")
        guest = prepare(args.image)
        accel, note = qemu.choose_accel(args.accel)
        if note:
            print(f"linux-guest: accelerator {accel}: {note}", file=sys.stderr)
        cmd = command(guest, accel=accel, machine=args.machine, append=args.append, net=args.net,
                      forwards=[qemu.parse_port_forward(f) for f in args.forwards],
                      memory_mib=qemu.parse_memory(args.memory))
    except (LinuxGuestError, qemu.InputError) as e:
        print(f"linux-guest: {e}", file=sys.stderr)
        return 1
    if args.dry_run:
        print(shlex.join(cmd))
        return 0
    sys.stdout.flush()
    os.execvp(cmd[0], cmd)      # signals reach QEMU itself; the guest's status is on the console


if __name__ == "__main__":
    sys.exit(main())
