# Blocking on the I/O readiness queue (see iowait.pxd).
from libc.stdint cimport int64_t, uint64_t
from tyn.proc.waitq cimport waitq_lock, waitq_unlock, waitq_sleep, io_waitq
from tyn.proc.task cimport WAKE_NORMAL
from tyn.sys.errno cimport ERESTARTSYS

cdef int64_t iowait_until(iowait_cond_fn cond, void *arg) noexcept nogil:
    cdef uint64_t flags = waitq_lock()
    cdef int64_t rc = 0
    while not cond(arg):
        if waitq_sleep(io_waitq(), 0) != WAKE_NORMAL:
            rc = -ERESTARTSYS       # EINTR, or restarted under SA_RESTART (signal delivery)
            break
    waitq_unlock(flags)
    return rc
