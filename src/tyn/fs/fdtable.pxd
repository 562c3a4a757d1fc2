# A process's file descriptor table: slots of vfs_file references plus FD_CLOEXEC, the
# lowest free descriptor first, bounded by RLIMIT_NOFILE (soft 1024 / hard 4096 by default).
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file

cdef enum:
    FD_CLOEXEC = 1
    FDTABLE_NOFILE_CUR = 1024
    FDTABLE_NOFILE_MAX = 4096
    FDTABLE_NR_OPEN = 1048576           # Linux fs.nr_open: the ceiling for the hard limit

    F_DUPFD = 0
    F_GETFD = 1
    F_SETFD = 2
    F_GETFL = 3
    F_SETFL = 4
    F_DUPFD_CLOEXEC = 1030

cdef struct fdtable:
    vfs_file **files
    uint8_t *fdflags
    uint32_t cap                        # slots allocated
    uint64_t nofile_cur                 # RLIMIT_NOFILE soft
    uint64_t nofile_max                 # RLIMIT_NOFILE hard

cdef extern void fdtable_init(fdtable *t) noexcept nogil
# Put f (the caller's reference moves into the table) at the lowest free fd >= minfd.
# The fd, or -EMFILE (at the limit) / -ENOMEM; on error the caller keeps its reference.
cdef extern int64_t fdtable_install(fdtable *t, vfs_file *f, uint64_t minfd, bint cloexec) noexcept nogil
# The fd fdtable_install would pick now (-EMFILE / -ENOMEM): checked before work that
# must not happen when no descriptor is free (open with O_CREAT).
cdef extern int64_t fdtable_reserve(fdtable *t, uint64_t minfd) noexcept nogil
# The file at fd (borrowed), or NULL.
cdef extern vfs_file *fdtable_get(fdtable *t, uint64_t fd) noexcept nogil
# The file at fd with a new reference (vfs_file_put it), or NULL: for syscalls that may
# sleep, so that a close by another thread does not free the file under them (fdget).
cdef extern vfs_file *fdtable_fget(fdtable *t, uint64_t fd) noexcept nogil
cdef extern int64_t fdtable_close(fdtable *t, uint64_t fd) noexcept nogil
cdef extern int64_t fdtable_dup(fdtable *t, uint64_t fd, uint64_t minfd, bint cloexec) noexcept nogil
# dup2 (dup3 = False: same fd returns it) / dup3 (EINVAL for the same fd).
cdef extern int64_t fdtable_dup2(fdtable *t, uint64_t oldfd, uint64_t newfd, bint cloexec, bint dup3) noexcept nogil
cdef extern int64_t fdtable_get_fdflags(fdtable *t, uint64_t fd) noexcept nogil
cdef extern int64_t fdtable_set_fdflags(fdtable *t, uint64_t fd, uint64_t flags) noexcept nogil
# RLIMIT_NOFILE (prlimit64): -EINVAL if cur > max, -EPERM if max > FDTABLE_NR_OPEN.
cdef extern int64_t fdtable_set_limit(fdtable *t, uint64_t cur, uint64_t max) noexcept nogil
cdef extern void fdtable_get_limit(fdtable *t, uint64_t *cur, uint64_t *max) noexcept nogil
cdef extern uint64_t fdtable_count(fdtable *t) noexcept nogil
cdef extern void fdtable_close_all(fdtable *t) noexcept nogil
cdef extern void fdtable_close_on_exec(fdtable *t) noexcept nogil
# A copy sharing the open files (fork); 0 or -ENOMEM.
cdef extern int64_t fdtable_clone(fdtable *dst, fdtable *src) noexcept nogil
