# File syscalls (see fs.pxd): argument decoding, user-memory copies, Linux's order of
# error checks; the work is done by tyn.fs.vfs on the current fs context.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t, int32_t
from tyn.fs.fsnode cimport fs_node, PATH_MAX, S_IFMT, S_IFDIR, S_IALLUGO
from tyn.fs.vfs cimport *
from tyn.fs.fdtable cimport *
from tyn.fs.context cimport fs_context, fs_current, fs_set_cwd
from tyn.mm.heap cimport kmalloc, kfree
from tyn.arch.cpu cimport memcpy, memset
from tyn.arch.uaccess cimport copy_from_user, copy_to_user, strncpy_from_user
from tyn.sys.errno cimport *
from tyn.sys.timeutil cimport linux_timespec
from tyn.arch.tsc cimport NSEC_PER_SEC

cdef enum:
    IOVEC_SIZE = 16

cdef extern from *:
    """
    #define SYSFS_SSIZE_MAX ((uint64_t)0x7fffffffffffffffULL)
    """
    const uint64_t SYSFS_SSIZE_MAX

# ------------------------------------------------------------------ helpers

cdef char *get_path(uint64_t upath, bint empty_ok, int64_t *len) noexcept nogil:
    # The user string at upath in a kmalloc'd PATH_MAX buffer (caller kfrees); NULL with
    # len[0] = -errno: EFAULT, ENAMETOOLONG (no NUL within PATH_MAX), ENOENT (empty).
    cdef char *buf = <char *>kmalloc(PATH_MAX)
    cdef int64_t n
    if buf == NULL:
        len[0] = -ENOMEM
        return NULL
    n = strncpy_from_user(buf, upath, PATH_MAX)
    if n < 0 or (n == 0 and not empty_ok):
        kfree(buf)
        len[0] = n if n < 0 else -ENOENT
        return NULL
    len[0] = n
    return buf

cdef inline vfs_file *get_file(fs_context *ctx, uint64_t fd) noexcept nogil:
    return fdtable_get(&ctx.fdt, <uint32_t>fd)

cdef int64_t start_dir(fs_context *ctx, uint64_t dfd, const char *path, fs_node **out) noexcept nogil:
    # Where a relative path starts: the cwd for AT_FDCWD, else the directory open at dfd.
    cdef int32_t d = <int32_t>dfd
    cdef vfs_file *f
    out[0] = ctx.cwd
    if path[0] == 47 or d == AT_FDCWD:
        return 0
    f = get_file(ctx, <uint64_t><uint32_t>d) if d >= 0 else NULL
    if f == NULL:
        return -EBADF
    if f.node == NULL or (f.node.mode & S_IFMT) != S_IFDIR:
        return -ENOTDIR
    out[0] = f.node
    return 0

# A *at() path: the user string and where it starts.  fetch_path copies it in (EFAULT,
# ENAMETOOLONG, ENOENT for an empty one unless empty_ok); resolve_start finds the start
# directory (EBADF, ENOTDIR); path_at does both, in Linux's order for one-path calls.
# On error nothing is left to release; after success at_path_put releases.
cdef struct at_path:
    char *path
    int64_t len
    fs_node *start

cdef int64_t fetch_path(uint64_t upath, bint empty_ok, at_path *p) noexcept nogil:
    p.start = NULL
    p.path = get_path(upath, empty_ok, &p.len)
    return p.len if p.path == NULL else 0

cdef int64_t resolve_start(fs_context *ctx, uint64_t dfd, at_path *p) noexcept nogil:
    cdef int64_t rc = start_dir(ctx, dfd, p.path, &p.start)
    if rc < 0:
        at_path_put(p)
    return rc

cdef int64_t path_at(fs_context *ctx, uint64_t dfd, uint64_t upath, bint empty_ok, at_path *p) noexcept nogil:
    cdef int64_t rc = fetch_path(upath, empty_ok, p)
    if rc == 0 and p.len != 0:
        rc = resolve_start(ctx, dfd, p)
    return rc

cdef inline void at_path_put(at_path *p) noexcept nogil:
    kfree(p.path)
    p.path = NULL

cdef int64_t fd_object(fs_context *ctx, uint64_t dfd, vfs_kstat *k) noexcept nogil:
    # AT_EMPTY_PATH: the object dfd itself (AT_FDCWD: the cwd); its stat when k is not
    # NULL.  Files without a node (pipes, sockets, anon inodes) are objects too.
    cdef int32_t d = <int32_t>dfd
    cdef vfs_file *f
    if d == AT_FDCWD:
        return vfs_stat_node(ctx.cwd, k) if k != NULL else 0
    f = get_file(ctx, <uint64_t><uint32_t>d) if d >= 0 else NULL
    if f == NULL:
        return -EBADF
    return vfs_fstat(f, k) if k != NULL else 0

