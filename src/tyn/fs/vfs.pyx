# The virtual filesystem (see vfs.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from tyn.fs.flock cimport flock_file_release
from tyn.fs.fsnode cimport *
from tyn.fs.cpiofs cimport cpiofs_mount, cpiofs_add_dir, CPIO_DEV
from tyn.fs.tmpfs cimport *
from tyn.mm.heap cimport kmalloc, kcalloc, kfree
from tyn.arch.cpu cimport memcpy, memset, memcmp, rdtsc, cpu_relax
from tyn.arch.uaccess cimport copy_to_user, copy_from_user, clear_user
from tyn.drivers.serial cimport serial_rx_irq_enabled, serial_poll_rx
from tyn.fs.tty cimport tty_read, tty_write, tty_poll, tty_ioctl, tty_wakeups
from tyn.fs.iowait cimport iowait_until
from tyn.lib.kprint cimport kputs
from tyn.sys.errno cimport *
from tyn.fs.epoll cimport epoll_file_release

cdef enum:
    BOGO_DIRENT_SIZE = 20           # tmpfs' st_size per directory entry
    DIRENT_HEADER = 19              # offsetof(struct linux_dirent64, d_name)
    CHUNK = 256
    RENAME_NOREPLACE = 1
    DEV_INO_BASE = 0x100000

cdef fs_node *root
cdef fs_node *console_node
cdef vfs_file_ops node_ops
cdef vfs_file_ops dev_ops
cdef vfs_file_ops console_ops
cdef vfs_random_fn random_fn
cdef uint64_t rng_state

# ------------------------------------------------------------------ setup

cdef void default_random(uint8_t *buf, uint64_t n) noexcept nogil:
    # xorshift64*: only a stand-in until the kernel installs RDRAND (vfs_set_random_source).
    global rng_state
    cdef uint64_t i, x
    if rng_state == 0:
        rng_state = rdtsc() | 1
    for i in range(n):
        x = rng_state
        x ^= x >> 12
        x ^= x << 25
        x ^= x >> 27
        rng_state = x
        buf[i] = <uint8_t>((x * <uint64_t>0x2545F4914F6CDD1D) >> 56)

cdef void vfs_set_random_source(vfs_random_fn fn) noexcept nogil:
    global random_fn
    random_fn = fn

cdef void vfs_set_clock(vfs_clock_fn fn) noexcept nogil:
    tmpfs_set_clock(fn)

cdef fs_node *vfs_root() noexcept nogil:
    return root

cdef void vfs_reset() noexcept nogil:
    global root, console_node, random_fn, rng_state
    # Memory is not walked: tests start over with a fresh heap.
    root = NULL
    console_node = NULL
    random_fn = NULL
    rng_state = 0
    tmpfs_reset()

cdef fs_node *make_dev(fs_node *dir, const char *name, uint32_t len, uint32_t mode, uint32_t kind,
                       uint32_t major, uint32_t minor) noexcept nogil:
    cdef fs_node *n
    if dir != NULL and fsnode_lookup(dir, name, len) != NULL:
        return NULL
    n = fsnode_alloc()
    if n == NULL:
        return NULL
    n.name = name
    n.namelen = len
    n.mode = S_IFCHR | mode
    n.nlink = 1
    n.fs = FS_DEV if dir != NULL else FS_ANON
    n.devkind = kind
    n.rdev = (major << 8) | minor
    n.ino = DEV_INO_BASE + (major << 8) + minor
    if dir != NULL:
        fsnode_link_child(dir, n)
    else:
        n.parent = n
    return n

cdef void setup_ops() noexcept nogil:
    memset(&node_ops, 0, sizeof(vfs_file_ops))
    node_ops.read = node_read
    node_ops.write = node_write
    node_ops.lseek = node_lseek
    node_ops.getdents = node_getdents
    node_ops.ioctl = node_ioctl
    node_ops.caps = VFS_CAP_SEEK
    memset(&dev_ops, 0, sizeof(vfs_file_ops))
    dev_ops.read = dev_read
    dev_ops.write = dev_write
    dev_ops.lseek = dev_lseek
    dev_ops.caps = VFS_CAP_SEEK
    memset(&console_ops, 0, sizeof(vfs_file_ops))
    console_ops.read = console_read
    console_ops.write = console_write
    console_ops.poll = console_poll
    console_ops.ioctl = console_ioctl

cdef int64_t vfs_init(const uint8_t *archive, uint64_t size) noexcept nogil:
    global root, console_node
    cdef fs_node *r = NULL
    cdef fs_node *tmp
    cdef fs_node *troot
    cdef fs_node *dev
    cdef int64_t rc
    vfs_reset()
    setup_ops()
    if archive == NULL or size == 0:
        r = fsnode_alloc()
        if r == NULL:
            return -ENOMEM
        r.mode = S_IFDIR | 0o755
        r.nlink = 2
        r.fs = FS_CPIO
        r.ino = 1
        r.next_dseq = 2
        r.parent = r
    else:
        rc = cpiofs_mount(archive, size, &r)
        if rc < 0:
            return rc
    console_node = make_dev(NULL, b"console", 7, 0o620, DEVKIND_CONSOLE, 5, 1)
    if console_node == NULL:
        return -ENOMEM
    tmp = cpiofs_add_dir(r, b"tmp", 3, 0o1777, FS_CPIO)
    if tmp == NULL:
        kputs(b"tyn: vfs: /tmp is not a directory in the archive; tmpfs not mounted\n")
    else:
        rc = tmpfs_new_root(&troot)
        if rc < 0:
            return rc
        tmp.mounted = troot
        troot.covers = tmp
    dev = cpiofs_add_dir(r, b"dev", 3, 0o755, FS_DEV)
    if dev == NULL:
        kputs(b"tyn: vfs: /dev is not a directory in the archive; no devices\n")
    else:
        make_dev(dev, b"null", 4, 0o666, DEVKIND_NULL, 1, 3)
        make_dev(dev, b"zero", 4, 0o666, DEVKIND_ZERO, 1, 5)
        make_dev(dev, b"random", 6, 0o666, DEVKIND_RANDOM, 1, 8)
        make_dev(dev, b"urandom", 7, 0o666, DEVKIND_URANDOM, 1, 9)
        make_dev(dev, b"console", 7, 0o600, DEVKIND_CONSOLE, 5, 1)
        make_dev(dev, b"tty", 3, 0o666, DEVKIND_CONSOLE, 5, 0)     # the controlling tty: the console's
    root = r
    return 0

