"""Tyn: a minimal x86_64 kernel that hosts the BEAM.

On the host, every kernel module (tyn.mm.pmm, ...) and every host twin
(tyn.twins.*) lives in one shared object, tyn/_hostkernel*.so, built by
setup.py (see docs/ARCHITECTURE.md for why).  The finder below maps such
module names onto that file; CPython then runs PyInit_<basename> from it.
"""

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

__version__ = "0.1.0"

_PACKAGE_DIR = Path(__file__).resolve().parent


class _HostBundleFinder:
    """Finds tyn.* Cython modules (a .pyx in the package) inside the host bundle."""

    @staticmethod
    def _bundle():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = _PACKAGE_DIR / f"_hostkernel{suffix}"
            if path.exists():
                return path
        return None

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if not name.startswith("tyn.") or name == "tyn._hostkernel":
            return None
        pyx = _PACKAGE_DIR.joinpath(*name.split(".")[1:]).with_suffix(".pyx")
        bundle = cls._bundle()
        if not pyx.exists() or bundle is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(name, str(bundle))
        return importlib.util.spec_from_file_location(name, str(bundle), loader=loader)


sys.meta_path.append(_HostBundleFinder)
