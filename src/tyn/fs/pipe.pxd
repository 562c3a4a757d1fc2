# Pipes (pipe(2), pipe2(2)): a 64 KiB byte ring shared by a read-end file and a write-end
# file, Linux semantics: reads block while empty and a writer exists (EOF once none is
# left), writes of at most PIPE_BUF bytes are atomic, larger ones may be split, writes
# with no reader fail with EPIPE.  fstat reports S_IFIFO | 0600.
from libc.stdint cimport uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file
from tyn.fs.bytering cimport bytering
from tyn.fs.wakeups cimport io_wakeups

cdef enum:
    PIPE_CAPACITY = 65536           # Linux's default pipe size (16 pages)
    PIPE_BUF = 4096
    PIPEFS_DEV = 12                 # st_dev of pipes (an unnamed device, 0:12)

cdef struct pipe_inode:
    bytering ring
    uint32_t readers                # open read-end files
    uint32_t writers                # open write-end files
    uint64_t ino
    io_wakeups rd_wait              # the read end's queue: writes wake it (EPOLLIN)
    io_wakeups wr_wait              # the write end's: reads of a full pipe (EPOLLOUT)

# A new pipe: two files with one reference each, flags the status flags (O_NONBLOCK)
# for both.  0, or -ENOMEM (nothing allocated).
cdef extern int64_t pipe_create(uint32_t flags, vfs_file **rd, vfs_file **wr) noexcept nogil
cdef extern bint pipe_file_is_pipe(vfs_file *f) noexcept nogil

cdef extern int64_t sys_pipe(uint64_t fds) noexcept nogil                         # 22
cdef extern int64_t sys_pipe2(uint64_t fds, uint64_t flags) noexcept nogil        # 293
