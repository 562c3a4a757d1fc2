"""Cython settings shared by the kernel build and the host (pytest) build.

Every directive here removes a path into the Python runtime: see
docs/ARCHITECTURE.md ("Writing kernel Cython").
"""

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "nonecheck": False,
    "cdivision": True,        # C division: no ZeroDivisionError path, no Python // semantics
    "cpow": True,             # int ** int stays an int
    "overflowcheck": False,
    "infer_types": True,
    "embedsignature": False,
    "binding": False,
    "always_allow_keywords": False,
}
