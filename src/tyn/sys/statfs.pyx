# statfs/fstatfs.  Each of Tyn's filesystems answers as its Linux counterpart does:
#   root (the boot archive, read-only)  ramfs (an initramfs root), ST_RDONLY: simple_statfs,
#                                       no block or inode counts
#   /tmp (tmpfs, no size limit)         tmpfs: shmem_statfs of a mount without size= /
#                                       nr_inodes= (no counts)
#   /dev, the console                   devtmpfs: tmpfs's magic, no counts
#   pipes, sockets, eventfd/epoll/...   pipefs, sockfs, anon_inodefs: simple_statfs
# The filesystem is known by the st_dev its files report.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memset
from tyn.arch.uaccess cimport copy_to_user, strncpy_from_user
from tyn.fs.anoninode cimport ANON_INODE_DEV
from tyn.fs.context cimport fs_context, fs_current
from tyn.fs.cpiofs cimport CPIO_DEV
from tyn.fs.fdtable cimport fdtable_get
from tyn.fs.fsnode cimport PATH_MAX, NAME_MAX
from tyn.fs.pipe cimport PIPEFS_DEV
from tyn.fs.tmpfs cimport TMPFS_DEV
from tyn.fs.vfs cimport vfs_file, vfs_kstat, vfs_stat, vfs_fstat, VFS_DEVFS_DEV, VFS_ANON_DEV
from tyn.mm.heap cimport kmalloc, kfree
from tyn.net.socket cimport SOCKFS_DEV
from tyn.sys.errno cimport EBADF, EFAULT, ENOENT, ENOMEM, ENAMETOOLONG, ENOSYS

cdef enum:
    # include/uapi/linux/magic.h
    RAMFS_MAGIC = 0x858458f6
    TMPFS_MAGIC = 0x01021994
    PIPEFS_MAGIC = 0x50495045
    SOCKFS_MAGIC = 0x534F434B
    ANON_INODE_FS_MAGIC = 0x09041934
    # statfs f_flags (include/linux/statfs.h)
    ST_RDONLY = 0x0001
    ST_VALID = 0x0020               # f_flags is filled in (every statfs since 2.6.36)
    STATFS_BLOCK_SIZE = 4096        # PAGE_SIZE: what simple_statfs and shmem_statfs report

cdef struct linux_statfs:
    int64_t f_type
    int64_t f_bsize
    uint64_t f_blocks
    uint64_t f_bfree
    uint64_t f_bavail
    uint64_t f_files
    uint64_t f_ffree
    int32_t f_fsid[2]
    int64_t f_namelen
    int64_t f_frsize
    int64_t f_flags
    int64_t f_spare[4]

cdef int64_t put_statfs(uint64_t dev, uint64_t buf) noexcept nogil:
    cdef linux_statfs s
    memset(&s, 0, sizeof(s))
    if dev == CPIO_DEV:
        s.f_type = RAMFS_MAGIC
        s.f_flags = ST_RDONLY
    elif dev == TMPFS_DEV or dev == VFS_DEVFS_DEV or dev == VFS_ANON_DEV:
        s.f_type = TMPFS_MAGIC
    elif dev == PIPEFS_DEV:
        s.f_type = PIPEFS_MAGIC
    elif dev == SOCKFS_DEV:
        s.f_type = SOCKFS_MAGIC
    elif dev == ANON_INODE_DEV:
        s.f_type = ANON_INODE_FS_MAGIC
    else:
        return -ENOSYS              # a filesystem this table does not know: a kernel bug
    s.f_bsize = STATFS_BLOCK_SIZE
    s.f_frsize = STATFS_BLOCK_SIZE
    s.f_namelen = NAME_MAX
    s.f_flags |= ST_VALID
    return -EFAULT if copy_to_user(buf, &s, sizeof(s)) != 0 else 0

cdef int64_t sys_statfs(uint64_t upath, uint64_t buf) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_kstat k
    cdef char *path
    cdef int64_t n
    if ctx == NULL:
        return -ENOSYS
    path = <char *>kmalloc(PATH_MAX)
    if path == NULL:
        return -ENOMEM
    n = strncpy_from_user(path, upath, PATH_MAX)
    if n == 0:
        n = -ENOENT
    if n > 0:
        n = vfs_stat(ctx.cwd, path, <uint64_t>n, True, &k)
    kfree(path)
    if n < 0:
        return n
    return put_statfs(k.dev, buf)

cdef int64_t sys_fstatfs(uint64_t fd, uint64_t buf) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef vfs_kstat k
    cdef int64_t rc
    if ctx == NULL:
        return -ENOSYS
    f = fdtable_get(&ctx.fdt, <uint32_t>fd) if fd <= 0x7fffffff else NULL
    if f == NULL:
        return -EBADF
    rc = vfs_fstat(f, &k)
    if rc < 0:
        return rc
    return put_statfs(k.dev, buf)
