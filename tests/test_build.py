"""tyn.build: the kernel pipeline's checks and the boot image format."""
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tyn.build import bootimage, kernel, ksyms, layout


def copy_tree(tmp_path: Path) -> kernel.KernelBuild:
    """A private copy of the kernel sources, so a test can break one module."""
    src = tmp_path / "src"
    shutil.copytree(layout.PACKAGE_DIR, src / "tyn",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__", "*.c", "*.egg-info"))
    shutil.copytree(layout.SHIM_DIR, tmp_path / "shim")
    shutil.copy(layout.LINKER_SCRIPT, tmp_path / "linker.ld")
    return kernel.KernelBuild(build_dir=tmp_path / "build", src_dir=src, shim_dir=tmp_path / "shim",
                              linker_script=tmp_path / "linker.ld")


def patch(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


KMAIN_BODY = "    serial_init()\n    crng_init()\n    banner()\n"


def test_link_check_rejects_a_module_that_uses_a_python_object(tmp_path):
    b = copy_tree(tmp_path)
    kmain = b.package_dir / "kmain.pyx"
    patch(kmain, "cdef void kmain(", "cdef void uses_python() noexcept nogil:\n"
                                     "    with gil:\n        print([1, 2])\n\ncdef void kmain(")
    patch(kmain, KMAIN_BODY, "    uses_python()\n" + KMAIN_BODY)
    with pytest.raises(kernel.BuildError) as e:
        kernel.build_kernel(b)
    msg = str(e.value)
    assert "link check" in msg and "Python C-API symbol" in msg
    assert "kmain.c.o" in msg                      # names the offending module


def test_link_check_rejects_libc(tmp_path):
    b = copy_tree(tmp_path)
    kmain = b.package_dir / "kmain.pyx"
    patch(kmain, "from libc.stdint cimport", "from libc.stdio cimport puts\nfrom libc.stdint cimport")
    patch(kmain, KMAIN_BODY, '    puts(b"hello")\n' + KMAIN_BODY)
    with pytest.raises(kernel.BuildError, match=r"libc symbol puts \(referenced from kmain\.c\.o\)"):
        kernel.build_kernel(b)


def test_module_level_initialiser_is_rejected(tmp_path):
    b = copy_tree(tmp_path)
    patch(b.package_dir / "lib" / "kprint.pyx", "cdef enum:", "cdef int answer = 42\n\ncdef enum:")
    with pytest.raises(kernel.BuildError, match=r"kprint\.pyx: module-level initialiser .*answer.* never run"):
        kernel.build_kernel(b)


def test_incremental_build_recompiles_only_what_changed(tmp_path):
    b = copy_tree(tmp_path)
    elf = kernel.build_kernel(b)
    assert b.rebuilt > 10
    kernel.build_kernel(b)
    assert b.rebuilt == 0
    power = b.package_dir / "arch" / "power.pyx"
    power.write_text(power.read_text() + "\ncdef int touched() noexcept nogil:\n    return 1\n")
    kernel.build_kernel(b)
    assert b.rebuilt == 1
    assert elf.exists()


def test_kernel_elf_has_no_undefined_symbols_and_a_symbol_table(tmp_path):
    b = copy_tree(tmp_path)
    elf = kernel.build_kernel(b)
    undefined = subprocess.run(["nm", "-u", str(elf)], capture_output=True, text=True).stdout.split()
    assert undefined == []
    syms = bootimage.read_elf64(elf).symbols
    assert syms["ksyms_count"] and syms["kmain"] >= 0xFFFFFFFF80000000


def test_shim_stays_under_15_percent():
    shim, cython = kernel.line_counts(kernel.KernelBuild())
    assert shim / (shim + cython) < 0.15, f"shim {shim} lines vs Cython {cython}"


@pytest.mark.parametrize("mangled,readable", [
    ("__pyx_f_3tyn_2mm_3pmm_alloc_frame", "tyn.mm.pmm.alloc_frame"),
    ("__pyx_f_3tyn_5kmain_banner", "tyn.kmain.banner"),
    ("kmain", "kmain"),
    ("__pyx_f_9bad", "__pyx_f_9bad"),
])
def test_demangle(mangled, readable):
    assert ksyms.demangle(mangled) == readable


# ------------------------------------------------------------ boot image

@pytest.fixture(scope="module")
def kernel_elf(tmp_path_factory):
    b = kernel.KernelBuild(build_dir=tmp_path_factory.mktemp("kbuild"))
    return kernel.build_kernel(b)


def elf32_segments(raw: bytes):
    assert raw[:4] == b"\x7fELF" and raw[4] == 1                # ELFCLASS32
    e_machine, e_entry, e_phoff = struct.unpack_from("<H", raw, 18)[0], *struct.unpack_from("<II", raw, 24)
    phnum = struct.unpack_from("<H", raw, 44)[0]
    segs = [struct.unpack_from("<8I", raw, e_phoff + 32 * i) for i in range(phnum)]
    return e_machine, e_entry, segs


def test_boot_image_is_a_32bit_multiboot_elf_at_physical_addresses(kernel_elf, tmp_path):
    out = tmp_path / "tyn.elf"
    sizes = bootimage.write_boot_image(kernel_elf, None, out)
    raw = out.read_bytes()
    machine, entry, segs = elf32_segments(raw)
    assert machine == 3 and entry < 1 << 32
    assert struct.pack("<I", 0x1BADB002) in raw[:8192]
    src = bootimage.read_elf64(kernel_elf)
    assert [s[3] for s in segs] == [s.paddr for s in src.segments]      # p_paddr
    assert all(s[2] == s[3] for s in segs)                               # vaddr = paddr
    assert sizes["rootfs"] == 0 and sizes["total"] == len(raw)


def test_boot_image_appends_rootfs_and_patches_the_descriptor(kernel_elf, tmp_path):
    cpio = tmp_path / "root.cpio"
    cpio.write_bytes(b"070701" + b"x" * 5000)
    out = tmp_path / "img.elf"
    sizes = bootimage.write_boot_image(kernel_elf, cpio, out)
    raw = out.read_bytes()
    _, _, segs = elf32_segments(raw)
    last = segs[-1]
    assert raw[last[1]:last[1] + last[4]] == cpio.read_bytes()
    assert last[3] % 4096 == 0 and last[3] >= max(s[3] + s[5] for s in segs[:-1])
    assert sizes["rootfs"] == 5006
    desc = struct.pack("<QQQ", bootimage.INITFS_MAGIC, last[3], 5006)
    assert desc in raw


def test_failed_image_write_leaves_nothing(kernel_elf, tmp_path):
    out = tmp_path / "img.elf"
    with pytest.raises(FileNotFoundError):
        bootimage.write_boot_image(kernel_elf, tmp_path / "missing.cpio", out)
    assert list(tmp_path.iterdir()) == []


def test_not_an_elf_is_refused(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"hello")
    with pytest.raises(bootimage.ImageError, match="not a little-endian ELF64"):
        bootimage.write_boot_image(bad, None, tmp_path / "out")


def test_concurrent_builds_in_one_build_dir_both_succeed(tmp_path):
    """Two builds started at once in the same (empty) build directory: the second waits
    for the first instead of racing it (it used to fail with 'No such file or directory:
    build/kernel/tyn64.pass1.elf'); both boot images are complete and identical."""
    import sys
    build = tmp_path / "build"
    procs = [subprocess.Popen([sys.executable, "-m", "tyn.build", "kernel", "--build-dir", str(build),
                               "-o", str(tmp_path / f"tyn{i}.elf")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    for p, out in zip(procs, outs):
        assert p.returncode == 0, out
    images = [(tmp_path / f"tyn{i}.elf").read_bytes() for i in range(2)]
    assert images[0] == images[1] and images[0][:4] == b"\x7fELF"
    assert not list((build / "kernel").glob("*.new")) and not list((build / "kernel").glob("*pass1*"))
