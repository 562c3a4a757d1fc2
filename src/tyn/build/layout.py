"""Where things are: source tree, build tree, the kernel's module set."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent          # src/tyn
SRC_DIR = PACKAGE_DIR.parent                                  # src
REPO_DIR = SRC_DIR.parent
SHIM_DIR = REPO_DIR / "shim"
SHIM_INCLUDE_DIR = SHIM_DIR / "include"
HOST_ARCH_DIR = PACKAGE_DIR / "arch" / "host"                 # host replacements of shim/include
LINKER_SCRIPT = REPO_DIR / "linker.ld"
DEFAULT_BUILD_DIR = REPO_DIR / "build"

# Host-only Python faces of kernel modules (tests import these); never in the kernel.
TWINS_DIR = PACKAGE_DIR / "twins"
# Python tooling packages: no .pyx in here belongs to the kernel.
TOOLING_DIRS = (PACKAGE_DIR / "build", TWINS_DIR)


def kernel_module_sources(root: Path = PACKAGE_DIR) -> list[Path]:
    """Every .pyx under src/tyn that is kernel code, sorted for stable output."""
    out = []
    for pyx in sorted(root.rglob("*.pyx")):
        if any(d == pyx.parent or d in pyx.parents for d in TOOLING_DIRS):
            continue
        out.append(pyx)
    return out


def module_name(pyx: Path, src_dir: Path = SRC_DIR) -> str:
    """src/tyn/mm/pmm.pyx -> tyn.mm.pmm"""
    return ".".join(pyx.relative_to(src_dir).with_suffix("").parts)