cdef int64_t fd_node(fs_context *ctx, uint64_t dfd, fs_node **out) noexcept nogil:
    # AT_EMPTY_PATH for calls that change a node: dfd's node (AT_FDCWD: the cwd).  Files
    # without one (pipes, sockets) give EBADF (Linux changes their anonymous inode).
    cdef int32_t d = <int32_t>dfd
    cdef vfs_file *f
    if d == AT_FDCWD:
        out[0] = ctx.cwd
        return 0
    f = get_file(ctx, <uint64_t><uint32_t>d) if d >= 0 else NULL
    if f == NULL or f.node == NULL:
        return -EBADF
    out[0] = f.node
    return 0

cdef int64_t put_stat(uint64_t ubuf, vfs_kstat *k) noexcept nogil:
    cdef linux_stat s
    memset(&s, 0, sizeof(linux_stat))
    s.lx_dev = k.dev
    s.lx_ino = k.ino
    s.lx_nlink = k.nlink
    s.lx_mode = k.mode
    s.lx_uid = k.uid
    s.lx_gid = k.gid
    s.lx_rdev = k.rdev
    s.lx_size = k.size
    s.lx_blksize = k.blksize
    s.lx_blocks = k.blocks
    s.lx_atime = k.atime_sec
    s.lx_atime_nsec = k.atime_nsec
    s.lx_mtime = k.mtime_sec
    s.lx_mtime_nsec = k.mtime_nsec
    s.lx_ctime = k.ctime_sec
    s.lx_ctime_nsec = k.ctime_nsec
    if copy_to_user(ubuf, &s, sizeof(linux_stat)) < 0:
        return -EFAULT
    return 0

cdef inline void put16(uint8_t *b, uint64_t off, uint16_t v) noexcept nogil:
    memcpy(b + off, &v, 2)

cdef inline void put32(uint8_t *b, uint64_t off, uint32_t v) noexcept nogil:
    memcpy(b + off, &v, 4)

cdef inline void put64(uint8_t *b, uint64_t off, uint64_t v) noexcept nogil:
    memcpy(b + off, &v, 8)

cdef inline uint32_t dev_major(uint64_t d) noexcept nogil:
    return <uint32_t>((d >> 8) & 0xfff)

cdef inline uint32_t dev_minor(uint64_t d) noexcept nogil:
    return <uint32_t>((d & 0xff) | ((d >> 12) & 0xfff00))

cdef int64_t put_statx(uint64_t ubuf, vfs_kstat *k) noexcept nogil:
    # struct statx (include/uapi/linux/stat.h), 256 bytes.
    cdef uint8_t b[LINUX_STATX_SIZE]
    memset(b, 0, LINUX_STATX_SIZE)
    put32(b, 0x00, STATX_BASIC_STATS)       # stx_mask
    put32(b, 0x04, <uint32_t>k.blksize)
    put32(b, 0x10, <uint32_t>k.nlink)
    put32(b, 0x14, k.uid)
    put32(b, 0x18, k.gid)
    put16(b, 0x1c, <uint16_t>k.mode)
    put64(b, 0x20, k.ino)
    put64(b, 0x28, <uint64_t>k.size)
    put64(b, 0x30, <uint64_t>k.blocks)
    put64(b, 0x40, <uint64_t>k.atime_sec)
    put32(b, 0x48, k.atime_nsec)
    put64(b, 0x60, <uint64_t>k.ctime_sec)
    put32(b, 0x68, k.ctime_nsec)
    put64(b, 0x70, <uint64_t>k.mtime_sec)
    put32(b, 0x78, k.mtime_nsec)
    put32(b, 0x80, dev_major(k.rdev))
    put32(b, 0x84, dev_minor(k.rdev))
    put32(b, 0x88, dev_major(k.dev))
    put32(b, 0x8c, dev_minor(k.dev))
    if copy_to_user(ubuf, b, LINUX_STATX_SIZE) < 0:
        return -EFAULT
    return 0

# ------------------------------------------------------------------ open / close

cdef int64_t sys_openat(uint64_t dfd, uint64_t upath, uint64_t flags, uint64_t mode) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef at_path p
    cdef int64_t rc
    cdef vfs_file *f
    if ctx == NULL:
        return -ENOSYS
    rc = fetch_path(upath, False, &p)
    if rc < 0:
        return rc
    rc = fdtable_reserve(&ctx.fdt, 0)       # Linux: EMFILE before the start directory
    if rc < 0:
        at_path_put(&p)
        return rc
    rc = resolve_start(ctx, dfd, &p)
    if rc < 0:
        return rc
    rc = vfs_open(p.start, p.path, <uint64_t>p.len, <uint32_t>flags,
                  <uint32_t>mode & S_IALLUGO & ~ctx.umask, &f)
    at_path_put(&p)
    if rc < 0:
        return rc
    rc = fdtable_install(&ctx.fdt, f, 0, (flags & O_CLOEXEC) != 0)
    if rc < 0:
        vfs_file_put(f)
    return rc

