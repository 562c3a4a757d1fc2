from libc.stdint cimport int64_t, uint64_t

# msync(addr, length, flags): Linux's checks and answers (see msync.pyx).
cdef extern int64_t sys_msync(uint64_t addr, uint64_t length, uint64_t flags) noexcept nogil
