"""The bootable artifact: a 32-bit multiboot ELF that `qemu -kernel` loads.

QEMU (7.2) loads multiboot kernels only as 32-bit ELF and places each PT_LOAD
segment at its physical address.  The kernel is linked as a 64-bit ELF with
high virtual addresses, so we rewrite its PT_LOAD segments into an ELF32 whose
segments carry the physical addresses, and optionally append the root
filesystem (a newc cpio) as one more read-only segment after the kernel.  The
kernel finds the root filesystem through `initfs_descriptor`, a small struct
in its .data that this module patches (shim/include/tyn/initfs.h).
"""

from __future__ import annotations

import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB = 1
EV_CURRENT = 1
ET_EXEC = 2
EM_386, EM_X86_64 = 3, 62
PT_LOAD = 1
PF_R = 4
SHT_SYMTAB = 2
PAGE_SIZE = 4096
MULTIBOOT_SEARCH_LIMIT = 8192          # the header must lie in the file's first 8 KiB
KERNEL_VMA_BASE = 0xFFFFFFFF80000000
INITFS_MAGIC = 0x5346494E59545F31      # "1_TYNIFS" little-endian, see tyn/initfs.h
INITFS_DESCRIPTOR = struct.Struct("<QQQ")  # magic, physical address, size


class ImageError(Exception):
    pass


@dataclass
class Segment:
    paddr: int
    vaddr: int
    data: bytes
    memsz: int
    flags: int


@dataclass
class Elf64:
    entry: int
    segments: list[Segment]
    symbols: dict[str, int]


def read_elf64(path: Path) -> Elf64:
    raw = path.read_bytes()
    if raw[:4] != ELF_MAGIC or raw[4] != ELFCLASS64 or raw[5] != ELFDATA2LSB:
        raise ImageError(f"{path}: not a little-endian ELF64 file")
    (e_type, e_machine, _, e_entry, e_phoff, e_shoff, _, _, e_phentsize, e_phnum,
     e_shentsize, e_shnum, _) = struct.unpack_from("<HHIQQQIHHHHHH", raw, 16)
    if e_machine != EM_X86_64:
        raise ImageError(f"{path}: not an x86_64 ELF")
    segments = []
    for i in range(e_phnum):
        p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", raw, e_phoff + i * e_phentsize)
        if p_type == PT_LOAD and p_memsz:
            segments.append(Segment(p_paddr, p_vaddr, raw[p_offset:p_offset + p_filesz], p_memsz, p_flags))
    symbols = {}
    sections = [struct.unpack_from("<IIQQQQIIQQ", raw, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    for sh in sections:
        if sh[1] == SHT_SYMTAB:
            strtab = sections[sh[6]]
            str_off = strtab[4]
            for j in range(sh[5] // 24):
                st_name, _, _, _, st_value, _ = struct.unpack_from("<IBBHQQ", raw, sh[4] + j * 24)
                end = raw.index(b"\0", str_off + st_name)
                symbols[raw[str_off + st_name:end].decode()] = st_value
    return Elf64(e_entry, segments, symbols)


def _write_elf32(segments: list[Segment], entry: int, out) -> int:
    ehsize, phentsize = 52, 32
    data_start = PAGE_SIZE
    header_end = ehsize + phentsize * len(segments)
    if header_end > data_start:
        raise ImageError("too many segments for the ELF32 header page")
    offsets, off = [], data_start
    for s in segments:
        offsets.append(off)
        off = (off + len(s.data) + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE
    ident = ELF_MAGIC + bytes([ELFCLASS32, ELFDATA2LSB, EV_CURRENT]) + bytes(9)
    out.write(ident + struct.pack("<HHIIIIIHHHHHH", ET_EXEC, EM_386, EV_CURRENT, entry, ehsize, 0, 0,
                                  ehsize, phentsize, len(segments), 40, 0, 0))
    for s, o in zip(segments, offsets):
        out.write(struct.pack("<IIIIIIII", PT_LOAD, o, s.paddr, s.paddr, len(s.data), s.memsz, s.flags,
                              PAGE_SIZE))
    for s, o in zip(segments, offsets):
        out.write(b"\0" * (o - out.tell()))
        out.write(s.data)
    return out.tell()


def _patch(segments: list[Segment], vaddr: int, blob: bytes) -> None:
    for s in segments:
        if s.vaddr <= vaddr and vaddr + len(blob) <= s.vaddr + len(s.data):
            at = vaddr - s.vaddr
            s.data = s.data[:at] + blob + s.data[at + len(blob):]
            return
    raise ImageError(f"cannot patch address {vaddr:#x}: not in a file-backed kernel segment")


def write_boot_image(kernel_elf: Path, rootfs_cpio: Path | None, out: Path) -> dict:
    """Write the bootable ELF32 (kernel, plus the root filesystem if given); returns sizes by part.

    The output appears atomically: on any error no partial file is left at `out`.
    """
    elf = read_elf64(Path(kernel_elf))
    if elf.entry >= 1 << 32:
        raise ImageError(f"{kernel_elf}: entry point {elf.entry:#x} is not a 32-bit physical address")
    segments = [Segment(s.paddr, s.vaddr, s.data, s.memsz, s.flags) for s in elf.segments]
    kernel_bytes = sum(len(s.data) for s in segments)
    rootfs_bytes = 0
    if rootfs_cpio is not None:
        blob = Path(rootfs_cpio).read_bytes()
        rootfs_bytes = len(blob)
        if "initfs_descriptor" not in elf.symbols:
            raise ImageError(f"{kernel_elf}: kernel has no initfs_descriptor symbol")
        end = max(s.paddr + s.memsz for s in segments)
        base = (end + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE
        _patch(segments, elf.symbols["initfs_descriptor"], INITFS_DESCRIPTOR.pack(INITFS_MAGIC, base, len(blob)))
        segments.append(Segment(base, base, blob, len(blob), PF_R))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            total = _write_elf32(segments, elf.entry, f)
        first = Path(tmp).read_bytes()[:MULTIBOOT_SEARCH_LIMIT]
        if struct.pack("<I", 0x1BADB002) not in first:
            raise ImageError("multiboot header is not within the first 8 KiB of the image")
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {"kernel": kernel_bytes, "rootfs": rootfs_bytes, "total": total}