# ------------------------------------------------------------------ nodes

cdef void vfs_node_get(fs_node *n) noexcept nogil:
    if n != NULL:
        n.refs += 1

cdef void vfs_node_put(fs_node *n) noexcept nogil:
    if n == NULL:
        return
    n.refs -= 1
    if n.fs == FS_TMPFS:
        tmpfs_node_release(n)

cdef bint vfs_node_readonly(const fs_node *n) noexcept nogil:
    return n.fs == FS_CPIO or n.fs == FS_DEV or n.fs == FS_ANON

cdef inline bint is_dir(const fs_node *n) noexcept nogil:
    return (n.mode & S_IFMT) == S_IFDIR

cdef inline bint is_lnk(const fs_node *n) noexcept nogil:
    return (n.mode & S_IFMT) == S_IFLNK

cdef inline bint is_reg(const fs_node *n) noexcept nogil:
    return (n.mode & S_IFMT) == S_IFREG

cdef fs_node *dotdot(fs_node *n) noexcept nogil:
    while n.covers != NULL:         # a mounted root: go up from the covered directory
        n = n.covers
    return n.parent

cdef inline fs_node *cross_mounts(fs_node *n) noexcept nogil:
    while n.mounted != NULL:
        n = n.mounted
    return n

cdef const char *link_target(fs_node *n) noexcept nogil:
    if n.fs == FS_TMPFS:
        return n.link
    return <const char *>n.data

# ------------------------------------------------------------------ path walk

cdef int64_t walk(fs_node *start, const char *p, uint64_t len, int flags, int *links, vfs_lookup *res) noexcept nogil:
    cdef fs_node *cur = start
    cdef fs_node *nxt
    cdef fs_node *entry
    cdef uint64_t i = 0, s, j, clen
    cdef bint last, trailing
    cdef uint32_t ltype
    cdef vfs_lookup sub
    cdef int64_t rc
    res.node = NULL
    res.parent = NULL
    res.last = NULL
    res.lastlen = 0
    res.last_type = VFS_LAST_ROOT
    res.trailing_slash = False
    res.entry = NULL
    if root == NULL or len == 0:
        return -ENOENT
    if p[0] == 47:
        cur = root
    if cur == NULL:
        return -ENOENT
    while True:
        while i < len and p[i] == 47:
            i += 1
        if i == len:                    # "/" or only slashes
            res.node = cur
            res.parent = cur
            res.last_type = VFS_LAST_ROOT
            return 0
        s = i
        while i < len and p[i] != 47:
            i += 1
        clen = i - s
        j = i
        while j < len and p[j] == 47:
            j += 1
        last = j == len
        trailing = last and j > i
        if not is_dir(cur):
            return -ENOTDIR
        if clen > NAME_MAX:
            return -ENAMETOOLONG
        if last:
            res.parent = cur
            res.last = p + s
            res.lastlen = <uint32_t>clen
            res.trailing_slash = trailing
        entry = NULL
        if clen == 1 and p[s] == 46:
            nxt = cur
            ltype = VFS_LAST_DOT
        elif clen == 2 and p[s] == 46 and p[s + 1] == 46:
            nxt = cur if cur == root else dotdot(cur)
            ltype = VFS_LAST_DOTDOT
        else:
            ltype = VFS_LAST_NORM
            nxt = fsnode_lookup(cur, p + s, <uint32_t>clen)
            if nxt == NULL:
                if last and (flags & VFS_PARENT):
                    res.last_type = VFS_LAST_NORM
                    return 0
                return -ENOENT
            entry = nxt
            nxt = cross_mounts(fsnode_inode(nxt))
            # The last component: VFS_FOLLOW follows it; a trailing slash does too, except for
            # operations on the parent (create/remove/rename act on the link itself).
            if is_lnk(nxt) and (not last or
                                ((flags & VFS_FOLLOW) and not (trailing and (flags & VFS_PARENT))) or
                                (trailing and not (flags & VFS_PARENT))):
                links[0] += 1
                if links[0] > VFS_MAXSYMLINKS:
                    return -ELOOP
                rc = walk(cur, link_target(nxt), nxt.size,
                          VFS_FOLLOW | ((flags & VFS_PARENT) if last else 0), links, &sub)
                if rc < 0:
                    return rc
                if sub.node == NULL:
                    if not last:
                        return -ENOENT
                    # A dangling last symlink being created through (O_CREAT).
                    res.parent = sub.parent
                    res.last = sub.last
                    res.lastlen = sub.lastlen
                    res.last_type = VFS_LAST_NORM
                    return 0
                nxt = sub.node
                entry = sub.entry
        if last:
            res.node = nxt
            res.entry = entry
            res.last_type = ltype
            if trailing and not (flags & VFS_PARENT) and not is_dir(nxt):
                return -ENOTDIR
            return 0
        cur = nxt
        i = j

