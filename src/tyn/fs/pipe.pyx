# Pipes (see pipe.pxd).  The kernel does not preempt itself: a syscall runs undisturbed
# until it sleeps in iowait_until, so the ring needs no lock; every change that can make
# a sleeper's condition true is followed by io_notify().
from libc.stdint cimport uint32_t, uint64_t, int64_t, int32_t
from tyn.fs.vfs cimport (vfs_file, vfs_file_ops, vfs_kstat, vfs_file_new, vfs_file_put,
                         O_RDONLY, O_WRONLY, O_NONBLOCK, O_CLOEXEC, POLLIN, POLLOUT, POLLERR,
                         POLLHUP, POLLRDNORM, POLLWRNORM, FIONREAD)
from tyn.fs.bytering cimport *
from tyn.fs.wakeups cimport io_wakeups_init, io_wake_in, io_wake_out, io_wake_all
from tyn.fs.iowait cimport iowait_until
from tyn.fs.fsnode cimport S_IFIFO
from tyn.fs.fdtable cimport fdtable_install, fdtable_close
from tyn.fs.context cimport fs_context, fs_current
from tyn.proc.waitq cimport io_notify
from tyn.mm.heap cimport kcalloc, kfree
from tyn.arch.cpu cimport memset
from tyn.arch.uaccess cimport copy_to_user
from tyn.sys.errno cimport EINVAL, EFAULT, EAGAIN, EPIPE, ENOMEM, ENOTTY, ENOSYS

cdef vfs_file_ops read_ops
cdef vfs_file_ops write_ops
cdef bint ops_ready
cdef uint64_t last_ino

cdef struct write_wait:
    pipe_inode *p
    uint64_t need

cdef void setup_ops() noexcept nogil:
    global ops_ready, write_ops
    memset(&read_ops, 0, sizeof(vfs_file_ops))
    read_ops.read = pipe_read
    read_ops.stat = pipe_stat
    read_ops.poll = pipe_poll
    read_ops.ioctl = pipe_ioctl
    read_ops.close = pipe_release
    write_ops = read_ops
    write_ops.read = NULL
    write_ops.write = pipe_write
    ops_ready = True

cdef int64_t pipe_create(uint32_t flags, vfs_file **rd, vfs_file **wr) noexcept nogil:
    global last_ino
    cdef pipe_inode *p
    if not ops_ready:
        setup_ops()
    p = <pipe_inode *>kcalloc(1, sizeof(pipe_inode))
    if p == NULL:
        return -ENOMEM
    if bytering_init(&p.ring, PIPE_CAPACITY) < 0:
        kfree(p)
        return -ENOMEM
    last_ino += 1
    p.ino = last_ino
    io_wakeups_init(&p.rd_wait, POLLIN | POLLRDNORM, 0)
    io_wakeups_init(&p.wr_wait, 0, POLLOUT | POLLWRNORM)
    rd[0] = vfs_file_new(&read_ops, NULL, O_RDONLY | (flags & O_NONBLOCK), p)
    wr[0] = vfs_file_new(&write_ops, NULL, O_WRONLY | (flags & O_NONBLOCK), p)
    if rd[0] == NULL or wr[0] == NULL:
        if rd[0] != NULL:
            rd[0].ops = NULL            # nothing to release yet
            vfs_file_put(rd[0])
        if wr[0] != NULL:
            wr[0].ops = NULL
            vfs_file_put(wr[0])
        bytering_free(&p.ring)
        kfree(p)
        return -ENOMEM
    rd[0].wakeups = &p.rd_wait
    wr[0].wakeups = &p.wr_wait
    p.readers = 1
    p.writers = 1
    return 0

cdef bint pipe_file_is_pipe(vfs_file *f) noexcept nogil:
    return f.ops == &read_ops or f.ops == &write_ops

# ------------------------------------------------------------------ read / write

cdef bint readable(void *arg) noexcept nogil:
    cdef pipe_inode *p = <pipe_inode *>arg
    return bytering_used(&p.ring) > 0 or p.writers == 0

