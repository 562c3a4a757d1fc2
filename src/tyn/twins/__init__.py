"""Host twins: Python-callable faces of kernel modules, for pytest only (never in the kernel)."""