cdef int64_t sys_open(uint64_t upath, uint64_t flags, uint64_t mode) noexcept nogil:
    return sys_openat(<uint64_t>(<int64_t>AT_FDCWD), upath, flags, mode)

cdef int64_t sys_creat(uint64_t upath, uint64_t mode) noexcept nogil:
    return sys_openat(<uint64_t>(<int64_t>AT_FDCWD), upath, O_CREAT | O_WRONLY | O_TRUNC, mode)

cdef int64_t sys_close(uint64_t fd) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    if ctx == NULL:
        return -EBADF
    return fdtable_close(&ctx.fdt, <uint32_t>fd)

# ------------------------------------------------------------------ read / write

# Reads and writes may sleep (pipes, sockets, eventfd, timerfd): they hold a reference
# to the file throughout, so another thread's close leaves it alive until they return.

cdef int64_t transfer(uint64_t fd, uint64_t buf, uint64_t count, bint writing) noexcept nogil:
    """read or write at the file position."""
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef int64_t rc
    if ctx == NULL:
        return -EBADF
    f = fdtable_fget(&ctx.fdt, <uint32_t>fd)
    if f == NULL:
        return -EBADF
    rc = vfs_write(f, buf, count, &f.pos, True) if writing else vfs_read(f, buf, count, &f.pos, True)
    vfs_file_put(f)
    return rc

cdef int64_t sys_read(uint64_t fd, uint64_t buf, uint64_t count) noexcept nogil:
    return transfer(fd, buf, count, False)

cdef int64_t sys_write(uint64_t fd, uint64_t buf, uint64_t count) noexcept nogil:
    return transfer(fd, buf, count, True)

cdef int64_t positional_file(uint64_t fd, uint64_t pos, vfs_file **out) noexcept nogil:
    """The file for pread/pwrite at pos, referenced: 0, or -EINVAL / -EBADF / -ESPIPE as
    Linux orders them (no reference on error)."""
    cdef fs_context *ctx = fs_current()
    if <int64_t>pos < 0:
        return -EINVAL
    if ctx == NULL:
        return -EBADF
    out[0] = get_file(ctx, fd)
    if out[0] == NULL:
        return -EBADF
    if not vfs_file_seekable(out[0]):
        return -ESPIPE
    vfs_file_get(out[0])
    return 0

cdef int64_t positional_transfer(uint64_t fd, uint64_t buf, uint64_t count, uint64_t pos,
                                 bint writing) noexcept nogil:
    """pread64/pwrite64: at pos, the file position untouched."""
    cdef vfs_file *f = NULL
    cdef uint64_t p = pos
    cdef int64_t rc = positional_file(fd, pos, &f)
    if rc < 0:
        return rc
    rc = vfs_write(f, buf, count, &p, True) if writing else vfs_read(f, buf, count, &p, True)
    vfs_file_put(f)
    return rc

cdef int64_t sys_pread64(uint64_t fd, uint64_t buf, uint64_t count, uint64_t pos) noexcept nogil:
    return positional_transfer(fd, buf, count, pos, False)

cdef int64_t sys_pwrite64(uint64_t fd, uint64_t buf, uint64_t count, uint64_t pos) noexcept nogil:
    return positional_transfer(fd, buf, count, pos, True)

cdef int64_t rw_vector(uint64_t fd, uint64_t uiov, uint64_t iovcnt, bint writing, bint positional, uint64_t pos) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef uint64_t *iov
    cdef uint64_t i, total = 0, seglen, p = pos
    cdef uint64_t *posp
    cdef int64_t r, done = 0
    if positional and <int64_t>pos < 0:
        return -EINVAL
    if ctx == NULL:
        return -EBADF
    f = get_file(ctx, fd)
    if f == NULL:
        return -EBADF
    if positional and not vfs_file_seekable(f):
        return -ESPIPE
    if iovcnt > UIO_MAXIOV:
        return -EINVAL
    if iovcnt == 0:
        return 0
    iov = <uint64_t *>kmalloc(iovcnt * IOVEC_SIZE)
    if iov == NULL:
        return -ENOMEM
    if copy_from_user(iov, uiov, iovcnt * IOVEC_SIZE) < 0:
        kfree(iov)
        return -EFAULT
    for i in range(iovcnt):
        seglen = iov[2 * i + 1]
        if seglen > SYSFS_SSIZE_MAX or total + seglen > SYSFS_SSIZE_MAX:
            kfree(iov)
            return -EINVAL
        total += seglen
    vfs_file_get(f)                     # held across the segments' sleeps (see sys_read)
    posp = &p if positional else &f.pos
    total = 0
    for i in range(iovcnt):
        seglen = iov[2 * i + 1]
        if total + seglen > VFS_MAX_RW_COUNT:
            seglen = VFS_MAX_RW_COUNT - total
        if writing:
            r = vfs_write(f, iov[2 * i], seglen, posp, True)
        else:
            r = vfs_read(f, iov[2 * i], seglen, posp, True)
        if r < 0:
            if done == 0:
                done = r
            break
        done += r
        total += <uint64_t>r
        if <uint64_t>r < seglen or total >= VFS_MAX_RW_COUNT:
            break
    vfs_file_put(f)
    kfree(iov)
    return done

