# The virtual filesystem: path resolution over the cpio root with tmpfs mounted at /tmp
# and a synthetic /dev, open files (refcounted, with an ops vtable so pipes, eventfd,
# timerfd, sockets and the console plug in), and the generic file operations the
# syscall layer (tyn.sys.fs) calls.  All results are >= 0 or -errno (Linux values).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from tyn.fs.fsnode cimport fs_node
from tyn.fs.wakeups cimport io_wakeups

cdef enum:
    # open(2) flags, x86_64
    O_ACCMODE = 0o3
    O_RDONLY = 0o0
    O_WRONLY = 0o1
    O_RDWR = 0o2
    O_CREAT = 0o100
    O_EXCL = 0o200
    O_NOCTTY = 0o400
    O_TRUNC = 0o1000
    O_APPEND = 0o2000
    O_NONBLOCK = 0o4000
    O_DSYNC = 0o10000
    O_ASYNC = 0o20000
    O_DIRECT = 0o40000
    O_LARGEFILE = 0o100000
    O_DIRECTORY = 0o200000
    O_NOFOLLOW = 0o400000
    O_NOATIME = 0o1000000
    O_CLOEXEC = 0o2000000
    O_SYNC = 0o4010000
    O_PATH = 0o10000000
    O_TMPFILE = 0o20200000
    O_TMPFILE_ONLY = 0o20000000         # Linux's __O_TMPFILE (O_TMPFILE is it with O_DIRECTORY)
    VFS_SETFL_MASK = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME

    SEEK_SET = 0
    SEEK_CUR = 1
    SEEK_END = 2
    SEEK_DATA = 3
    SEEK_HOLE = 4

    # access(2)
    F_OK = 0
    X_OK = 1
    W_OK = 2
    R_OK = 4

    # poll(2) bits, for the poll-readiness op
    POLLIN = 0x001
    POLLPRI = 0x002
    POLLOUT = 0x004
    POLLERR = 0x008
    POLLHUP = 0x010
    POLLNVAL = 0x020
    POLLRDNORM = 0x040
    POLLWRNORM = 0x100

    # getdents64 d_type
    DT_UNKNOWN = 0
    DT_FIFO = 1
    DT_CHR = 2
    DT_DIR = 4
    DT_BLK = 6
    DT_REG = 8
    DT_LNK = 10
    DT_SOCK = 12

    # ioctl requests the file layer knows
    TCGETS = 0x5401
    TIOCGWINSZ = 0x5413
    FIONREAD = 0x541B
    FIONBIO = 0x5421
    FIONCLEX = 0x5450
    FIOCLEX = 0x5451

    # vfs_file_ops.caps
    VFS_CAP_SEEK = 1            # positional I/O (pread/pwrite) and lseek make sense

    # vfs_walk flags
    VFS_FOLLOW = 1              # follow a symlink in the last component
    VFS_PARENT = 2              # a missing last component is not an error (node = NULL)

    # vfs_lookup.last_type
    VFS_LAST_NORM = 0
    VFS_LAST_ROOT = 1
    VFS_LAST_DOT = 2
    VFS_LAST_DOTDOT = 3

    # utimensat(2) tv_nsec specials
    UTIME_NOW = 0x3fffffff
    UTIME_OMIT = 0x3ffffffe
    # chown(2): (uid_t)-1 leaves the id as it is
    VFS_NO_ID = 0xffffffff

    VFS_MAXSYMLINKS = 40
    VFS_MAX_RW_COUNT = 0x7ffff000    # Linux MAX_RW_COUNT (INT_MAX & PAGE_MASK)
    VFS_DEVFS_DEV = 5                # st_dev of /dev entries (0:5)
    VFS_ANON_DEV = 6                 # st_dev of nameless files (console)

# What stat/statx report, filesystem-independent.
cdef struct vfs_kstat:
    uint64_t dev
    uint64_t ino
    uint64_t nlink
    uint32_t mode
    uint32_t uid
    uint32_t gid
    uint64_t rdev
    int64_t size
    int64_t blksize
    int64_t blocks
    int64_t atime_sec
    int64_t mtime_sec
    int64_t ctime_sec
    uint32_t atime_nsec
    uint32_t mtime_nsec
    uint32_t ctime_nsec

cdef struct vfs_file

