# eventfd (see eventfd.pxd; Linux fs/eventfd.c for the semantics reproduced here).
from libc.stdint cimport uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport (vfs_file, vfs_file_ops, vfs_kstat, vfs_file_new, vfs_file_put,
                         O_RDWR, O_NONBLOCK, POLLIN, POLLOUT, POLLERR, POLLRDNORM, POLLWRNORM)
from tyn.fs.iowait cimport iowait_until
from tyn.fs.wakeups cimport io_wakeups_init, io_wake_in, io_wake_out
from tyn.fs.anoninode cimport anon_inode_stat
from tyn.fs.fdtable cimport fdtable_install
from tyn.fs.context cimport fs_context, fs_current
from tyn.proc.waitq cimport io_notify
from tyn.mm.heap cimport kcalloc, kfree
from tyn.arch.cpu cimport memset, memcpy
from tyn.arch.uaccess cimport copy_to_user, copy_from_user
from tyn.sys.errno cimport EINVAL, EFAULT, EAGAIN, ENOMEM, ENOSYS

cdef extern from *:
    """
    #define EVENTFD_ULLONG_MAX ((uint64_t)0xffffffffffffffffULL)
    """
    const uint64_t EVENTFD_ULLONG_MAX

cdef vfs_file_ops ops
cdef bint ops_ready

cdef struct write_wait:
    eventfd_ctx *ctx
    uint64_t add

cdef void setup_ops() noexcept nogil:
    global ops_ready
    memset(&ops, 0, sizeof(vfs_file_ops))
    ops.read = eventfd_read
    ops.write = eventfd_write
    ops.lseek = eventfd_lseek
    ops.stat = anon_inode_stat
    ops.poll = eventfd_poll
    ops.close = eventfd_release
    ops_ready = True

cdef vfs_file *eventfd_create(uint64_t initval, uint32_t flags) noexcept nogil:
    cdef eventfd_ctx *c
    cdef vfs_file *f
    if not ops_ready:
        setup_ops()
    c = <eventfd_ctx *>kcalloc(1, sizeof(eventfd_ctx))
    if c == NULL:
        return NULL
    c.count = initval
    c.semaphore = (flags & EFD_SEMAPHORE) != 0
    io_wakeups_init(&c.wq, POLLIN, POLLOUT)
    f = vfs_file_new(&ops, NULL, O_RDWR | (flags & O_NONBLOCK), c)
    if f == NULL:
        kfree(c)
        return NULL
    f.wakeups = &c.wq
    return f

cdef bint eventfd_file_is_eventfd(vfs_file *f) noexcept nogil:
    return f.ops == &ops

cdef bint nonzero(void *arg) noexcept nogil:
    return (<eventfd_ctx *>arg).count > 0

cdef bint fits(void *arg) noexcept nogil:
    cdef write_wait *w = <write_wait *>arg
    return EVENTFD_ULLONG_MAX - w.ctx.count > w.add

cdef int64_t put_value(uint64_t buf, uint64_t v, bint user) noexcept nogil:
    if user:
        if copy_to_user(buf, &v, 8) < 0:
            return -EFAULT
    else:
        memcpy(<void *>buf, &v, 8)
    return 8

cdef int64_t eventfd_read(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    cdef eventfd_ctx *c = <eventfd_ctx *>f.priv
    cdef uint64_t v
    cdef int64_t rc
    if n < 8:
        return -EINVAL
    while c.count == 0:
        if f.flags & O_NONBLOCK:
            return -EAGAIN
        rc = iowait_until(nonzero, c)
        if rc < 0:
            return rc
    v = 1 if c.semaphore else c.count
    c.count -= v
    io_wake_out(&c.wq)
    io_notify()
    # As Linux: the counter is consumed before the copy, so a fault loses the value.
    return put_value(buf, v, user)

cdef int64_t eventfd_write(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    cdef eventfd_ctx *c = <eventfd_ctx *>f.priv
    cdef uint64_t v
    cdef int64_t rc
    cdef write_wait w
    if n < 8:
        return -EINVAL
    if user:
        if copy_from_user(&v, buf, 8) < 0:
            return -EFAULT
    else:
        memcpy(&v, <const void *>buf, 8)
    if v == EVENTFD_ULLONG_MAX:
        return -EINVAL
    w.ctx = c
    w.add = v
    while not fits(&w):
        if f.flags & O_NONBLOCK:
            return -EAGAIN
        rc = iowait_until(fits, &w)
        if rc < 0:
            return rc
    c.count += v
    io_wake_in(&c.wq)                   # Linux wakes readers even for a 0 (EPOLLET sees it)
    io_notify()
    return 8

cdef int64_t eventfd_lseek(vfs_file *f, int64_t off, int whence) noexcept nogil:
    return <int64_t>f.pos           # Linux noop_llseek: the position, unchanged

cdef uint32_t eventfd_poll(vfs_file *f) noexcept nogil:
    cdef eventfd_ctx *c = <eventfd_ctx *>f.priv
    cdef uint32_t mask = 0
    if c.count > 0:
        mask |= POLLIN | POLLRDNORM
    if c.count == EVENTFD_ULLONG_MAX:
        mask |= POLLERR
    if EVENTFD_ULLONG_MAX - 1 > c.count:
        mask |= POLLOUT | POLLWRNORM
    return mask

cdef void eventfd_release(vfs_file *f) noexcept nogil:
    kfree(f.priv)

cdef int64_t sys_eventfd2(uint64_t initval, uint64_t flags) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef int64_t fd
    if <uint32_t>flags & ~(<uint32_t>(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK)):    # an int
        return -EINVAL
    if ctx == NULL:
        return -ENOSYS
    f = eventfd_create(<uint32_t>initval, <uint32_t>flags)     # initval is an unsigned int
    if f == NULL:
        return -ENOMEM
    fd = fdtable_install(&ctx.fdt, f, 0, (flags & EFD_CLOEXEC) != 0)
    if fd < 0:
        vfs_file_put(f)
    return fd

cdef int64_t sys_eventfd(uint64_t initval) noexcept nogil:
    return sys_eventfd2(initval, 0)