cdef int64_t sys_readv(uint64_t fd, uint64_t iov, uint64_t iovcnt) noexcept nogil:
    return rw_vector(fd, iov, iovcnt, False, False, 0)

cdef int64_t sys_writev(uint64_t fd, uint64_t iov, uint64_t iovcnt) noexcept nogil:
    return rw_vector(fd, iov, iovcnt, True, False, 0)

cdef int64_t sys_preadv(uint64_t fd, uint64_t iov, uint64_t iovcnt, uint64_t pos) noexcept nogil:
    return rw_vector(fd, iov, iovcnt, False, True, pos)

cdef int64_t sys_pwritev(uint64_t fd, uint64_t iov, uint64_t iovcnt, uint64_t pos) noexcept nogil:
    return rw_vector(fd, iov, iovcnt, True, True, pos)

cdef int64_t sys_lseek(uint64_t fd, uint64_t offset, uint64_t whence) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    if ctx == NULL:
        return -EBADF
    f = get_file(ctx, fd)
    if f == NULL:
        return -EBADF
    if <uint32_t>whence > SEEK_HOLE:
        return -EINVAL
    return vfs_lseek(f, <int64_t>offset, <int>whence)

# ------------------------------------------------------------------ stat

cdef int64_t stat_at(uint64_t dfd, uint64_t upath, uint64_t flags, vfs_kstat *k) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef at_path p
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    if upath == 0 and (flags & AT_EMPTY_PATH):
        return fd_object(ctx, dfd, k)
    rc = path_at(ctx, dfd, upath, (flags & AT_EMPTY_PATH) != 0, &p)
    if rc < 0:
        return rc
    if p.len == 0:
        rc = fd_object(ctx, dfd, k)
    else:
        rc = vfs_stat(p.start, p.path, <uint64_t>p.len, (flags & AT_SYMLINK_NOFOLLOW) == 0, k)
    at_path_put(&p)
    return rc

cdef int64_t sys_newfstatat(uint64_t dfd, uint64_t upath, uint64_t buf, uint64_t flags) noexcept nogil:
    cdef vfs_kstat k
    cdef int64_t rc
    if flags & ~(<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)):
        return -EINVAL
    rc = stat_at(dfd, upath, flags, &k)
    if rc < 0:
        return rc
    return put_stat(buf, &k)

cdef int64_t sys_stat(uint64_t upath, uint64_t buf) noexcept nogil:
    return sys_newfstatat(<uint64_t>(<int64_t>AT_FDCWD), upath, buf, 0)

cdef int64_t sys_lstat(uint64_t upath, uint64_t buf) noexcept nogil:
    return sys_newfstatat(<uint64_t>(<int64_t>AT_FDCWD), upath, buf, AT_SYMLINK_NOFOLLOW)

cdef int64_t sys_fstat(uint64_t fd, uint64_t buf) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef vfs_kstat k
    cdef int64_t rc
    if ctx == NULL:
        return -EBADF
    f = get_file(ctx, fd)
    if f == NULL:
        return -EBADF
    rc = vfs_fstat(f, &k)
    if rc < 0:
        return rc
    return put_stat(buf, &k)

