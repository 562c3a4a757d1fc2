# BSD advisory locks (flock(2)): shared or exclusive, held by an open file description on
# the file's inode, released by LOCK_UN or when the description's last reference goes.
from libc.stdint cimport int64_t, uint64_t
from tyn.fs.vfs cimport vfs_file

cdef enum:
    LOCK_SH = 1
    LOCK_EX = 2
    LOCK_NB = 4
    LOCK_UN = 8
    LOCK_MAND = 32                  # Linux 5.15+ ignores mandatory flocks (a warning, success)

cdef extern int64_t sys_flock(uint64_t fd, uint64_t cmd) noexcept nogil
# The description is going away (vfs_file_put): its locks go, waiters wake.
cdef extern void flock_file_release(vfs_file *f) noexcept nogil
