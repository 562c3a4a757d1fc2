# Deliberate failures for the test build (python -m tyn.build kernel --selftest),
# chosen with `selftest=NAME` on the kernel command line.
cdef extern void selftest_run(const char *name) noexcept nogil
