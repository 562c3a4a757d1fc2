# Per-process file descriptor table (see fdtable.pxd).
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file, vfs_file_get, vfs_file_put
from tyn.mm.heap cimport krealloc, kfree, kcalloc
from tyn.arch.cpu cimport memset, memcpy
from tyn.sys.errno cimport EBADF, EMFILE, ENOMEM, EINVAL, EPERM

cdef enum:
    INITIAL_SLOTS = 64

cdef void fdtable_init(fdtable *t) noexcept nogil:
    t.files = NULL
    t.fdflags = NULL
    t.cap = 0
    t.nofile_cur = FDTABLE_NOFILE_CUR
    t.nofile_max = FDTABLE_NOFILE_MAX

cdef bint grow(fdtable *t, uint64_t need) noexcept nogil:
    # Make slot need-1 exist.
    cdef uint64_t cap = t.cap if t.cap else INITIAL_SLOTS
    cdef vfs_file **files
    cdef uint8_t *flags
    if need <= t.cap:
        return True
    while cap < need:
        cap *= 2
    files = <vfs_file **>krealloc(t.files, cap * sizeof(vfs_file *))
    if files == NULL:
        return False
    t.files = files
    flags = <uint8_t *>krealloc(t.fdflags, cap)
    if flags == NULL:
        return False
    t.fdflags = flags
    memset(t.files + t.cap, 0, (cap - t.cap) * sizeof(vfs_file *))
    memset(t.fdflags + t.cap, 0, cap - t.cap)
    t.cap = <uint32_t>cap
    return True

cdef int64_t lowest_free(fdtable *t, uint64_t minfd) noexcept nogil:
    cdef uint64_t fd = minfd
    while fd < t.cap and t.files[fd] != NULL:
        fd += 1
    if fd >= t.nofile_cur:
        return -EMFILE
    if not grow(t, fd + 1):
        return -ENOMEM
    return <int64_t>fd

cdef int64_t fdtable_reserve(fdtable *t, uint64_t minfd) noexcept nogil:
    return lowest_free(t, minfd)

cdef int64_t fdtable_install(fdtable *t, vfs_file *f, uint64_t minfd, bint cloexec) noexcept nogil:
    cdef int64_t fd = lowest_free(t, minfd)
    if fd < 0:
        return fd
    t.files[fd] = f
    t.fdflags[fd] = FD_CLOEXEC if cloexec else 0
    return fd

cdef vfs_file *fdtable_get(fdtable *t, uint64_t fd) noexcept nogil:
    if fd >= t.cap:
        return NULL
    return t.files[fd]

cdef vfs_file *fdtable_fget(fdtable *t, uint64_t fd) noexcept nogil:
    cdef vfs_file *f = fdtable_get(t, fd)
    if f != NULL:
        vfs_file_get(f)
    return f

cdef int64_t fdtable_close(fdtable *t, uint64_t fd) noexcept nogil:
    cdef vfs_file *f = fdtable_get(t, fd)
    if f == NULL:
        return -EBADF
    t.files[fd] = NULL
    t.fdflags[fd] = 0
    vfs_file_put(f)
    return 0

cdef int64_t fdtable_dup(fdtable *t, uint64_t fd, uint64_t minfd, bint cloexec) noexcept nogil:
    cdef vfs_file *f = fdtable_get(t, fd)
    cdef int64_t nfd
    if f == NULL:
        return -EBADF
    nfd = fdtable_install(t, f, minfd, cloexec)
    if nfd >= 0:
        vfs_file_get(f)
    return nfd

cdef int64_t fdtable_dup2(fdtable *t, uint64_t oldfd, uint64_t newfd, bint cloexec, bint dup3) noexcept nogil:
    cdef vfs_file *f = fdtable_get(t, oldfd)
    cdef vfs_file *old
    if oldfd == newfd:
        if dup3:
            return -EINVAL
        return <int64_t>newfd if f != NULL else -EBADF
    if newfd >= t.nofile_cur:
        return -EBADF
    if f == NULL:
        return -EBADF
    if not grow(t, newfd + 1):
        return -ENOMEM
    old = t.files[newfd]
    vfs_file_get(f)
    t.files[newfd] = f
    t.fdflags[newfd] = FD_CLOEXEC if cloexec else 0
    if old != NULL:
        vfs_file_put(old)
    return <int64_t>newfd

cdef int64_t fdtable_get_fdflags(fdtable *t, uint64_t fd) noexcept nogil:
    if fdtable_get(t, fd) == NULL:
        return -EBADF
    return t.fdflags[fd]

cdef int64_t fdtable_set_fdflags(fdtable *t, uint64_t fd, uint64_t flags) noexcept nogil:
    if fdtable_get(t, fd) == NULL:
        return -EBADF
    t.fdflags[fd] = FD_CLOEXEC if (flags & FD_CLOEXEC) else 0
    return 0

cdef int64_t fdtable_set_limit(fdtable *t, uint64_t cur, uint64_t max) noexcept nogil:
    if cur > max:
        return -EINVAL
    if max > FDTABLE_NR_OPEN:
        return -EPERM
    t.nofile_cur = cur
    t.nofile_max = max
    return 0

cdef void fdtable_get_limit(fdtable *t, uint64_t *cur, uint64_t *max) noexcept nogil:
    cur[0] = t.nofile_cur
    max[0] = t.nofile_max

cdef uint64_t fdtable_count(fdtable *t) noexcept nogil:
    cdef uint64_t i, n = 0
    for i in range(t.cap):
        if t.files[i] != NULL:
            n += 1
    return n

cdef void fdtable_close_all(fdtable *t) noexcept nogil:
    cdef uint64_t i
    for i in range(t.cap):
        if t.files[i] != NULL:
            fdtable_close(t, i)
    kfree(t.files)
    kfree(t.fdflags)
    t.files = NULL
    t.fdflags = NULL
    t.cap = 0

cdef void fdtable_close_on_exec(fdtable *t) noexcept nogil:
    cdef uint64_t i
    for i in range(t.cap):
        if t.files[i] != NULL and (t.fdflags[i] & FD_CLOEXEC):
            fdtable_close(t, i)

cdef int64_t fdtable_clone(fdtable *dst, fdtable *src) noexcept nogil:
    cdef uint64_t i
    fdtable_init(dst)
    dst.nofile_cur = src.nofile_cur
    dst.nofile_max = src.nofile_max
    if src.cap == 0:
        return 0
    if not grow(dst, src.cap):
        kfree(dst.files)
        dst.files = NULL
        dst.cap = 0
        return -ENOMEM
    for i in range(src.cap):
        dst.files[i] = src.files[i]
        dst.fdflags[i] = src.fdflags[i]
        if dst.files[i] != NULL:
            vfs_file_get(dst.files[i])
    return 0
