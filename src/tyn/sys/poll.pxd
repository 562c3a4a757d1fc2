# poll/ppoll/select/pselect6 over every file kind (vfs_poll), and the one blocking loop
# shared with epoll_wait.
from libc.stdint cimport uint64_t, int64_t

cdef enum:
    POLL_NSEC_PER_MSEC = 1000000
    POLL_NSEC_PER_USEC = 1000
    POLL_SIGSET_SIZE = 8

# One readiness scan; called with waitq_lock held.  > 0: done (the result), 0: nothing
# ready yet, < 0: an error to return.
ctypedef int64_t (*poll_scan_fn)(void *arg) noexcept nogil

# After a first scan found nothing: sleep on the I/O readiness queue and re-scan on every
# io_notify() until a scan reports something, the monotonic deadline passes (0: none;
# one last scan then, 0 if still nothing) or a signal interrupts (-EINTR).  The only
# blocking path of the polling syscalls.
cdef extern int64_t poll_block(poll_scan_fn scan, void *arg, uint64_t deadline_ns) noexcept nogil

cdef extern int64_t sys_poll(uint64_t ufds, uint64_t nfds, uint64_t timeout) noexcept nogil
cdef extern int64_t sys_ppoll(uint64_t ufds, uint64_t nfds, uint64_t utsp, uint64_t usigmask,
                              uint64_t sigsetsize) noexcept nogil
cdef extern int64_t sys_select(uint64_t n, uint64_t uin, uint64_t uout, uint64_t uex, uint64_t utv) noexcept nogil
cdef extern int64_t sys_pselect6(uint64_t n, uint64_t uin, uint64_t uout, uint64_t uex, uint64_t utsp,
                                 uint64_t usig) noexcept nogil
