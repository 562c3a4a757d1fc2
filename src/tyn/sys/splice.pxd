# Data moved from one file to another inside the kernel: sendfile(2).
from libc.stdint cimport uint64_t, int64_t

cdef enum:
    SENDFILE_CHUNK = 65536          # bytes read and written per step (one kernel buffer)

cdef extern int64_t sys_sendfile(uint64_t out_fd, uint64_t in_fd, uint64_t uoffset, uint64_t count) noexcept nogil   # 40