cdef int64_t sys_statx(uint64_t dfd, uint64_t upath, uint64_t flags, uint64_t mask, uint64_t buf) noexcept nogil:
    cdef vfs_kstat k
    cdef int64_t rc
    if flags & ~(<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)):
        return -EINVAL
    if (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE:
        return -EINVAL
    if <uint32_t>mask & <uint32_t>STATX__RESERVED:
        return -EINVAL
    rc = stat_at(dfd, upath, flags, &k)
    if rc < 0:
        return rc
    return put_statx(buf, &k)

cdef int64_t sys_getdents64(uint64_t fd, uint64_t buf, uint64_t count) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    if ctx == NULL:
        return -EBADF
    f = get_file(ctx, fd)
    if f == NULL:
        return -EBADF
    return vfs_getdents(f, buf, <uint32_t>count)

# ------------------------------------------------------------------ links, access

cdef int64_t sys_readlinkat(uint64_t dfd, uint64_t upath, uint64_t buf, uint64_t bufsiz) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef at_path p
    cdef int64_t rc
    cdef char *out
    cdef uint64_t n = <uint32_t>bufsiz
    if ctx == NULL:
        return -ENOSYS
    if <int32_t>bufsiz <= 0:
        return -EINVAL
    rc = path_at(ctx, dfd, upath, False, &p)
    if rc < 0:
        return rc
    if n > PATH_MAX:
        n = PATH_MAX
    out = <char *>kmalloc(n)
    if out == NULL:
        at_path_put(&p)
        return -ENOMEM
    rc = vfs_readlink(p.start, p.path, <uint64_t>p.len, out, n)
    if rc > 0 and copy_to_user(buf, out, <uint64_t>rc) < 0:
        rc = -EFAULT
    kfree(out)
    at_path_put(&p)
    return rc

cdef int64_t sys_readlink(uint64_t upath, uint64_t buf, uint64_t bufsiz) noexcept nogil:
    return sys_readlinkat(<uint64_t>(<int64_t>AT_FDCWD), upath, buf, bufsiz)

cdef int64_t sys_faccessat2(uint64_t dfd, uint64_t upath, uint64_t mode, uint64_t flags) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef at_path p
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    if <uint32_t>mode & ~(<uint32_t>7):
        return -EINVAL
    if flags & ~(<uint64_t>(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)):
        return -EINVAL
    rc = path_at(ctx, dfd, upath, (flags & AT_EMPTY_PATH) != 0, &p)
    if rc < 0:
        return rc
    if p.len == 0:
        rc = fd_object(ctx, dfd, NULL)
    else:
        rc = vfs_access(p.start, p.path, <uint64_t>p.len, <uint32_t>mode, (flags & AT_SYMLINK_NOFOLLOW) == 0)
    at_path_put(&p)
    return rc

cdef int64_t sys_faccessat(uint64_t dfd, uint64_t upath, uint64_t mode) noexcept nogil:
    return sys_faccessat2(dfd, upath, mode, 0)

cdef int64_t sys_access(uint64_t upath, uint64_t mode) noexcept nogil:
    return sys_faccessat2(<uint64_t>(<int64_t>AT_FDCWD), upath, mode, 0)

cdef int64_t sys_symlinkat(uint64_t utarget, uint64_t newdfd, uint64_t upath) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef at_path target, p
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    rc = fetch_path(utarget, False, &target)
    if rc < 0:
        return rc
    rc = path_at(ctx, newdfd, upath, False, &p)
    if rc == 0:
        rc = vfs_symlink(target.path, <uint64_t>target.len, p.start, p.path, <uint64_t>p.len)
        at_path_put(&p)
    at_path_put(&target)
    return rc

cdef int64_t sys_symlink(uint64_t target, uint64_t linkpath) noexcept nogil:
    return sys_symlinkat(target, <uint64_t>(<int64_t>AT_FDCWD), linkpath)

# ------------------------------------------------------------------ directories

cdef int64_t sys_getcwd(uint64_t buf, uint64_t size) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef char *tmp
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    tmp = <char *>kmalloc(PATH_MAX + 1)
    if tmp == NULL:
        return -ENOMEM
    rc = vfs_path_of(ctx.cwd, tmp, PATH_MAX + 1)
    if rc > 0 and <uint64_t>rc > size:
        rc = -ERANGE
    if rc > 0 and copy_to_user(buf, tmp, <uint64_t>rc) < 0:
        rc = -EFAULT
    kfree(tmp)
    return rc

cdef int64_t sys_chdir(uint64_t upath) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef int64_t len, rc
    cdef char *path
    cdef fs_node *d
    if ctx == NULL:
        return -ENOSYS
    path = get_path(upath, False, &len)
    if path == NULL:
        return len
    rc = vfs_lookup_dir(ctx.cwd, path, <uint64_t>len, &d)
    kfree(path)
    if rc < 0:
        return rc
    fs_set_cwd(ctx, d)
    return 0

cdef int64_t sys_fchdir(uint64_t fd) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    if ctx == NULL:
        return -EBADF
    f = get_file(ctx, fd)
    if f == NULL:
        return -EBADF
    if f.node == NULL or (f.node.mode & S_IFMT) != S_IFDIR:
        return -ENOTDIR
    fs_set_cwd(ctx, f.node)
    return 0

cdef int64_t sys_mkdirat(uint64_t dfd, uint64_t upath, uint64_t mode) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef at_path p
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    rc = path_at(ctx, dfd, upath, False, &p)
    if rc < 0:
        return rc
    rc = vfs_mkdir(p.start, p.path, <uint64_t>p.len, <uint32_t>mode & ~ctx.umask)
    at_path_put(&p)
    return rc

cdef int64_t sys_mkdir(uint64_t upath, uint64_t mode) noexcept nogil:
    return sys_mkdirat(<uint64_t>(<int64_t>AT_FDCWD), upath, mode)

cdef int64_t sys_unlinkat(uint64_t dfd, uint64_t upath, uint64_t flags) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef at_path p
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    if flags & ~(<uint64_t>AT_REMOVEDIR):
        return -EINVAL
    rc = path_at(ctx, dfd, upath, False, &p)
    if rc < 0:
        return rc
    if flags & AT_REMOVEDIR:
        rc = vfs_rmdir(p.start, p.path, <uint64_t>p.len)
    else:
        rc = vfs_unlink(p.start, p.path, <uint64_t>p.len)
    at_path_put(&p)
    return rc

cdef int64_t sys_unlink(uint64_t upath) noexcept nogil:
    return sys_unlinkat(<uint64_t>(<int64_t>AT_FDCWD), upath, 0)

cdef int64_t sys_rmdir(uint64_t upath) noexcept nogil:
    return sys_unlinkat(<uint64_t>(<int64_t>AT_FDCWD), upath, AT_REMOVEDIR)

cdef int64_t link_source(fs_context *ctx, uint64_t dfd, uint64_t upath, uint64_t flags, fs_node **out) noexcept nogil:
    # linkat's old name: the node it names (AT_SYMLINK_FOLLOW follows a last symlink), or
    # with AT_EMPTY_PATH and "" the file open at dfd (AT_FDCWD: the cwd; NULL for files
    # without a node, which are on another filesystem).
    cdef at_path p
    cdef vfs_lookup r
    cdef vfs_file *f
    cdef int32_t d = <int32_t>dfd
    cdef int64_t rc = path_at(ctx, dfd, upath, (flags & AT_EMPTY_PATH) != 0, &p)
    if rc < 0:
        return rc
    if p.len == 0:
        at_path_put(&p)
        if d == AT_FDCWD:
            out[0] = ctx.cwd
            return 0
        f = get_file(ctx, <uint64_t><uint32_t>d) if d >= 0 else NULL
        if f == NULL:
            return -EBADF
        out[0] = f.node
        return 0
    rc = vfs_walk(p.start, p.path, <uint64_t>p.len, VFS_FOLLOW if (flags & AT_SYMLINK_FOLLOW) else 0, &r)
    at_path_put(&p)
    out[0] = r.node
    return rc

cdef int64_t sys_linkat(uint64_t olddfd, uint64_t uold, uint64_t newdfd, uint64_t unew, uint64_t flags) noexcept nogil:
    # Linux's do_linkat: flags, the old name's lookup, then the new name's (we are root, so
    # AT_EMPTY_PATH has the CAP_DAC_READ_SEARCH it needs).
    cdef fs_context *ctx = fs_current()
    cdef at_path new
    cdef fs_node *old = NULL
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    if flags & ~(<uint64_t>(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)):
        return -EINVAL
    rc = link_source(ctx, olddfd, uold, flags, &old)
    if rc < 0:
        return rc
    vfs_node_get(old)           # held while the new name is copied in (that may fault)
    rc = path_at(ctx, newdfd, unew, False, &new)
    if rc == 0:
        rc = vfs_link_node(old, new.start, new.path, <uint64_t>new.len)
        at_path_put(&new)
    vfs_node_put(old)
    return rc

cdef int64_t sys_link(uint64_t uold, uint64_t unew) noexcept nogil:
    return sys_linkat(<uint64_t>(<int64_t>AT_FDCWD), uold, <uint64_t>(<int64_t>AT_FDCWD), unew, 0)

cdef int64_t sys_renameat2(uint64_t olddfd, uint64_t uold, uint64_t newdfd, uint64_t unew, uint64_t flags) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef at_path old, new
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    # Linux copies in both names before it looks at either directory.
    rc = fetch_path(uold, False, &old)
    if rc < 0:
        return rc
    rc = fetch_path(unew, False, &new)
    if rc < 0:
        at_path_put(&old)
        return rc
    rc = resolve_start(ctx, olddfd, &old)
    if rc < 0:
        at_path_put(&new)
        return rc
    rc = resolve_start(ctx, newdfd, &new)
    if rc == 0:
        rc = vfs_rename(old.start, old.path, <uint64_t>old.len, new.start, new.path, <uint64_t>new.len,
                        <uint32_t>flags)
        at_path_put(&new)
    at_path_put(&old)
    return rc

cdef int64_t sys_renameat(uint64_t olddfd, uint64_t uold, uint64_t newdfd, uint64_t unew) noexcept nogil:
    return sys_renameat2(olddfd, uold, newdfd, unew, 0)

cdef int64_t sys_rename(uint64_t uold, uint64_t unew) noexcept nogil:
    return sys_renameat2(<uint64_t>(<int64_t>AT_FDCWD), uold, <uint64_t>(<int64_t>AT_FDCWD), unew, 0)

cdef int64_t sys_truncate(uint64_t upath, uint64_t length) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef int64_t len, rc
    cdef char *path
    if ctx == NULL:
        return -ENOSYS
    if <int64_t>length < 0:
        return -EINVAL
    path = get_path(upath, False, &len)
    if path == NULL:
        return len
    rc = vfs_truncate(ctx.cwd, path, <uint64_t>len, <int64_t>length)
    kfree(path)
    return rc

cdef int64_t sys_ftruncate(uint64_t fd, uint64_t length) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    if <int64_t>length < 0:
        return -EINVAL
    if ctx == NULL:
        return -EBADF
    f = get_file(ctx, fd)
    if f == NULL:
        return -EBADF
    return vfs_ftruncate(f, <int64_t>length)

# ------------------------------------------------------------------ descriptors

cdef int64_t sys_dup(uint64_t fd) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    if ctx == NULL:
        return -EBADF
    return fdtable_dup(&ctx.fdt, <uint32_t>fd, 0, False)

cdef int64_t sys_dup2(uint64_t oldfd, uint64_t newfd) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    if ctx == NULL:
        return -EBADF
    return fdtable_dup2(&ctx.fdt, <uint32_t>oldfd, <uint32_t>newfd, False, False)

cdef int64_t sys_dup3(uint64_t oldfd, uint64_t newfd, uint64_t flags) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    if ctx == NULL:
        return -EBADF
    if flags & ~(<uint64_t>O_CLOEXEC):
        return -EINVAL
    return fdtable_dup2(&ctx.fdt, <uint32_t>oldfd, <uint32_t>newfd, (flags & O_CLOEXEC) != 0, True)

cdef int64_t sys_fcntl(uint64_t fd, uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef uint32_t c = <uint32_t>cmd
    if ctx == NULL:
        return -EBADF
    f = get_file(ctx, fd)
    if f == NULL:
        return -EBADF
    if c == F_DUPFD or c == F_DUPFD_CLOEXEC:
        if <uint32_t>arg >= ctx.fdt.nofile_cur:
            return -EINVAL
        return fdtable_dup(&ctx.fdt, <uint32_t>fd, <uint32_t>arg, c == F_DUPFD_CLOEXEC)
    if c == F_GETFD:
        return fdtable_get_fdflags(&ctx.fdt, <uint32_t>fd)
    if c == F_SETFD:
        return fdtable_set_fdflags(&ctx.fdt, <uint32_t>fd, arg)
    if c == F_GETFL:
        return f.flags
    if f.flags & O_PATH:
        return -EBADF
    if c == F_SETFL:
        f.flags = (f.flags & ~(<uint32_t>VFS_SETFL_MASK)) | (<uint32_t>arg & VFS_SETFL_MASK)
        return 0
    return -EINVAL

cdef int64_t sys_ioctl(uint64_t fd, uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef uint32_t c = <uint32_t>cmd
    if ctx == NULL:
        return -EBADF
    f = get_file(ctx, fd)
    if f == NULL:
        return -EBADF
    if c == FIOCLEX:
        return fdtable_set_fdflags(&ctx.fdt, <uint32_t>fd, FD_CLOEXEC)
    if c == FIONCLEX:
        return fdtable_set_fdflags(&ctx.fdt, <uint32_t>fd, 0)
    return vfs_ioctl(f, c, arg)

cdef int64_t sys_umask(uint64_t mask) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef uint32_t old
    if ctx == NULL:
        return 0o022
    old = ctx.umask
    ctx.umask = <uint32_t>mask & 0o777
    return old

# ------------------------------------------------------------------ metadata, sync

cdef int64_t path_node(fs_context *ctx, uint64_t dfd, uint64_t upath, bint empty_ok, bint follow,
                       fs_node **out) noexcept nogil:
    # The node a *at() path names (an empty path with AT_EMPTY_PATH: dfd's own node).
    cdef at_path p
    cdef vfs_lookup r
    cdef int64_t rc = path_at(ctx, dfd, upath, empty_ok, &p)
    if rc < 0:
        return rc
    if p.len == 0:
        rc = fd_node(ctx, dfd, out)
    else:
        rc = vfs_walk(p.start, p.path, <uint64_t>p.len, VFS_FOLLOW if follow else 0, &r)
        out[0] = r.node
    at_path_put(&p)
    return rc

cdef int64_t open_node(fs_context *ctx, uint64_t fd, fs_node **out) noexcept nogil:
    # The node of an open file, for f*() calls (O_PATH files have none to change: EBADF).
    cdef vfs_file *f = get_file(ctx, fd)
    if f == NULL or f.node == NULL or f.flags & O_PATH:
        return -EBADF
    out[0] = f.node
    return 0

cdef int64_t sys_fchmodat(uint64_t dfd, uint64_t upath, uint64_t mode) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef fs_node *n
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    rc = path_node(ctx, dfd, upath, False, True, &n)
    return rc if rc < 0 else vfs_chmod(n, <uint32_t>mode)

cdef int64_t sys_chmod(uint64_t upath, uint64_t mode) noexcept nogil:
    return sys_fchmodat(<uint64_t>(<int64_t>AT_FDCWD), upath, mode)

cdef int64_t sys_fchmod(uint64_t fd, uint64_t mode) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef fs_node *n
    cdef int64_t rc
    if ctx == NULL:
        return -EBADF
    rc = open_node(ctx, fd, &n)
    return rc if rc < 0 else vfs_chmod(n, <uint32_t>mode)

cdef int64_t sys_fchownat(uint64_t dfd, uint64_t upath, uint64_t uid, uint64_t gid, uint64_t flags) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef fs_node *n
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    if flags & ~(<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)):
        return -EINVAL
    rc = path_node(ctx, dfd, upath, (flags & AT_EMPTY_PATH) != 0, (flags & AT_SYMLINK_NOFOLLOW) == 0, &n)
    return rc if rc < 0 else vfs_chown(n, <uint32_t>uid, <uint32_t>gid)

cdef int64_t sys_chown(uint64_t upath, uint64_t uid, uint64_t gid) noexcept nogil:
    return sys_fchownat(<uint64_t>(<int64_t>AT_FDCWD), upath, uid, gid, 0)

cdef int64_t sys_lchown(uint64_t upath, uint64_t uid, uint64_t gid) noexcept nogil:
    return sys_fchownat(<uint64_t>(<int64_t>AT_FDCWD), upath, uid, gid, AT_SYMLINK_NOFOLLOW)

cdef int64_t sys_fchown(uint64_t fd, uint64_t uid, uint64_t gid) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef fs_node *n
    cdef int64_t rc
    if ctx == NULL:
        return -EBADF
    rc = open_node(ctx, fd, &n)
    return rc if rc < 0 else vfs_chown(n, <uint32_t>uid, <uint32_t>gid)

cdef inline bint utime_nsec_valid(int64_t nsec) noexcept nogil:
    return nsec == UTIME_NOW or nsec == UTIME_OMIT or (nsec >= 0 and nsec < NSEC_PER_SEC)

cdef int64_t sys_utimensat(uint64_t dfd, uint64_t upath, uint64_t utimes, uint64_t flags) noexcept nogil:
    # Linux's order: copy the times (EFAULT), both UTIME_OMIT is done before any lookup,
    # then the fd or the path, then the nanoseconds (EINVAL), then the filesystem (EROFS).
    cdef fs_context *ctx = fs_current()
    cdef linux_timespec ts[2]
    cdef int64_t rc
    cdef fs_node *n = NULL
    if ctx == NULL:
        return -ENOSYS
    if utimes != 0:
        if copy_from_user(ts, utimes, sizeof(ts)) < 0:
            return -EFAULT
        if ts[0].tv_nsec == UTIME_OMIT and ts[1].tv_nsec == UTIME_OMIT:
            return 0
    else:
        ts[0].tv_sec = ts[1].tv_sec = 0
        ts[0].tv_nsec = ts[1].tv_nsec = UTIME_NOW
    if upath == 0 and <int32_t>dfd != AT_FDCWD:
        # futimens: the open file itself.
        if flags != 0:
            return -EINVAL
        rc = open_node(ctx, dfd, &n)
    elif flags & ~(<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)):
        return -EINVAL
    else:
        rc = path_node(ctx, dfd, upath, (flags & AT_EMPTY_PATH) != 0, (flags & AT_SYMLINK_NOFOLLOW) == 0, &n)
    if rc < 0:
        return rc
    if not utime_nsec_valid(ts[0].tv_nsec) or not utime_nsec_valid(ts[1].tv_nsec):
        return -EINVAL
    return vfs_utimes(n, ts[0].tv_sec, ts[0].tv_nsec, ts[1].tv_sec, ts[1].tv_nsec)

cdef int64_t sys_fsync(uint64_t fd) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    if ctx == NULL:
        return -EBADF
    f = get_file(ctx, fd)
    if f == NULL or f.flags & O_PATH:
        return -EBADF
    return vfs_fsync(f)

cdef int64_t sys_fdatasync(uint64_t fd) noexcept nogil:
    return sys_fsync(fd)
