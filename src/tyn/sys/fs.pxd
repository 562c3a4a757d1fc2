# File syscalls (Linux x86_64 ABI).  Each returns a result >= 0 or -errno; user pointers
# arrive as uint64_t and are touched only through tyn.arch.uaccess.  They act on the
# current filesystem context (tyn.fs.context.fs_current()).
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t

cdef enum:
    AT_FDCWD = -100
    AT_SYMLINK_NOFOLLOW = 0x100
    AT_EACCESS = 0x200
    AT_REMOVEDIR = 0x200
    AT_SYMLINK_FOLLOW = 0x400
    AT_NO_AUTOMOUNT = 0x800
    AT_EMPTY_PATH = 0x1000
    AT_STATX_SYNC_TYPE = 0x6000
    STATX_BASIC_STATS = 0x7ff
    STATX__RESERVED = 0x80000000
    UIO_MAXIOV = 1024
    LINUX_STAT_SIZE = 144
    LINUX_STATX_SIZE = 256

# struct stat, x86_64 (arch/x86/include/uapi/asm/stat.h), 144 bytes.
cdef struct linux_stat:
    uint64_t lx_dev
    uint64_t lx_ino
    uint64_t lx_nlink
    uint32_t lx_mode
    uint32_t lx_uid
    uint32_t lx_gid
    uint32_t pad0
    uint64_t lx_rdev
    int64_t lx_size
    int64_t lx_blksize
    int64_t lx_blocks
    int64_t lx_atime
    uint64_t lx_atime_nsec
    int64_t lx_mtime
    uint64_t lx_mtime_nsec
    int64_t lx_ctime
    uint64_t lx_ctime_nsec
    int64_t unused[3]

