"""Tyn: a minimal x86_64 kernel that hosts the BEAM."""

__version__ = "0.1.0"
