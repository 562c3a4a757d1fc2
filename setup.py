"""Host build: every kernel module (and its host twin) as an ordinary Python extension.

All of them are compiled into ONE shared object, src/tyn/_hostkernel*.so, because
kernel modules call each other as plain C functions (see docs/ARCHITECTURE.md,
"Cross-module calls"): separate .so files would leave those symbols unresolved.
tyn/__init__.py maps each module name (tyn.mm.pmm, tyn.twins.pmm_twin, ...) onto
that one file; CPython finds PyInit_<basename> in it.

Hardware access goes through src/tyn/arch/host/ (replacing shim/include/tyn/arch.h).
"""

import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))
from tyn.build import layout  # noqa: E402
from tyn.build.cython_config import COMPILER_DIRECTIVES  # noqa: E402

HOST_GEN = ROOT / "build" / "host"


def host_extension():
    from Cython.Build import cythonize

    pyx = layout.kernel_module_sources() + sorted(layout.TWINS_DIR.glob("*.pyx"))
    names = [layout.module_name(p) for p in pyx]
    basenames = {}
    for n in names:
        short = n.rsplit(".", 1)[-1]
        if short in basenames:
            sys.exit(f"setup.py: modules {basenames[short]} and {n} share the basename {short!r}; "
                     "the host bundle needs unique basenames (PyInit_<basename>)")
        basenames[short] = n
    (HOST_GEN / "include" / "tyn").mkdir(parents=True, exist_ok=True)
    from tyn import __version__
    (HOST_GEN / "include" / "tyn" / "version.h").write_text(
        f'#define TYN_VERSION_STRING "{__version__}"\n#define TYN_BUILD_VARIANT "host"\n')
    exts = [Extension(n, [str(p.relative_to(ROOT))]) for n, p in zip(names, pyx)]
    generated = cythonize(exts, build_dir=str(HOST_GEN / "gen"), compiler_directives=COMPILER_DIRECTIVES,
                          include_path=[str(layout.SRC_DIR)], quiet=True)
    sources = [s for e in generated for s in e.sources]
    sources += [str(p.relative_to(ROOT)) for p in sorted(layout.HOST_ARCH_DIR.glob("*.c"))]
    return Extension(
        "tyn._hostkernel",
        sources=sources,
        include_dirs=[str(layout.HOST_ARCH_DIR), str(HOST_GEN / "include"), str(layout.SHIM_INCLUDE_DIR),
                      sysconfig.get_paths()["include"]],
        define_macros=[("TYN_SELFTEST", "1")],
        extra_compile_args=["-O1", "-g", "-fwrapv", "-fno-strict-aliasing", "-Wno-unused-function",
                            "-Werror=implicit-function-declaration", "-Werror=incompatible-pointer-types"],
    )


setup(ext_modules=[host_extension()])
