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
# Subpackages (relative to src/tyn) whose .pyx/.pxd files are not kernel code.
NOT_KERNEL = ("build", "twins", "arch/host")


def is_kernel_source(path: Path, root: Path = PACKAGE_DIR) -> bool:
    rel = path.relative_to(root).as_posix()
    return not any(rel.startswith(d + "/") for d in NOT_KERNEL)


def kernel_module_sources(root: Path = PACKAGE_DIR) -> list[Path]:
    """Every .pyx under src/tyn that is kernel code, sorted for stable output."""
    return [p for p in sorted(root.rglob("*.pyx")) if is_kernel_source(p, root)]


def module_name(pyx: Path, src_dir: Path = SRC_DIR) -> str:
    """src/tyn/mm/pmm.pyx -> tyn.mm.pmm"""
    return ".".join(pyx.relative_to(src_dir).with_suffix("").parts)