cdef int64_t vfs_walk(fs_node *start, const char *path, uint64_t len, int flags, vfs_lookup *res) noexcept nogil:
    cdef int links = 0
    return walk(start, path, len, flags, &links, res)

cdef int64_t vfs_lookup_dir(fs_node *start, const char *path, uint64_t len, fs_node **out) noexcept nogil:
    cdef vfs_lookup r
    cdef int64_t rc = vfs_walk(start, path, len, VFS_FOLLOW, &r)
    if rc < 0:
        return rc
    if not is_dir(r.node):
        return -ENOTDIR
    out[0] = r.node
    return 0

# ------------------------------------------------------------------ open files

cdef vfs_file *vfs_file_new(const vfs_file_ops *ops, fs_node *node, uint32_t flags, void *priv) noexcept nogil:
    cdef vfs_file *f = <vfs_file *>kcalloc(1, sizeof(vfs_file))
    if f == NULL:
        return NULL
    f.refs = 1
    f.flags = flags
    f.ops = ops
    f.node = node
    f.priv = priv
    vfs_node_get(node)
    return f

cdef void vfs_file_get(vfs_file *f) noexcept nogil:
    f.refs += 1

cdef void vfs_file_put(vfs_file *f) noexcept nogil:
    if f == NULL:
        return
    f.refs -= 1
    if f.refs != 0:
        return
    if f.epoll_links != NULL:
        epoll_file_release(f)
    flock_file_release(f)
    if f.ops != NULL and f.ops.close != NULL:
        f.ops.close(f)
    vfs_node_put(f.node)
    kfree(f)

cdef bint vfs_file_seekable(vfs_file *f) noexcept nogil:
    return (f.ops.caps & VFS_CAP_SEEK) != 0

cdef vfs_file *vfs_console_open(uint32_t flags) noexcept nogil:
    if console_node == NULL:
        return NULL
    cdef vfs_file *f = vfs_file_new(&console_ops, console_node, flags | O_LARGEFILE, NULL)
    if f != NULL:
        f.wakeups = tty_wakeups()
    return f

cdef int64_t vfs_open_node(fs_node *n, uint32_t flags, vfs_file **out) noexcept nogil:
    cdef const vfs_file_ops *ops = &node_ops
    cdef uint32_t keep
    if (n.mode & S_IFMT) == S_IFCHR:
        ops = &console_ops if n.devkind == DEVKIND_CONSOLE else &dev_ops
    if (n.mode & S_IFMT) == S_IFSOCK and not (flags & O_PATH):
        return -ENXIO               # a socket inode (AF_UNIX bind) is not opened, only connected to
    if flags & O_PATH:
        keep = O_PATH | (flags & (O_DIRECTORY | O_NOFOLLOW)) | O_LARGEFILE
    else:
        keep = (flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_DSYNC | O_SYNC |
                         O_DIRECTORY | O_NOFOLLOW | O_ASYNC)) | O_LARGEFILE
        keep &= ~<uint32_t>O_ASYNC
    out[0] = vfs_file_new(ops, n, keep, NULL)
    if out[0] == NULL:
        return -ENOMEM
    if ops == &console_ops:
        out[0].wakeups = tty_wakeups()
    return 0

cdef int64_t open_tmpfile(fs_node *start, const char *path, uint64_t len, uint32_t flags, uint32_t mode,
                          vfs_file **out) noexcept nogil:
    """O_TMPFILE in Linux's order: build_open_flags (O_DIRECTORY set and O_CREAT clear, a
    writable access mode; O_PATH dropped it before), then do_tmpfile: the directory's lookup
    (ENOENT, ENOTDIR), mnt_want_write (EROFS), the filesystem's tmpfile op (tmpfs only:
    EOPNOTSUPP elsewhere).  Without O_EXCL the file may be linked later."""
    cdef vfs_lookup r
    cdef fs_node *n
    cdef int64_t rc
    cdef uint32_t acc = flags & O_ACCMODE
    if (flags & (O_TMPFILE | O_CREAT)) != O_TMPFILE or (acc != O_WRONLY and acc != O_RDWR):
        return -EINVAL
    rc = vfs_walk(start, path, len, 0 if flags & O_NOFOLLOW else VFS_FOLLOW, &r)
    if rc < 0:
        return rc
    if not is_dir(r.node):
        return -ENOTDIR
    if vfs_node_readonly(r.node):
        return -EROFS
    if r.node.fs != FS_TMPFS:
        return -EOPNOTSUPP
    rc = tmpfs_create_tmpfile(S_IFREG | (mode & S_IALLUGO), (flags & O_EXCL) == 0, &n)
    if rc < 0:
        return rc
    rc = vfs_open_node(n, flags & ~(<uint32_t>(O_TMPFILE | O_EXCL)), out)
    if rc < 0:
        tmpfs_node_release(n)
    return rc

