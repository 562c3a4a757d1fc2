# eventfd(2) / eventfd2(2): a 64-bit counter file with Linux's 8-byte read/write semantics
# (semaphore mode reads 1 at a time).  fstat reports an anonymous inode (mode 0600, no
# file type), F_GETFL O_RDWR [| O_NONBLOCK].
from libc.stdint cimport uint32_t, uint64_t, int64_t
from tyn.fs.wakeups cimport io_wakeups
from tyn.fs.vfs cimport vfs_file

cdef enum:
    EFD_SEMAPHORE = 1
    EFD_CLOEXEC = 0o2000000         # O_CLOEXEC
    EFD_NONBLOCK = 0o4000           # O_NONBLOCK

cdef struct eventfd_ctx:
    uint64_t count
    bint semaphore
    io_wakeups wq                   # writes wake it with EPOLLIN, reads with EPOLLOUT

# A new eventfd file (one reference): initval, EFD_* flags already validated.  NULL: ENOMEM.
cdef extern vfs_file *eventfd_create(uint64_t initval, uint32_t flags) noexcept nogil
cdef extern bint eventfd_file_is_eventfd(vfs_file *f) noexcept nogil

cdef extern int64_t sys_eventfd(uint64_t initval) noexcept nogil                        # 284
cdef extern int64_t sys_eventfd2(uint64_t initval, uint64_t flags) noexcept nogil       # 290
