from libc.stdint cimport int64_t, uint64_t

# statfs(path, buf) / fstatfs(fd, buf): the filesystem's statistics, as Linux reports
# them for the filesystem each of Tyn's corresponds to (see statfs.pyx).
cdef extern int64_t sys_statfs(uint64_t upath, uint64_t buf) noexcept nogil
cdef extern int64_t sys_fstatfs(uint64_t fd, uint64_t buf) noexcept nogil