# buf is a user address when user is true, else a kernel pointer.  pos: the file position
# to use and advance (seekable files) -- &f.pos for read/write, a local for pread/pwrite.
ctypedef int64_t (*vfs_rw_fn)(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil
ctypedef int64_t (*vfs_lseek_fn)(vfs_file *f, int64_t off, int whence) noexcept nogil
ctypedef int64_t (*vfs_stat_fn)(vfs_file *f, vfs_kstat *st) noexcept nogil
# Fill a user buffer with struct linux_dirent64 records; bytes used, 0 at the end.
ctypedef int64_t (*vfs_getdents_fn)(vfs_file *f, uint64_t ubuf, uint64_t n) noexcept nogil
# Readiness now: POLLIN / POLLOUT / POLLHUP / POLLERR bits.
ctypedef uint32_t (*vfs_poll_fn)(vfs_file *f) noexcept nogil
ctypedef int64_t (*vfs_ioctl_fn)(vfs_file *f, uint64_t cmd, uint64_t arg) noexcept nogil
# The last reference is gone: release priv (the node reference is dropped by vfs).
ctypedef void (*vfs_close_fn)(vfs_file *f) noexcept nogil

cdef struct vfs_file_ops:
    vfs_rw_fn read              # NULL: -EINVAL
    vfs_rw_fn write
    vfs_lseek_fn lseek          # NULL: -ESPIPE
    vfs_stat_fn stat            # NULL: stat of f.node
    vfs_getdents_fn getdents    # NULL: -ENOTDIR
    vfs_poll_fn poll            # NULL: always POLLIN | POLLOUT
    vfs_ioctl_fn ioctl          # NULL: -ENOTTY
    vfs_close_fn close          # may be NULL
    uint32_t caps

cdef struct vfs_file:
    uint32_t refs               # fd table slots and in-kernel users
    uint32_t flags              # access mode | status flags (F_GETFL), O_LARGEFILE set
    uint64_t pos
    const vfs_file_ops *ops
    fs_node *node               # may be NULL for files without a node
    void *priv                  # the file kind's own state
    void *epoll_links           # epoll registrations of this file (tyn.fs.epoll; no references)
    io_wakeups *wakeups         # the wakeup counts of the queue it waits on (exact EPOLLET);
                                # NULL: none kept (epoll approximates EPOLLET for it)

cdef struct vfs_lookup:
    fs_node *node               # the result (NULL: last component missing, VFS_PARENT)
    fs_node *parent             # the directory holding the last component
    const char *last            # last component (inside the walked path or a link target)
    uint32_t lastlen
    uint32_t last_type          # VFS_LAST_*
    bint trailing_slash
    fs_node *entry              # the directory entry found for the last component (a hard
                                # link's own entry; node is the inode it names); NULL for
                                # ".", "..", the root and a missing last component

ctypedef void (*vfs_random_fn)(uint8_t *buf, uint64_t n) noexcept nogil
ctypedef void (*vfs_clock_fn)(int64_t *sec, uint32_t *nsec) noexcept nogil

# Mount the archive as the root, tmpfs at /tmp, the synthetic /dev.  archive may be NULL
# (size 0): an empty root.  0, or -EINVAL (corrupt archive; reported on the console) /
# -ENOMEM; on error the VFS stays unmounted and every path lookup gives -ENOENT.
cdef extern int64_t vfs_init(const uint8_t *archive, uint64_t size) noexcept nogil
# Forget everything (tests; frees tmpfs and the tree).
cdef extern void vfs_reset() noexcept nogil
cdef extern fs_node *vfs_root() noexcept nogil
cdef extern void vfs_set_random_source(vfs_random_fn fn) noexcept nogil
cdef extern void vfs_set_clock(vfs_clock_fn fn) noexcept nogil

cdef extern void vfs_node_get(fs_node *n) noexcept nogil
cdef extern void vfs_node_put(fs_node *n) noexcept nogil
# Resolve path[0:len] from start (absolute paths from the root).
cdef extern int64_t vfs_walk(fs_node *start, const char *path, uint64_t len, int flags, vfs_lookup *res) noexcept nogil
# Whether writes to n's filesystem are refused (cpio root, /dev directory).
cdef extern bint vfs_node_readonly(const fs_node *n) noexcept nogil

# Open files.
cdef extern vfs_file *vfs_file_new(const vfs_file_ops *ops, fs_node *node, uint32_t flags, void *priv) noexcept nogil
cdef extern void vfs_file_get(vfs_file *f) noexcept nogil
cdef extern void vfs_file_put(vfs_file *f) noexcept nogil
# open/openat semantics; mode already has the umask applied.  *out gets a new reference.
cdef extern int64_t vfs_open(fs_node *start, const char *path, uint64_t len, uint32_t flags, uint32_t mode, vfs_file **out) noexcept nogil
cdef extern int64_t vfs_open_node(fs_node *n, uint32_t flags, vfs_file **out) noexcept nogil
cdef extern vfs_file *vfs_console_open(uint32_t flags) noexcept nogil
cdef extern int64_t vfs_read(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil
cdef extern int64_t vfs_write(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil
cdef extern int64_t vfs_lseek(vfs_file *f, int64_t off, int whence) noexcept nogil
cdef extern int64_t vfs_fstat(vfs_file *f, vfs_kstat *st) noexcept nogil
cdef extern int64_t vfs_getdents(vfs_file *f, uint64_t ubuf, uint64_t n) noexcept nogil
cdef extern uint32_t vfs_poll(vfs_file *f) noexcept nogil
cdef extern int64_t vfs_ioctl(vfs_file *f, uint64_t cmd, uint64_t arg) noexcept nogil
cdef extern int64_t vfs_ftruncate(vfs_file *f, int64_t length) noexcept nogil
cdef extern bint vfs_file_seekable(vfs_file *f) noexcept nogil

# Path operations (start = directory for relative paths).
cdef extern int64_t vfs_stat_node(fs_node *n, vfs_kstat *st) noexcept nogil
cdef extern int64_t vfs_stat(fs_node *start, const char *path, uint64_t len, bint follow, vfs_kstat *st) noexcept nogil
cdef extern int64_t vfs_mkdir(fs_node *start, const char *path, uint64_t len, uint32_t mode) noexcept nogil
cdef extern int64_t vfs_rmdir(fs_node *start, const char *path, uint64_t len) noexcept nogil
cdef extern int64_t vfs_unlink(fs_node *start, const char *path, uint64_t len) noexcept nogil
# link/linkat: a new name npath for node old (already looked up by the caller, as Linux
# looks up the old name before it reads the new one; NULL: a file without a node).
# Linux's errors in its order: EEXIST (the name exists, or is ".", "..", "/"), ENOENT
# (trailing slash), EROFS, EXDEV (another filesystem), ENOENT (removed directory), EPERM
# (a directory), ENOENT (old has no name left).
cdef extern int64_t vfs_link_node(fs_node *old, fs_node *nstart, const char *npath, uint64_t nlen) noexcept nogil
# A socket inode at path (AF_UNIX bind), mode masked to 0777: *out holds a reference.
# 0, -EEXIST, -EROFS, -ENOENT, ...
cdef extern int64_t vfs_mknod_socket(fs_node *start, const char *path, uint64_t len, uint32_t mode,
                                     fs_node **out) noexcept nogil
cdef extern int64_t vfs_symlink(const char *target, uint64_t tlen, fs_node *start, const char *path, uint64_t len) noexcept nogil
cdef extern int64_t vfs_rename(fs_node *ostart, const char *opath, uint64_t olen,
                               fs_node *nstart, const char *npath, uint64_t nlen, uint32_t flags) noexcept nogil
cdef extern int64_t vfs_truncate(fs_node *start, const char *path, uint64_t len, int64_t length) noexcept nogil
# The target of a symlink, at most bufsiz bytes into kernel buf; its length.
cdef extern int64_t vfs_readlink(fs_node *start, const char *path, uint64_t len, char *buf, uint64_t bufsiz) noexcept nogil
# chmod: the permission bits of n (EROFS on the read-only filesystems).
cdef extern int64_t vfs_chmod(fs_node *n, uint32_t mode) noexcept nogil
# chown: new owner and group (VFS_NO_ID: unchanged); a file that is not a directory
# loses set-user-ID, and set-group-ID when group-executable, as at Linux's chown.
cdef extern int64_t vfs_chown(fs_node *n, uint32_t uid, uint32_t gid) noexcept nogil
# utimensat: new atime/mtime (tv_nsec may be UTIME_NOW or UTIME_OMIT, already validated);
# ctime becomes now.  EROFS on the read-only filesystems.
cdef extern int64_t vfs_utimes(fs_node *n, int64_t asec, int64_t ansec, int64_t msec, int64_t mnsec) noexcept nogil
# fsync/fdatasync: 0 for files of the in-memory filesystems (nothing to write back),
# -EINVAL for files that have no fsync (pipes, sockets, devices), as Linux.
cdef extern int64_t vfs_fsync(vfs_file *f) noexcept nogil
cdef extern int64_t vfs_access(fs_node *start, const char *path, uint64_t len, uint32_t mode, bint follow) noexcept nogil
# The absolute path of directory n into buf (NUL-terminated); length with the NUL, or
# -ERANGE (size too small), -ENOENT (n was removed).
cdef extern int64_t vfs_path_of(fs_node *n, char *buf, uint64_t size) noexcept nogil
# A directory to work in: n itself if it is one (-ENOTDIR otherwise).
cdef extern int64_t vfs_lookup_dir(fs_node *start, const char *path, uint64_t len, fs_node **out) noexcept nogil
