"""python -m tyn.build kernel: Cython modules + shim -> freestanding multiboot kernel.

Pipeline (each step incremental):
  1. cythonize every kernel .pyx to C                  (Cython's own dependency tracking)
  2. check the generated C for module-level initialisers (they would never run)
  3. compile C and shim/*.S, *.c freestanding           (skipped when .o is newer than all deps)
  4. link pass 1, extract text symbols, link pass 2 with the symbol table (.ksyms)
  5. link check: no undefined symbols, nothing from the Python C-API or libc
  6. write the 32-bit multiboot ELF QEMU boots (tyn.build.bootimage)
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tyn import __version__
from tyn.build import bootimage, ksyms, layout
from tyn.build.cython_config import COMPILER_DIRECTIVES


class BuildError(Exception):
    """A build failure with a message meant for the user (one line where possible)."""


# Freestanding code generation.  No SSE: the kernel does not save FPU state on traps.
KERNEL_CFLAGS = [
    "-std=gnu11", "-O2", "-g",
    "-ffreestanding", "-nostdlib", "-fno-builtin-printf",
    "-fno-pic", "-fno-pie", "-mcmodel=kernel", "-mno-red-zone", "-mgeneral-regs-only",
    "-fno-stack-protector", "-fstack-clash-protection", "-fno-omit-frame-pointer", "-fno-asynchronous-unwind-tables",
    "-fno-strict-aliasing", "-fwrapv",
    "-ffunction-sections", "-fdata-sections",
    "-Werror=implicit-function-declaration", "-Werror=incompatible-pointer-types",
    "-Werror=int-conversion", "-Werror=return-type",
]
# Cython's generated C carries much unused utility code: silence what is noise there.
GENERATED_C_FLAGS = ["-Wno-unused-function", "-Wno-unused-variable", "-Wno-unused-but-set-variable",
                     "-Wno-unused-label", "-Wno-unused-result", "-Wno-unreachable-code"]
LDFLAGS = ["-nostdlib", "-static", "--gc-sections", "-z", "max-page-size=0x1000",
           "-z", "noexecstack", "--no-warn-rwx-segments", "--unresolved-symbols=ignore-all"]

# What a freestanding kernel may define that libc also defines.
SHIM_PRIMITIVES = {"memcpy", "memmove", "memset", "memcmp"}
PYTHON_SYMBOL = re.compile(r"^_?_?Py[A-Za-z_]")
LIBC_SYMBOLS = {
    "malloc", "calloc", "realloc", "free", "abort", "exit", "_exit", "atexit",
    "printf", "fprintf", "sprintf", "snprintf", "vsnprintf", "puts", "putchar", "fputs", "fwrite",
    "strlen", "strcmp", "strncmp", "strcpy", "strncpy", "strchr", "strrchr", "strdup", "strstr",
    "memchr", "qsort", "bsearch", "errno", "__errno_location", "__assert_fail", "__stack_chk_fail",
    "pthread_mutex_lock", "pthread_mutex_unlock", "setjmp", "longjmp", "stdout", "stderr",
}


@dataclass
class KernelBuild:
    """One build configuration and its directories."""
    build_dir: Path = layout.DEFAULT_BUILD_DIR
    selftest: bool = False
    src_dir: Path = layout.SRC_DIR
    shim_dir: Path = layout.SHIM_DIR
    linker_script: Path = layout.LINKER_SCRIPT
    jobs: int = max(1, os.cpu_count() or 1)
    verbose: bool = False
    rebuilt: int = 0          # objects compiled by the last build_kernel() (incremental builds: few)

    @property
    def variant(self) -> str:
        return "kernel-selftest" if self.selftest else "kernel"

    @property
    def work_dir(self) -> Path:
        return self.build_dir / self.variant

    @property
    def package_dir(self) -> Path:
        return self.src_dir / "tyn"

    def defines(self) -> list[str]:
        return [f"-DTYN_SELFTEST={1 if self.selftest else 0}"]

    def include_dirs(self) -> list[str]:
        return [f"-I{self.work_dir / 'include'}", f"-I{self.shim_dir / 'include'}",
                f"-I{sysconfig.get_paths()['include']}"]


def say(msg: str) -> None:
    print(f"tyn.build: {msg}", flush=True)


def run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-25:])
        raise BuildError(f"{what} failed:\n{tail}")
    return proc


# ---------------------------------------------------------------- 1. Cython

def cythonize(b: KernelBuild) -> list[tuple[Path, Path]]:
    """Returns (pyx, generated C) pairs; regenerates only what changed."""
    from Cython.Build import Dependencies, cythonize as cy_cythonize
    from Cython.Compiler import Errors
    from setuptools import Extension

    pyx_files = layout.kernel_module_sources(b.package_dir)
    if not pyx_files:
        raise BuildError(f"no kernel modules (.pyx) under {b.package_dir}")
    seen: dict[str, Path] = {}
    for p in pyx_files:
        if p.stem in seen:
            raise BuildError(f"{seen[p.stem]} and {p} share the module name {p.stem!r}: Cython's generated "
                             "C symbols (PyInit_<name>) would collide; rename one")
        seen[p.stem] = p
    gen_dir = b.work_dir / "gen"
    exts = [Extension(layout.module_name(p, b.src_dir), [str(p.relative_to(b.src_dir))]) for p in pyx_files]
    # Cython caches source timestamps per process: forget them, or a second build sees no change.
    Dependencies._dep_tree = None
    with contextlib.chdir(b.src_dir):
        try:
            cy_cythonize(exts, build_dir=str(gen_dir), compiler_directives=COMPILER_DIRECTIVES,
                         include_path=[str(b.src_dir)], quiet=not b.verbose, nthreads=0)
        except Errors.CompileError as e:
            raise BuildError(f"Cython failed: {e}") from None
        except SystemExit:
            raise BuildError("Cython reported errors (see above)") from None
    return [(p, gen_dir / p.relative_to(b.src_dir).with_suffix(".c")) for p in pyx_files]


# ---------------------------------------------------- 2. module-init check

_EXEC_FN = re.compile(r"^static (?:CYTHON_SMALL_CODE )?int __pyx_pymod_exec_\w+\(PyObject \*__pyx_pyinit_module\)", re.M)
_GLOBAL_ASSIGN = re.compile(r"^\s*__pyx_v_\d\w*?_\d*(\w+?)\s*=[^=]", re.M)


def check_no_module_initialisers(pyx: Path, c_file: Path) -> None:
    """Module init never runs in the kernel: a module-level `cdef T x = v` would stay 0.

    Cython emits such initialisers as assignments inside the module exec function;
    find them there so the error names the variable.
    """
    text = c_file.read_text()
    m = _EXEC_FN.search(text)
    if not m:
        return
    body = text[m.end():]
    end = re.search(r"^}\s*$", body, re.M)
    body = body[: end.start()] if end else body
    for line in body.splitlines():
        a = re.match(r"\s*(__pyx_v_\w+)\s*=[^=]", line)
        if a:
            raise BuildError(
                f"{pyx}: module-level initialiser ({a.group(1)}) would never run in the kernel "
                "(no module init); use a `cdef enum` constant or assign it in the module's init function")


# ---------------------------------------------------------- 3. compiling

def _flags_stamp(flags: list[str]) -> str:
    return hashlib.sha256("\0".join(flags).encode()).hexdigest()


def _up_to_date(obj: Path, dep_file: Path, stamp_file: Path, stamp: str) -> bool:
    if not (obj.exists() and dep_file.exists() and stamp_file.exists()):
        return False
    if stamp_file.read_text() != stamp:
        return False
    obj_mtime = obj.stat().st_mtime_ns
    deps = dep_file.read_text().replace("\\\n", " ").split(":", 1)[-1].split()
    for d in deps:
        try:
            if Path(d).stat().st_mtime_ns > obj_mtime:
                return False
        except FileNotFoundError:
            return False
    return True


def compile_objects(b: KernelBuild, sources: list[tuple[Path, list[str]]]) -> tuple[list[Path], int]:
    """Compile (source, extra flags) pairs to objects; returns (objects, how many were rebuilt)."""
    obj_dir = b.work_dir / "obj"
    jobs = []
    objects = []
    for src, extra in sources:
        try:
            rel = src.relative_to(b.work_dir / "gen")
        except ValueError:
            rel = Path("shim") / src.relative_to(b.shim_dir)
        obj = obj_dir / rel.with_suffix(rel.suffix + ".o")
        flags = KERNEL_CFLAGS + b.defines() + b.include_dirs() + extra
        objects.append(obj)
        dep, stamp_file = obj.with_suffix(".d"), obj.with_suffix(".flags")
        stamp = _flags_stamp(flags)
        if _up_to_date(obj, dep, stamp_file, stamp):
            continue
        obj.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["gcc", *flags, "-MMD", "-MF", str(dep), "-c", str(src), "-o", str(obj)]
        jobs.append((cmd, src, stamp_file, stamp))

    def work(job):
        cmd, src, stamp_file, stamp = job
        if b.verbose:
            say(" ".join(cmd))
        run(cmd, f"compiling {src}")
        stamp_file.write_text(stamp)

    with ThreadPoolExecutor(b.jobs) as pool:
        for fut in [pool.submit(work, j) for j in jobs]:
            fut.result()
    return objects, len(jobs)


VDSO_CFLAGS = ["-O2", "-fPIC", "-shared", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
               "-fno-asynchronous-unwind-tables", "-Wall", "-Werror", "-Wl,--hash-style=both",
               "-Wl,-soname=linux-vdso.so.1", "-Wl,--no-undefined", "-Wl,-z,max-page-size=4096"]


def build_vdso(b: KernelBuild) -> Path:
    """shim/vdso/ -> the vDSO shared object (user code, so not with the kernel's flags),
    embedded into the kernel between vdso_image_start and vdso_image_end (.incbin)."""
    src_dir = b.shim_dir / "vdso"
    inputs = sorted(p for p in src_dir.iterdir() if p.is_file()) + [b.shim_dir / "include" / "tyn" / "vdso_data.h"]
    so = b.work_dir / "vdso.so"
    obj = b.work_dir / "obj" / "vdso_image.o"
    stamp = _flags_stamp(VDSO_CFLAGS)
    stamp_file = obj.with_suffix(".flags")
    newest = max(p.stat().st_mtime for p in inputs)
    if obj.exists() and so.exists() and so.stat().st_mtime >= newest and stamp_file.exists() \
            and stamp_file.read_text() == stamp:
        return obj
    obj.parent.mkdir(parents=True, exist_ok=True)
    run(["gcc", *VDSO_CFLAGS, f"-I{b.shim_dir / 'include'}", f"-Wl,-T,{src_dir / 'vdso.lds'}", f"-Wl,--version-script={src_dir / 'vdso.map'}",
         "-o", str(so), str(src_dir / "vdso.c")], "building the vDSO")
    relocs = subprocess.run(["readelf", "-rW", str(so)], capture_output=True, text=True, check=True).stdout
    if "Relocation section" in relocs:
        raise BuildError("the vDSO has relocations (it is mapped as is, never relocated)")
    asm = b.work_dir / "vdso_image.S"
    asm.write_text(
        "/* generated by tyn.build: the vDSO image, copied into user-mappable frames at boot */\n"
        "    .section .rodata.vdso_image, \"a\"\n    .balign 4096\n"
        "    .globl vdso_image_start\nvdso_image_start:\n"
        f"    .incbin \"{so}\"\n"
        "    .globl vdso_image_end\nvdso_image_end:\n"
        "    .section .note.GNU-stack, \"\", @progbits\n")
    run(["gcc", *KERNEL_CFLAGS, "-c", str(asm), "-o", str(obj)], "assembling the vDSO image")
    stamp_file.write_text(stamp)
    return obj


def write_generated_headers(b: KernelBuild) -> None:
    inc = b.work_dir / "include" / "tyn"
    inc.mkdir(parents=True, exist_ok=True)
    text = ("/* generated by tyn.build */\n#ifndef TYN_VERSION_H\n#define TYN_VERSION_H\n"
            f'#define TYN_VERSION_STRING "{__version__}"\n'
            f'#define TYN_BUILD_VARIANT "{b.variant}"\n#endif\n')
    path = inc / "version.h"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


# ------------------------------------------------------------- 4. linking

def link(b: KernelBuild, objects: list[Path], ksyms_obj: Path, out: Path, map_file: Path) -> None:
    cmd = ["ld", *LDFLAGS, "-T", str(b.linker_script), "-Map", str(map_file), "--cref",
           "-o", str(out), *map(str, objects), str(ksyms_obj)]
    run(cmd, "linking the kernel")


def assemble_ksyms(b: KernelBuild, symbols: list[tuple[int, str]], name: str) -> Path:
    src = b.work_dir / f"{name}.S"
    src.write_text(ksyms.emit_assembly(symbols))
    obj = b.work_dir / f"{name}.o"
    run(["gcc", "-c", str(src), "-o", str(obj)], "assembling the symbol table")
    return obj


def text_symbols(elf: Path) -> list[tuple[int, str]]:
    proc = run(["nm", "-n", "--defined-only", str(elf)], "reading kernel symbols")
    out = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tT":
            out.append((int(parts[0], 16), parts[2]))
    return out


def linker_script_markers(script: Path) -> set[str]:
    """Names the linker script assigns (kernel_text_start, ...): addresses, not functions."""
    return set(re.findall(r"^\s*([A-Za-z_]\w*)\s*=", script.read_text(), re.M))


def backtrace_symbols(symbols: list[tuple[int, str]], markers: set[str]) -> list[tuple[int, str]]:
    """One name per address for the symbol table, preferring functions over layout markers."""
    by_address: dict[int, str] = {}
    for addr, name in symbols:
        if addr not in by_address or by_address[addr] in markers:
            by_address[addr] = name
    return sorted(by_address.items())


# ---------------------------------------------------------- 5. link check

def _referencing_objects(map_file: Path, symbol: str) -> list[str]:
    """Files that reference `symbol`, from the --cref table of the link map."""
    lines = map_file.read_text(errors="replace").splitlines()
    try:
        start = lines.index("Cross Reference Table")
    except ValueError:
        return []
    refs, inside = [], False
    for line in lines[start + 1:]:
        if line and not line[0].isspace():
            parts = line.split()
            inside = parts[0] == symbol
            if inside and len(parts) > 1:
                refs.append(parts[-1])
        elif inside and line.strip():
            refs.append(line.strip())
    return refs


def link_check(elf: Path, map_file: Path) -> None:
    """Fail unless the kernel is self-contained: nothing undefined, nothing from Python or libc."""
    proc = run(["nm", str(elf)], "reading kernel symbols")
    problems = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("U", "w"):
            sym, defined = parts[1], False
        elif len(parts) == 3:
            sym, defined = parts[2], True
        else:
            continue
        if PYTHON_SYMBOL.match(sym):
            kind = "Python C-API symbol"
        elif sym in LIBC_SYMBOLS:
            kind = "libc symbol"
        elif not defined:
            kind = "undefined symbol"
        else:
            continue
        if defined and kind == "libc symbol" and sym in SHIM_PRIMITIVES:
            continue
        where = ", ".join(Path(r).name for r in _referencing_objects(map_file, sym)[:4]) or "?"
        problems.append(f"{kind} {sym} (referenced from {where})")
    if problems:
        raise BuildError(
            "link check: the kernel must not use the Python runtime or libc "
            "(kernel Cython is `cdef ... noexcept nogil` over C types only): " + "; ".join(problems))


# ------------------------------------------------------------ line counts

def line_counts(b: KernelBuild) -> tuple[int, int]:
    """(shim lines, kernel Cython lines)."""
    shim = sum(len(p.read_text().splitlines()) for p in sorted(b.shim_dir.rglob("*"))
               if p.suffix in (".S", ".c", ".h"))
    cy = 0
    for pyx in layout.kernel_module_sources(b.package_dir):
        cy += len(pyx.read_text().splitlines())
        pxd = pyx.with_suffix(".pxd")
        if pxd.exists():
            cy += len(pxd.read_text().splitlines())
    for pxd in b.package_dir.rglob("*.pxd"):
        if not pxd.with_suffix(".pyx").exists() and layout.is_kernel_source(pxd, b.package_dir):
            cy += len(pxd.read_text().splitlines())
    return shim, cy


# ---------------------------------------------------------------- driver

@contextlib.contextmanager
def build_lock(b: KernelBuild):
    """Exclusive use of one variant's work directory: builds started at once (two
    `tyn.build image` runs, test sessions) take turns instead of overwriting each
    other's intermediate files.  Released when the process dies, whatever happens."""
    b.build_dir.mkdir(parents=True, exist_ok=True)
    with open(b.build_dir / f".{b.variant}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build_kernel(b: KernelBuild | None = None) -> Path:
    """Build (incrementally) and return the 64-bit kernel ELF (with symbols, for gdb).
    The ELF is replaced atomically, so a concurrent reader sees an old or a new kernel,
    never a half-written one."""
    b = b or KernelBuild()
    with build_lock(b):
        return _build_kernel_locked(b)


def _build_kernel_locked(b: KernelBuild) -> Path:
    t0 = time.monotonic()
    b.work_dir.mkdir(parents=True, exist_ok=True)
    write_generated_headers(b)
    pairs = cythonize(b)
    for pyx, c_file in pairs:
        check_no_module_initialisers(pyx, c_file)
    sources = [(c, GENERATED_C_FLAGS) for _, c in pairs]
    sources += [(p, []) for p in sorted(b.shim_dir.glob("*.S")) + sorted(b.shim_dir.glob("*.c"))]
    objects, rebuilt = compile_objects(b, sources)
    objects.append(build_vdso(b))
    b.rebuilt = rebuilt

    elf = b.work_dir / "tyn64.elf"
    pass1 = b.work_dir / "tyn64.pass1.elf"
    map_file = b.work_dir / "tyn.map"
    link(b, objects, assemble_ksyms(b, [], "ksyms_empty"), pass1, map_file)
    link_check(pass1, map_file)
    symbols = text_symbols(pass1)
    table = backtrace_symbols(symbols, linker_script_markers(b.linker_script))
    elf_new = b.work_dir / "tyn64.elf.new"
    link(b, objects, assemble_ksyms(b, table, "ksyms"), elf_new, map_file)
    if text_symbols(elf_new) != symbols:
        raise BuildError("internal: code moved between link passes (is .ksyms still last in linker.ld?)")
    link_check(elf_new, map_file)
    os.replace(elf_new, elf)
    pass1.unlink()
    shim, cy = line_counts(b)
    say(f"{b.variant}: {len(objects)} objects ({rebuilt} rebuilt), {len(symbols)} text symbols, "
        f"{time.monotonic() - t0:.1f}s")
    say(f"lines: Cython {cy}, shim {shim} ({100.0 * shim / max(1, shim + cy):.1f}% of the kernel)")
    return elf


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m tyn.build kernel",
                                 description="Build the freestanding Tyn kernel (a multiboot ELF).")
    ap.add_argument("-o", "--output", type=Path, default=layout.DEFAULT_BUILD_DIR / "tyn.elf",
                    help="bootable 32-bit multiboot ELF to write (default: build/tyn.elf)")
    ap.add_argument("--build-dir", type=Path, default=layout.DEFAULT_BUILD_DIR)
    ap.add_argument("--selftest", action="store_true",
                    help="test build: enables the selftest=... command-line key (deliberate faults)")
    ap.add_argument("-j", "--jobs", type=int, default=max(1, os.cpu_count() or 1))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    b = KernelBuild(build_dir=args.build_dir, selftest=args.selftest, jobs=args.jobs, verbose=args.verbose)
    try:
        elf = build_kernel(b)
        sizes = bootimage.write_boot_image(elf, None, args.output)
    except (BuildError, bootimage.ImageError, OSError) as e:
        print(f"tyn.build: error: {e}", file=sys.stderr)
        return 1
    say(f"wrote {args.output} ({sizes['total']} bytes); symbols for gdb: {elf}")
    return 0