cdef extern int64_t sys_read(uint64_t fd, uint64_t buf, uint64_t count) noexcept nogil                 # 0
cdef extern int64_t sys_write(uint64_t fd, uint64_t buf, uint64_t count) noexcept nogil                # 1
cdef extern int64_t sys_open(uint64_t path, uint64_t flags, uint64_t mode) noexcept nogil              # 2
cdef extern int64_t sys_close(uint64_t fd) noexcept nogil                                              # 3
cdef extern int64_t sys_stat(uint64_t path, uint64_t buf) noexcept nogil                               # 4
cdef extern int64_t sys_fstat(uint64_t fd, uint64_t buf) noexcept nogil                                # 5
cdef extern int64_t sys_lstat(uint64_t path, uint64_t buf) noexcept nogil                              # 6
cdef extern int64_t sys_lseek(uint64_t fd, uint64_t offset, uint64_t whence) noexcept nogil            # 8
cdef extern int64_t sys_ioctl(uint64_t fd, uint64_t cmd, uint64_t arg) noexcept nogil                  # 16
cdef extern int64_t sys_pread64(uint64_t fd, uint64_t buf, uint64_t count, uint64_t pos) noexcept nogil   # 17
cdef extern int64_t sys_pwrite64(uint64_t fd, uint64_t buf, uint64_t count, uint64_t pos) noexcept nogil  # 18
cdef extern int64_t sys_readv(uint64_t fd, uint64_t iov, uint64_t iovcnt) noexcept nogil               # 19
cdef extern int64_t sys_writev(uint64_t fd, uint64_t iov, uint64_t iovcnt) noexcept nogil              # 20
cdef extern int64_t sys_access(uint64_t path, uint64_t mode) noexcept nogil                            # 21
cdef extern int64_t sys_dup(uint64_t fd) noexcept nogil                                                # 32
cdef extern int64_t sys_dup2(uint64_t oldfd, uint64_t newfd) noexcept nogil                            # 33
cdef extern int64_t sys_fcntl(uint64_t fd, uint64_t cmd, uint64_t arg) noexcept nogil                  # 72
cdef extern int64_t sys_fsync(uint64_t fd) noexcept nogil                                              # 74
cdef extern int64_t sys_fdatasync(uint64_t fd) noexcept nogil                                          # 75
cdef extern int64_t sys_truncate(uint64_t path, uint64_t length) noexcept nogil                        # 76
cdef extern int64_t sys_ftruncate(uint64_t fd, uint64_t length) noexcept nogil                         # 77
cdef extern int64_t sys_getcwd(uint64_t buf, uint64_t size) noexcept nogil                             # 79
cdef extern int64_t sys_chdir(uint64_t path) noexcept nogil                                            # 80
cdef extern int64_t sys_fchdir(uint64_t fd) noexcept nogil                                             # 81
cdef extern int64_t sys_rename(uint64_t oldpath, uint64_t newpath) noexcept nogil                      # 82
cdef extern int64_t sys_mkdir(uint64_t path, uint64_t mode) noexcept nogil                             # 83
cdef extern int64_t sys_rmdir(uint64_t path) noexcept nogil                                            # 84
cdef extern int64_t sys_creat(uint64_t path, uint64_t mode) noexcept nogil                             # 85
cdef extern int64_t sys_link(uint64_t oldpath, uint64_t newpath) noexcept nogil                        # 86
cdef extern int64_t sys_unlink(uint64_t path) noexcept nogil                                           # 87
cdef extern int64_t sys_symlink(uint64_t target, uint64_t linkpath) noexcept nogil                     # 88
cdef extern int64_t sys_readlink(uint64_t path, uint64_t buf, uint64_t bufsiz) noexcept nogil          # 89
cdef extern int64_t sys_chmod(uint64_t path, uint64_t mode) noexcept nogil                             # 90
cdef extern int64_t sys_fchmod(uint64_t fd, uint64_t mode) noexcept nogil                              # 91
cdef extern int64_t sys_chown(uint64_t path, uint64_t uid, uint64_t gid) noexcept nogil                # 92
cdef extern int64_t sys_fchown(uint64_t fd, uint64_t uid, uint64_t gid) noexcept nogil                 # 93
cdef extern int64_t sys_lchown(uint64_t path, uint64_t uid, uint64_t gid) noexcept nogil               # 94
cdef extern int64_t sys_umask(uint64_t mask) noexcept nogil                                            # 95
cdef extern int64_t sys_getdents64(uint64_t fd, uint64_t buf, uint64_t count) noexcept nogil           # 217
cdef extern int64_t sys_openat(uint64_t dfd, uint64_t path, uint64_t flags, uint64_t mode) noexcept nogil  # 257
cdef extern int64_t sys_mkdirat(uint64_t dfd, uint64_t path, uint64_t mode) noexcept nogil             # 258
cdef extern int64_t sys_fchownat(uint64_t dfd, uint64_t path, uint64_t uid, uint64_t gid, uint64_t flags) noexcept nogil  # 260
cdef extern int64_t sys_newfstatat(uint64_t dfd, uint64_t path, uint64_t buf, uint64_t flags) noexcept nogil  # 262
cdef extern int64_t sys_unlinkat(uint64_t dfd, uint64_t path, uint64_t flags) noexcept nogil           # 263
cdef extern int64_t sys_renameat(uint64_t olddfd, uint64_t oldpath, uint64_t newdfd, uint64_t newpath) noexcept nogil  # 264
cdef extern int64_t sys_linkat(uint64_t olddfd, uint64_t oldpath, uint64_t newdfd, uint64_t newpath, uint64_t flags) noexcept nogil  # 265
cdef extern int64_t sys_symlinkat(uint64_t target, uint64_t newdfd, uint64_t linkpath) noexcept nogil  # 266
cdef extern int64_t sys_readlinkat(uint64_t dfd, uint64_t path, uint64_t buf, uint64_t bufsiz) noexcept nogil  # 267
cdef extern int64_t sys_fchmodat(uint64_t dfd, uint64_t path, uint64_t mode) noexcept nogil            # 268
cdef extern int64_t sys_faccessat(uint64_t dfd, uint64_t path, uint64_t mode) noexcept nogil           # 269
cdef extern int64_t sys_utimensat(uint64_t dfd, uint64_t path, uint64_t utimes, uint64_t flags) noexcept nogil  # 280
cdef extern int64_t sys_dup3(uint64_t oldfd, uint64_t newfd, uint64_t flags) noexcept nogil            # 292
cdef extern int64_t sys_preadv(uint64_t fd, uint64_t iov, uint64_t iovcnt, uint64_t pos) noexcept nogil   # 295
cdef extern int64_t sys_pwritev(uint64_t fd, uint64_t iov, uint64_t iovcnt, uint64_t pos) noexcept nogil  # 296
cdef extern int64_t sys_renameat2(uint64_t olddfd, uint64_t oldpath, uint64_t newdfd, uint64_t newpath, uint64_t flags) noexcept nogil  # 316
cdef extern int64_t sys_statx(uint64_t dfd, uint64_t path, uint64_t flags, uint64_t mask, uint64_t buf) noexcept nogil  # 332
cdef extern int64_t sys_faccessat2(uint64_t dfd, uint64_t path, uint64_t mode, uint64_t flags) noexcept nogil  # 439