cdef int64_t vfs_open(fs_node *start, const char *path, uint64_t len, uint32_t flags, uint32_t mode, vfs_file **out) noexcept nogil:
    cdef vfs_lookup r
    cdef int wflags = 0
    cdef uint32_t acc = flags & O_ACCMODE
    cdef int64_t rc
    cdef fs_node *n
    cdef bint writing
    out[0] = NULL
    if (flags & O_CREAT) and (flags & O_DIRECTORY):
        return -EINVAL
    if flags & O_PATH:
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC     # O_TMPFILE too, as Linux
    if flags & O_TMPFILE_ONLY:
        return open_tmpfile(start, path, len, flags, mode, out)
    if not (flags & O_NOFOLLOW) and not ((flags & O_CREAT) and (flags & O_EXCL)):
        wflags |= VFS_FOLLOW
    if flags & O_CREAT:
        wflags |= VFS_PARENT
    rc = vfs_walk(start, path, len, wflags, &r)
    if rc < 0:
        return rc
    n = r.node
    if (flags & O_CREAT) and r.trailing_slash and r.last_type == VFS_LAST_NORM:
        return -EISDIR              # Linux: O_CREAT with a trailing slash, existing or not
    if n == NULL:
        if vfs_node_readonly(r.parent):
            return -EROFS
        rc = tmpfs_create(r.parent, r.last, r.lastlen, S_IFREG | (mode & S_IALLUGO), NULL, 0, &n)
        if rc < 0:
            return rc
    else:
        if (flags & O_CREAT) and (flags & O_EXCL):
            return -EEXIST
        if r.trailing_slash and not is_dir(n):
            return -ENOTDIR
        # Linux's do_open checks O_DIRECTORY before may_open refuses a symlink.
        if (flags & O_DIRECTORY) and not is_dir(n):
            return -ENOTDIR
        if is_lnk(n) and not (flags & O_PATH):
            return -ELOOP
        if not (flags & O_PATH):
            writing = acc != O_RDONLY or (flags & O_TRUNC) != 0
            if is_dir(n) and ((flags & O_CREAT) or writing):
                return -EISDIR
            if writing and vfs_node_readonly(n) and (is_reg(n) or is_dir(n) or is_lnk(n)):
                return -EROFS
            if (flags & O_TRUNC) and is_reg(n) and n.fs == FS_TMPFS:
                tmpfs_truncate(n, 0)
    return vfs_open_node(n, flags, out)

cdef inline bint can_read(vfs_file *f) noexcept nogil:
    return not (f.flags & O_PATH) and ((f.flags & O_ACCMODE) == O_RDONLY or (f.flags & O_ACCMODE) == O_RDWR)

cdef inline bint can_write(vfs_file *f) noexcept nogil:
    return not (f.flags & O_PATH) and ((f.flags & O_ACCMODE) == O_WRONLY or (f.flags & O_ACCMODE) == O_RDWR)