cdef bint writable(void *arg) noexcept nogil:
    cdef write_wait *w = <write_wait *>arg
    return bytering_room(&w.p.ring) >= w.need or w.p.readers == 0

cdef inline bint full(pipe_inode *p) noexcept nogil:
    # Linux's pipe_full: no room for another page buffer (here: an atomic write), so not
    # writable (pipe_poll).
    return bytering_room(&p.ring) < PIPE_BUF

cdef int64_t read_done(pipe_inode *p, int64_t r, bint was_full, bint slept) noexcept nogil:
    # pipe_read's wakeups on its way out: writers if the pipe was full when the read (or
    # its last sleep) began; the next reader if this one slept and data is left.  A read
    # that changed nothing (EAGAIN, EOF) wakes no poller.
    cdef bint changed = r > 0
    if was_full:
        io_wake_out(&p.wr_wait)
        changed = True
    if slept and bytering_used(&p.ring) > 0:
        io_wake_in(&p.rd_wait)
        changed = True
    if changed:
        io_notify()
    return r

cdef int64_t pipe_read(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    cdef pipe_inode *p = <pipe_inode *>f.priv
    cdef uint64_t used
    cdef int64_t r
    cdef bint was_full, slept = False
    if n == 0:
        return 0
    was_full = full(p)
    while True:
        used = bytering_used(&p.ring)
        if used > 0:
            r = bytering_get(&p.ring, 0, buf, n if n < used else used, user)
            if r > 0:
                bytering_consume(&p.ring, <uint64_t>r)
            return read_done(p, r, was_full, slept)
        if p.writers == 0:
            return read_done(p, 0, was_full, slept)
        if f.flags & O_NONBLOCK:
            return read_done(p, -EAGAIN, was_full, slept)
        r = iowait_until(readable, p)
        if r < 0:
            return r                    # Linux returns -ERESTARTSYS without wakeups
        was_full = full(p)
        slept = True

cdef int64_t write_done(pipe_inode *p, int64_t r, bint slept) noexcept nogil:
    # pipe_write's wakeups on its way out, whatever the result: readers always (Linux
    # wakes them on every write once the pipe has been polled -- 5.16's poll_usage --
    # which every epoll registration has done; even a write that failed with EAGAIN);
    # the next writer if this one slept and room is left.
    io_wake_in(&p.rd_wait)
    if slept and not full(p):
        io_wake_out(&p.wr_wait)
    io_notify()
    return r

cdef int64_t pipe_write(vfs_file *f, uint64_t buf, uint64_t n, uint64_t *pos, bint user) noexcept nogil:
    # Linux raises SIGPIPE with EPIPE; ERTS ignores SIGPIPE, so only -EPIPE is returned
    # (the place to raise it, once signals are delivered, is each -EPIPE below).
    cdef pipe_inode *p = <pipe_inode *>f.priv
    cdef uint64_t done = 0, room, k
    cdef int64_t r
    cdef write_wait w
    cdef bint was_empty, slept = False
    if n == 0:
        return 0
    was_empty = bytering_used(&p.ring) == 0
    while True:
        if p.readers == 0:
            return write_done(p, <int64_t>done if done > 0 else -EPIPE, slept)
        room = bytering_room(&p.ring)
        # At most PIPE_BUF bytes go in whole or not at all; more may be split.
        if room > 0 and (n > PIPE_BUF or room >= n):
            k = n - done
            if k > room:
                k = room
            r = bytering_put(&p.ring, buf + done, k, user)
            if r < 0:
                return write_done(p, <int64_t>done if done > 0 else r, slept)
            done += <uint64_t>r
            if <uint64_t>r < k or done == n:
                return write_done(p, <int64_t>done, slept)
            continue
        if f.flags & O_NONBLOCK:
            return write_done(p, <int64_t>done if done > 0 else -EAGAIN, slept)
        if was_empty:                   # readers get going before this writer sleeps
            io_wake_in(&p.rd_wait)
        io_notify()
        w.p = p
        w.need = n if n <= PIPE_BUF else 1
        r = iowait_until(writable, &w)
        if r < 0:
            return write_done(p, <int64_t>done if done > 0 else r, slept)
        was_empty = bytering_used(&p.ring) == 0
        slept = True

# ------------------------------------------------------------------ the rest

cdef uint32_t pipe_poll(vfs_file *f) noexcept nogil:
    # Linux pipe_poll: the read end is readable with data and hung up without writers
    # (POLLHUP alone when empty); the write end is writable with a free page buffer (here:
    # room for an atomic PIPE_BUF write) and POLLERR without readers.
    cdef pipe_inode *p = <pipe_inode *>f.priv
    cdef uint32_t mask = 0
    if f.ops == &read_ops:
        if bytering_used(&p.ring) > 0:
            mask |= POLLIN | POLLRDNORM
        if p.writers == 0:
            mask |= POLLHUP
    else:
        if bytering_room(&p.ring) >= PIPE_BUF:
            mask |= POLLOUT | POLLWRNORM
        if p.readers == 0:
            mask |= POLLERR
    return mask

cdef int64_t pipe_stat(vfs_file *f, vfs_kstat *st) noexcept nogil:
    cdef pipe_inode *p = <pipe_inode *>f.priv
    memset(st, 0, sizeof(vfs_kstat))
    st.dev = PIPEFS_DEV
    st.ino = p.ino
    st.nlink = 1
    st.mode = S_IFIFO | 0o600
    st.blksize = 4096
    return 0

cdef int64_t pipe_ioctl(vfs_file *f, uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef pipe_inode *p = <pipe_inode *>f.priv
    cdef int32_t n
    if cmd == FIONREAD:
        n = <int32_t>bytering_used(&p.ring)
        if copy_to_user(arg, &n, sizeof(int32_t)) < 0:
            return -EFAULT
        return 0
    return -ENOTTY

cdef void pipe_release(vfs_file *f) noexcept nogil:
    cdef pipe_inode *p = <pipe_inode *>f.priv
    if f.ops == &read_ops:
        p.readers -= 1
    else:
        p.writers -= 1
    if (p.readers == 0) != (p.writers == 0):
        io_wake_all(&p.rd_wait)     # the last of one side: unkeyed wakeups of both queues
        io_wake_all(&p.wr_wait)
    io_notify()                     # the other end sees EOF / EPIPE / POLLHUP / POLLERR
    if p.readers == 0 and p.writers == 0:
        bytering_free(&p.ring)
        kfree(p)

# ------------------------------------------------------------------ syscalls

cdef int64_t sys_pipe2(uint64_t ufds, uint64_t flags) noexcept nogil:
    # O_DIRECT (packet mode) and O_NOTIFICATION_PIPE are not supported: EINVAL, as for any
    # other flag.
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *rd
    cdef vfs_file *wr
    cdef int64_t rc, fd0, fd1
    cdef int32_t fds[2]
    cdef bint cloexec = (flags & O_CLOEXEC) != 0
    if <uint32_t>flags & ~(<uint32_t>(O_CLOEXEC | O_NONBLOCK)):         # an int
        return -EINVAL
    if ctx == NULL:
        return -ENOSYS
    rc = pipe_create(<uint32_t>flags, &rd, &wr)
    if rc < 0:
        return rc
    fd0 = fdtable_install(&ctx.fdt, rd, 0, cloexec)
    if fd0 < 0:
        vfs_file_put(rd)
        vfs_file_put(wr)
        return fd0
    fd1 = fdtable_install(&ctx.fdt, wr, 0, cloexec)
    if fd1 < 0:
        fdtable_close(&ctx.fdt, <uint64_t>fd0)
        vfs_file_put(wr)
        return fd1
    fds[0] = <int32_t>fd0
    fds[1] = <int32_t>fd1
    if copy_to_user(ufds, fds, sizeof(fds)) < 0:
        # Linux installs the descriptors only after this copy: none may survive.
        fdtable_close(&ctx.fdt, <uint64_t>fd1)
        fdtable_close(&ctx.fdt, <uint64_t>fd0)
        return -EFAULT
    return 0

cdef int64_t sys_pipe(uint64_t ufds) noexcept nogil:
    return sys_pipe2(ufds, 0)
