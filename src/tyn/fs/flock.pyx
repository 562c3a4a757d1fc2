# flock(2), as Linux's fs/locks.c does it for FL_FLOCK locks.  A lock belongs to an open
# file description (vfs_file) and applies to what the file is: its node, or for nameless
# files (pipes, sockets) their shared object.  A description holds at most one lock per
# file; asking for the other kind converts it, and (as Linux) a conversion first drops
# the old lock, so it is not atomic.  Conflicts: an exclusive lock excludes every other
# description's lock; a shared lock excludes other descriptions' exclusive ones.
#
# The lock records and the waiters are protected by waitq_lock (the interrupt-disabling
# lock; taken last, nothing is taken under it here).  Waiters sleep on one queue and
# recheck after any release.
from libc.stdint cimport int64_t, uint64_t
from tyn.fs.context cimport fs_context, fs_current
from tyn.fs.fdtable cimport fdtable_fget
from tyn.fs.vfs cimport vfs_file, vfs_file_put
from tyn.mm.heap cimport kmalloc, kfree
from tyn.proc.task cimport WAKE_NORMAL
from tyn.proc.waitq cimport waitq, waitq_lock, waitq_unlock, waitq_sleep, waitq_wake_all
from tyn.sys.errno cimport EBADF, EINVAL, ENOMEM, EWOULDBLOCK, ERESTARTSYS

cdef struct file_lock:
    file_lock *next
    void *key                       # the node, or the nameless file's object
    vfs_file *owner
    bint exclusive

cdef file_lock *locks               # every lock held, unordered
cdef waitq lock_waiters             # threads blocked in flock()

cdef inline void *lock_key(vfs_file *f) noexcept nogil:
    return <void *>f.node if f.node != NULL else f.priv

cdef file_lock *conflicting(void *key, vfs_file *f, bint exclusive) noexcept nogil:
    cdef file_lock *l = locks
    while l != NULL:
        if l.key == key and l.owner != f and (exclusive or l.exclusive):
            return l
        l = l.next
    return NULL

cdef bint remove_lock(void *key, vfs_file *f) noexcept nogil:
    """Drop f's lock on key (waitq_lock held); whether there was one."""
    cdef file_lock **link = &locks
    cdef file_lock *l
    while link[0] != NULL:
        l = link[0]
        if l.owner == f and l.key == key:
            link[0] = l.next
            kfree(l)
            waitq_wake_all(&lock_waiters)
            return True
        link = &l.next
    return False

cdef file_lock *find_own(void *key, vfs_file *f) noexcept nogil:
    cdef file_lock *l = locks
    while l != NULL:
        if l.owner == f and l.key == key:
            return l
        l = l.next
    return NULL

cdef int64_t lock_file(vfs_file *f, bint exclusive, bint wait) noexcept nogil:
    global locks
    cdef void *key = lock_key(f)
    cdef file_lock *l
    cdef file_lock *fresh = <file_lock *>kmalloc(sizeof(file_lock))
    cdef uint64_t flags
    cdef int reason
    if fresh == NULL:
        return -ENOMEM
    flags = waitq_lock()
    l = find_own(key, f)
    if l != NULL and l.exclusive == exclusive:
        waitq_unlock(flags)
        kfree(fresh)
        return 0                    # already held in this mode
    if l != NULL:
        remove_lock(key, f)         # a conversion drops the old lock first (Linux)
    while conflicting(key, f, exclusive) != NULL:
        if not wait:
            waitq_unlock(flags)
            kfree(fresh)
            return -EWOULDBLOCK
        reason = waitq_sleep(&lock_waiters, 0)
        if reason != WAKE_NORMAL:
            waitq_unlock(flags)
            kfree(fresh)
            return -ERESTARTSYS
    fresh.key = key
    fresh.owner = f
    fresh.exclusive = exclusive
    fresh.next = locks
    locks = fresh
    waitq_unlock(flags)
    return 0

cdef int64_t sys_flock(uint64_t fd, uint64_t cmd) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *f
    cdef uint64_t op = cmd & ~(<uint64_t>LOCK_NB)
    cdef uint64_t flags
    cdef int64_t rc = 0
    f = fdtable_fget(&ctx.fdt, fd) if ctx != NULL and fd <= 0x7fffffff else NULL
    if f == NULL:
        return -EBADF
    if cmd & LOCK_MAND:
        rc = 0                      # Linux 6.1: "mandatory flock ... ignored", success
    elif op == LOCK_UN:
        flags = waitq_lock()
        remove_lock(lock_key(f), f)
        waitq_unlock(flags)
    elif op == LOCK_SH or op == LOCK_EX:
        rc = lock_file(f, op == LOCK_EX, (cmd & LOCK_NB) == 0)
    else:
        rc = -EINVAL
    vfs_file_put(f)
    return rc

cdef void flock_file_release(vfs_file *f) noexcept nogil:
    cdef uint64_t flags
    if locks == NULL:
        return
    flags = waitq_lock()
    while remove_lock(lock_key(f), f):
        pass
    waitq_unlock(flags)