cdef int64_t vfs_read(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    if not can_read(f):
        return -EBADF
    if f.ops.read == NULL:
        return -EINVAL
    if n > VFS_MAX_RW_COUNT:
        n = VFS_MAX_RW_COUNT
    return f.ops.read(f, buf, n, pos, user)

cdef int64_t vfs_write(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    if not can_write(f):
        return -EBADF
    if f.ops.write == NULL:
        return -EINVAL
    if n > VFS_MAX_RW_COUNT:
        n = VFS_MAX_RW_COUNT
    return f.ops.write(f, buf, n, pos, user)

cdef int64_t vfs_lseek(vfs_file *f, int64_t off, int whence) noexcept nogil:
    if f.flags & O_PATH:
        return -EBADF
    if f.ops.lseek == NULL:
        return -ESPIPE
    return f.ops.lseek(f, off, whence)

cdef int64_t vfs_fstat(vfs_file *f, vfs_kstat *st) noexcept nogil:
    if f.ops.stat != NULL:
        return f.ops.stat(f, st)
    if f.node == NULL:
        memset(st, 0, sizeof(vfs_kstat))
        return 0
    return vfs_stat_node(f.node, st)

cdef int64_t vfs_getdents(vfs_file *f, uint64_t ubuf, uint64_t n) noexcept nogil:
    if f.flags & O_PATH:
        return -EBADF
    if f.ops.getdents == NULL:
        return -ENOTDIR
    return f.ops.getdents(f, ubuf, n)

cdef uint32_t vfs_poll(vfs_file *f) noexcept nogil:
    if f.ops.poll == NULL:
        return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM
    return f.ops.poll(f)

cdef int64_t vfs_ioctl(vfs_file *f, uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef int v
    if f.flags & O_PATH:
        return -EBADF
    if cmd == FIONBIO:
        if copy_from_user(&v, arg, sizeof(int)) < 0:
            return -EFAULT
        if v:
            f.flags |= O_NONBLOCK
        else:
            f.flags &= ~<uint32_t>O_NONBLOCK
        return 0
    if f.ops.ioctl == NULL:
        return -ENOTTY
    return f.ops.ioctl(f, cmd, arg)

cdef int64_t vfs_ftruncate(vfs_file *f, int64_t length) noexcept nogil:
    if length < 0:
        return -EINVAL
    if f.flags & O_PATH:
        return -EBADF
    if f.node == NULL or not is_reg(f.node) or not can_write(f):
        return -EINVAL
    if f.node.fs != FS_TMPFS:
        return -EROFS
    return tmpfs_truncate(f.node, <uint64_t>length)

# ------------------------------------------------------------------ node files (cpio, tmpfs)

cdef uint64_t copy_out_paged(uint64_t ubuf, const uint8_t *src, uint64_t count) noexcept nogil:
    # Bytes copied before the first fault (all of count if none).
    cdef uint64_t done = 0, chunk
    while done < count:
        chunk = 4096 - ((ubuf + done) & 4095)
        if chunk > count - done:
            chunk = count - done
        if copy_to_user(ubuf + done, src + done, chunk) < 0:
            break
        done += chunk
    return done

cdef int64_t node_read(vfs_file *f, uint64_t buf, uint64_t count, uint64_t *pos, bint user) noexcept nogil:
    cdef fs_node *n = f.node
    cdef uint64_t off = pos[0]
    cdef int64_t r
    if is_dir(n):
        return -EISDIR
    if n.fs == FS_TMPFS:
        r = tmpfs_read(n, buf, count, off, user)
    else:
        if off >= n.size:
            return 0
        if count > n.size - off:
            count = n.size - off
        if user:
            # Page by page of the user buffer, so a fault part-way returns what was copied.
            r = <int64_t>copy_out_paged(buf, n.data + off, count)
            if r == 0:
                return -EFAULT
            count = <uint64_t>r
        else:
            memcpy(<void *>buf, n.data + off, count)
        r = <int64_t>count
    if r > 0:
        pos[0] = off + <uint64_t>r
    return r

cdef int64_t node_write(vfs_file *f, uint64_t buf, uint64_t count, uint64_t *pos, bint user) noexcept nogil:
    cdef fs_node *n = f.node
    cdef int64_t r
    if n.fs != FS_TMPFS or not is_reg(n):
        return -EINVAL
    if f.flags & O_APPEND:
        pos[0] = n.size
    r = tmpfs_write(n, buf, count, pos[0], user)
    if r > 0:
        pos[0] += <uint64_t>r
    return r

cdef int64_t node_lseek(vfs_file *f, int64_t off, int whence) noexcept nogil:
    cdef fs_node *n = f.node
    cdef int64_t base
    cdef int64_t size = <int64_t>n.size
    if whence == SEEK_SET:
        base = 0
    elif whence == SEEK_CUR:
        base = <int64_t>f.pos
    elif whence == SEEK_END and not is_dir(n):
        base = size
    elif (whence == SEEK_DATA or whence == SEEK_HOLE) and not is_dir(n):
        if off < 0 or off >= size:
            return -ENXIO
        if whence == SEEK_HOLE:
            off = size
        f.pos = <uint64_t>off
        return off
    else:
        return -EINVAL
    if (off > 0 and base > (<int64_t>0x7fffffffffffffff) - off) or base + off < 0:
        return -EINVAL
    f.pos = <uint64_t>(base + off)
    return base + off

cdef int64_t node_ioctl(vfs_file *f, uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef int v
    if cmd == FIONREAD and is_reg(f.node):
        v = <int>(f.node.size - f.pos) if f.pos < f.node.size else 0
        if copy_to_user(arg, &v, sizeof(int)) < 0:
            return -EFAULT
        return 0
    return -ENOTTY

cdef uint8_t dtype_of(const fs_node *n) noexcept nogil:
    cdef uint32_t t = n.mode & S_IFMT
    if t == S_IFDIR:
        return DT_DIR
    if t == S_IFREG:
        return DT_REG
    if t == S_IFLNK:
        return DT_LNK
    if t == S_IFCHR:
        return DT_CHR
    if t == S_IFIFO:
        return DT_FIFO
    if t == S_IFSOCK:
        return DT_SOCK
    return DT_UNKNOWN

cdef int64_t emit_dirent(uint64_t ubuf, uint64_t room, uint64_t ino, uint64_t next_off, uint8_t dtype,
                         const char *name, uint32_t namelen) noexcept nogil:
    # One struct linux_dirent64 at ubuf: its length, 0 if it does not fit, or -EFAULT.
    cdef uint8_t rec[DIRENT_HEADER + NAME_MAX + 1 + 8]
    cdef uint64_t reclen = (DIRENT_HEADER + namelen + 1 + 7) & ~(<uint64_t>7)
    cdef uint16_t rl = <uint16_t>reclen
    if reclen > room:
        return 0
    memset(rec, 0, reclen)
    memcpy(rec, &ino, 8)
    memcpy(rec + 8, &next_off, 8)
    memcpy(rec + 16, &rl, 2)
    rec[18] = dtype
    memcpy(rec + DIRENT_HEADER, name, namelen)
    if copy_to_user(ubuf, rec, reclen) < 0:
        return -EFAULT
    return <int64_t>reclen

cdef int64_t node_getdents(vfs_file *f, uint64_t ubuf, uint64_t count) noexcept nogil:
    cdef fs_node *d = f.node
    cdef fs_node *c
    cdef uint64_t used = 0
    cdef int64_t r
    if not is_dir(d):
        return -ENOTDIR
    if d.nlink == 0:
        return -ENOENT
    while True:
        if f.pos == 0:
            r = emit_dirent(ubuf + used, count - used, d.ino, 1, DT_DIR, b".", 1)
        elif f.pos == 1:
            c = d if d == root else dotdot(d)
            r = emit_dirent(ubuf + used, count - used, c.ino, 2, DT_DIR, b"..", 2)
        else:
            c = d.first_child
            while c != NULL and c.dseq < f.pos:
                c = c.next_sibling
            if c == NULL:
                break
            r = emit_dirent(ubuf + used, count - used, cross_mounts(fsnode_inode(c)).ino, c.dseq + 1,
                            dtype_of(fsnode_inode(c)), c.name, c.namelen)
            if r > 0:
                f.pos = c.dseq          # advanced below
        if r < 0:
            return r if used == 0 else <int64_t>used
        if r == 0:
            if used == 0:
                return -EINVAL
            break
        used += <uint64_t>r
        f.pos += 1
    return <int64_t>used

# ------------------------------------------------------------------ /dev/null, zero, (u)random

cdef inline int64_t copy_out(uint64_t dst, const void *src, uint64_t n, bint user) noexcept nogil:
    """To a user address (0 or -EFAULT) or, for in-kernel callers, a kernel pointer."""
    if user:
        return copy_to_user(dst, src, n)
    memcpy(<void *>dst, src, n)
    return 0

cdef int64_t dev_read(vfs_file *f, uint64_t buf, uint64_t count, uint64_t *pos, bint user) noexcept nogil:
    cdef uint8_t tmp[CHUNK]
    cdef uint64_t done = 0, chunk
    cdef uint32_t kind = f.node.devkind
    cdef vfs_random_fn fill
    if kind == DEVKIND_NULL:
        return 0
    if kind == DEVKIND_ZERO:
        if user:
            if clear_user(buf, count) < 0:
                return -EFAULT
        else:
            memset(<void *>buf, 0, count)
        return <int64_t>count
    fill = random_fn if random_fn != NULL else default_random
    while done < count:
        chunk = count - done
        if chunk > CHUNK:
            chunk = CHUNK
        fill(tmp, chunk)
        if copy_out(buf + done, tmp, chunk, user) < 0:
            return <int64_t>done if done > 0 else -EFAULT
        done += chunk
    return <int64_t>done

cdef int64_t dev_write(vfs_file *f, uint64_t buf, uint64_t count, uint64_t *pos, bint user) noexcept nogil:
    return <int64_t>count

cdef int64_t dev_lseek(vfs_file *f, int64_t off, int whence) noexcept nogil:
    f.pos = 0
    return 0

# ------------------------------------------------------------------ the console (COM1's tty)

cdef int64_t console_read(vfs_file *f, uint64_t buf, uint64_t count, uint64_t *pos, bint user) noexcept nogil:
    cdef int64_t rc
    if serial_rx_irq_enabled():     # the receive interrupt feeds the tty and wakes readers
        return tty_read(buf, count, (f.flags & O_NONBLOCK) != 0, user)
    while True:                     # no receive interrupt: poll the UART
        serial_poll_rx()
        rc = tty_read(buf, count, True, user)
        if rc != -EAGAIN or (f.flags & O_NONBLOCK):
            return rc
        cpu_relax()

cdef int64_t console_write(vfs_file *f, uint64_t buf, uint64_t count, uint64_t *pos, bint user) noexcept nogil:
    return tty_write(buf, count, (f.flags & O_NONBLOCK) != 0, user)

cdef uint32_t console_poll(vfs_file *f) noexcept nogil:
    if not serial_rx_irq_enabled():
        serial_poll_rx()
    return tty_poll()

cdef int64_t console_ioctl(vfs_file *f, uint64_t cmd, uint64_t arg) noexcept nogil:
    return tty_ioctl(cmd, arg)

# ------------------------------------------------------------------ stat

cdef int64_t vfs_stat_node(fs_node *n, vfs_kstat *st) noexcept nogil:
    memset(st, 0, sizeof(vfs_kstat))
    if n.fs == FS_CPIO:
        st.dev = CPIO_DEV
    elif n.fs == FS_TMPFS:
        st.dev = TMPFS_DEV
    elif n.fs == FS_DEV:
        st.dev = VFS_DEVFS_DEV
    else:
        st.dev = VFS_ANON_DEV
    st.ino = n.ino
    st.nlink = n.nlink
    st.mode = n.mode
    st.uid = n.uid
    st.gid = n.gid
    st.rdev = n.rdev
    st.blksize = 4096
    if is_dir(n):
        st.size = <int64_t>((n.nentries + 2) * BOGO_DIRENT_SIZE)
    elif is_reg(n) or is_lnk(n):
        st.size = <int64_t>n.size
    if n.fs == FS_TMPFS:
        st.blocks = <int64_t>(tmpfs_page_count(n) * 8)
    elif is_reg(n):
        st.blocks = <int64_t>((n.size + 511) // 512)
    st.atime_sec = n.atime_sec
    st.atime_nsec = n.atime_nsec
    st.mtime_sec = n.mtime_sec
    st.mtime_nsec = n.mtime_nsec
    st.ctime_sec = n.ctime_sec
    st.ctime_nsec = n.ctime_nsec
    return 0

cdef int64_t vfs_stat(fs_node *start, const char *path, uint64_t len, bint follow, vfs_kstat *st) noexcept nogil:
    cdef vfs_lookup r
    cdef int64_t rc = vfs_walk(start, path, len, VFS_FOLLOW if follow else 0, &r)
    if rc < 0:
        return rc
    return vfs_stat_node(r.node, st)

# ------------------------------------------------------------------ namespace operations

cdef int64_t vfs_mkdir(fs_node *start, const char *path, uint64_t len, uint32_t mode) noexcept nogil:
    cdef vfs_lookup r
    cdef fs_node *n
    cdef int64_t rc = vfs_walk(start, path, len, VFS_PARENT, &r)
    if rc < 0:
        return rc
    if r.node != NULL:
        return -EEXIST
    if vfs_node_readonly(r.parent):
        return -EROFS
    return tmpfs_create(r.parent, r.last, r.lastlen, S_IFDIR | (mode & (0o777 | S_ISVTX)), NULL, 0, &n)

cdef int64_t vfs_mknod_socket(fs_node *start, const char *path, uint64_t len, uint32_t mode,
                             fs_node **out) noexcept nogil:
    # mknod(S_IFSOCK) as unix_bind does it: -EEXIST (the caller's EADDRINUSE) when taken.
    cdef vfs_lookup r
    cdef int64_t rc = vfs_walk(start, path, len, VFS_PARENT, &r)
    out[0] = NULL
    if rc < 0:
        return rc
    if r.node != NULL:
        return -EEXIST
    if r.trailing_slash or r.last_type != VFS_LAST_NORM:
        return -ENOENT
    if vfs_node_readonly(r.parent):
        return -EROFS
    rc = tmpfs_create(r.parent, r.last, r.lastlen, S_IFSOCK | (mode & 0o777), NULL, 0, out)
    if rc == 0:
        vfs_node_get(out[0])
    return rc

cdef int64_t vfs_symlink(const char *target, uint64_t tlen, fs_node *start, const char *path, uint64_t len) noexcept nogil:
    cdef vfs_lookup r
    cdef fs_node *n
    cdef int64_t rc
    if tlen == 0:
        return -ENOENT
    rc = vfs_walk(start, path, len, VFS_PARENT, &r)
    if rc < 0:
        return rc
    if r.node != NULL:
        return -EEXIST
    if r.trailing_slash:
        return -ENOENT
    if vfs_node_readonly(r.parent):
        return -EROFS
    return tmpfs_create(r.parent, r.last, r.lastlen, S_IFLNK | 0o777, target, tlen, &n)

cdef int64_t vfs_rmdir(fs_node *start, const char *path, uint64_t len) noexcept nogil:
    cdef vfs_lookup r
    cdef fs_node *n
    cdef int64_t rc = vfs_walk(start, path, len, VFS_PARENT, &r)
    if rc < 0:
        return rc
    if r.last_type == VFS_LAST_DOTDOT:
        return -ENOTEMPTY
    if r.last_type == VFS_LAST_DOT:
        return -EINVAL
    if r.last_type == VFS_LAST_ROOT:
        return -EBUSY
    if vfs_node_readonly(r.parent):
        return -EROFS
    n = r.node
    if n == NULL:
        return -ENOENT
    if not is_dir(n):
        return -ENOTDIR
    if n.covers != NULL or n.mounted != NULL:
        return -EBUSY
    if n.nentries != 0:
        return -ENOTEMPTY
    tmpfs_remove(n)
    return 0

cdef int64_t vfs_unlink(fs_node *start, const char *path, uint64_t len) noexcept nogil:
    cdef vfs_lookup r
    cdef fs_node *n
    cdef int64_t rc = vfs_walk(start, path, len, VFS_PARENT, &r)
    if rc < 0:
        return rc
    if r.last_type != VFS_LAST_NORM:
        return -EISDIR
    if vfs_node_readonly(r.parent):
        return -EROFS
    n = r.node
    if n == NULL:
        return -ENOENT
    if is_dir(n):
        return -EISDIR
    if r.trailing_slash:
        return -ENOTDIR
    tmpfs_remove(r.entry)
    return 0

cdef bint ancestor_or_self(fs_node *a, fs_node *n) noexcept nogil:
    while True:
        if n == a:
            return True
        if n.parent == n or n.parent == NULL:
            return False
        n = n.parent

cdef uint32_t mount_of(fs_node *dir) noexcept nogil:
    return dir.fs

cdef int64_t vfs_rename(fs_node *ostart, const char *opath, uint64_t olen,
                        fs_node *nstart, const char *npath, uint64_t nlen, uint32_t flags) noexcept nogil:
    cdef vfs_lookup ro, rn
    cdef fs_node *old
    cdef fs_node *new
    cdef int64_t rc
    if flags & ~(<uint32_t>RENAME_NOREPLACE):
        return -EINVAL
    rc = vfs_walk(ostart, opath, olen, VFS_PARENT, &ro)
    if rc < 0:
        return rc
    rc = vfs_walk(nstart, npath, nlen, VFS_PARENT, &rn)
    if rc < 0:
        return rc
    if mount_of(ro.parent) != mount_of(rn.parent):
        return -EXDEV
    if ro.last_type != VFS_LAST_NORM:
        return -EBUSY
    if rn.last_type != VFS_LAST_NORM:
        return -EEXIST if (flags & RENAME_NOREPLACE) else -EBUSY
    if vfs_node_readonly(ro.parent):
        return -EROFS
    # Linux's order: old missing, NOREPLACE target, trailing slashes, the two ancestry traps.
    old = ro.node
    if old == NULL:
        return -ENOENT
    new = rn.node
    if (flags & RENAME_NOREPLACE) and new != NULL:
        return -EEXIST
    if not is_dir(old) and (ro.trailing_slash or rn.trailing_slash):
        return -ENOTDIR
    if ro.parent != rn.parent and ancestor_or_self(old, rn.parent):
        return -EINVAL
    if ro.parent != rn.parent and new != NULL and ancestor_or_self(new, ro.parent):
        return -ENOTEMPTY
    if old == new:
        return 0
    if new != NULL:
        if is_dir(old) and not is_dir(new):
            return -ENOTDIR
        if not is_dir(old) and is_dir(new):
            return -EISDIR
        if is_dir(new) and new.nentries != 0:
            return -ENOTEMPTY
        if new.covers != NULL or new.mounted != NULL or old.covers != NULL or old.mounted != NULL:
            return -EBUSY
    elif rn.parent.nlink == 0:
        return -ENOENT
    # Two names of one file: old == new above, nothing to do (Linux too).
    if new != NULL:
        tmpfs_remove(rn.entry)
    return tmpfs_move(ro.entry, rn.parent, rn.last, rn.lastlen)

cdef int64_t vfs_link_node(fs_node *old, fs_node *nstart, const char *npath, uint64_t nlen) noexcept nogil:
    # Linux's filename_create, then the mount check of do_linkat, then vfs_link.
    cdef vfs_lookup r
    cdef int64_t rc = vfs_walk(nstart, npath, nlen, VFS_PARENT, &r)
    if rc < 0:
        return rc
    if r.last_type != VFS_LAST_NORM or r.node != NULL:
        return -EEXIST
    if r.trailing_slash:
        return -ENOENT
    if vfs_node_readonly(r.parent):
        return -EROFS
    if old == NULL or old.fs != mount_of(r.parent) or (old.flags & FSNODE_NO_MOUNT):
        return -EXDEV
    if r.parent.nlink == 0:
        return -ENOENT
    if is_dir(old):
        return -EPERM
    if old.nlink == 0 and not (old.flags & FSNODE_LINKABLE):
        return -ENOENT              # unlinked, or an O_TMPFILE file opened with O_EXCL
    rc = tmpfs_link(old, r.parent, r.last, r.lastlen)
    if rc == 0:
        old.flags &= ~FSNODE_LINKABLE   # Linux clears I_LINKABLE once it has a name
    return rc

cdef int64_t vfs_truncate(fs_node *start, const char *path, uint64_t len, int64_t length) noexcept nogil:
    cdef vfs_lookup r
    cdef int64_t rc
    if length < 0:
        return -EINVAL
    rc = vfs_walk(start, path, len, VFS_FOLLOW, &r)
    if rc < 0:
        return rc
    if is_dir(r.node):
        return -EISDIR
    if not is_reg(r.node):
        return -EINVAL
    if vfs_node_readonly(r.node):
        return -EROFS
    return tmpfs_truncate(r.node, <uint64_t>length)

cdef int64_t vfs_readlink(fs_node *start, const char *path, uint64_t len, char *buf, uint64_t bufsiz) noexcept nogil:
    cdef vfs_lookup r
    cdef uint64_t n
    cdef int64_t rc = vfs_walk(start, path, len, 0, &r)
    if rc < 0:
        return rc
    if not is_lnk(r.node):
        return -EINVAL
    n = r.node.size
    if n > bufsiz:
        n = bufsiz
    memcpy(buf, link_target(r.node), n)
    return <int64_t>n

cdef int64_t vfs_access(fs_node *start, const char *path, uint64_t len, uint32_t mode, bint follow) noexcept nogil:
    cdef vfs_lookup r
    cdef fs_node *n
    cdef int64_t rc = vfs_walk(start, path, len, VFS_FOLLOW if follow else 0, &r)
    if rc < 0:
        return rc
    n = r.node
    # uid 0: read and write are always granted (DAC override), execute needs an x bit
    # on anything but a directory.
    if (mode & W_OK) and vfs_node_readonly(n) and (is_reg(n) or is_dir(n) or is_lnk(n)):
        return -EROFS
    if (mode & X_OK) and not is_dir(n) and (n.mode & S_IXUGO) == 0:
        return -EACCES
    return 0

cdef int64_t vfs_path_of(fs_node *n, char *buf, uint64_t size) noexcept nogil:
    cdef char *tmp
    cdef uint64_t at = PATH_MAX, total
    if root == NULL or n.nlink == 0:
        return -ENOENT
    tmp = <char *>kmalloc(PATH_MAX)
    if tmp == NULL:
        return -ENOMEM
    while n != root:
        if n.covers != NULL:
            n = n.covers
            continue
        if at < n.namelen + 1:
            kfree(tmp)
            return -ENAMETOOLONG
        at -= n.namelen
        memcpy(tmp + at, n.name, n.namelen)
        at -= 1
        tmp[at] = 47
        n = n.parent
    if at == PATH_MAX:
        at -= 1
        tmp[at] = 47
    total = PATH_MAX - at + 1
    if total > size:
        kfree(tmp)
        return -ERANGE
    memcpy(buf, tmp + at, total - 1)
    buf[total - 1] = 0
    kfree(tmp)
    return <int64_t>total

# ------------------------------------------------------------------ metadata

cdef int64_t vfs_chmod(fs_node *n, uint32_t mode) noexcept nogil:
    if vfs_node_readonly(n):
        return -EROFS
    n.mode = (n.mode & S_IFMT) | (mode & S_IALLUGO)
    tmpfs_touch(n, False)
    return 0

cdef int64_t vfs_chown(fs_node *n, uint32_t uid, uint32_t gid) noexcept nogil:
    if vfs_node_readonly(n):
        return -EROFS
    if uid != VFS_NO_ID:
        n.uid = uid
    if gid != VFS_NO_ID:
        n.gid = gid
    if not is_dir(n):
        n.mode &= ~(<uint32_t>S_ISUID)
        if (n.mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP):
            n.mode &= ~(<uint32_t>S_ISGID)
    tmpfs_touch(n, False)
    return 0

cdef int64_t vfs_utimes(fs_node *n, int64_t asec, int64_t ansec, int64_t msec, int64_t mnsec) noexcept nogil:
    cdef int64_t now_sec
    cdef uint32_t now_nsec
    if vfs_node_readonly(n):
        return -EROFS
    tmpfs_now(&now_sec, &now_nsec)
    if ansec == UTIME_NOW:
        n.atime_sec, n.atime_nsec = now_sec, now_nsec
    elif ansec != UTIME_OMIT:
        n.atime_sec, n.atime_nsec = asec, <uint32_t>ansec
    if mnsec == UTIME_NOW:
        n.mtime_sec, n.mtime_nsec = now_sec, now_nsec
    elif mnsec != UTIME_OMIT:
        n.mtime_sec, n.mtime_nsec = msec, <uint32_t>mnsec
    n.ctime_sec, n.ctime_nsec = now_sec, now_nsec
    return 0

cdef int64_t vfs_fsync(vfs_file *f) noexcept nogil:
    # Names and data live in memory only, nothing to write back: Linux's noop_fsync of
    # tmpfs/ramfs.  Pipes, sockets and character devices have no fsync there (EINVAL).
    if f.ops == &node_ops:
        return 0
    return -EINVAL
