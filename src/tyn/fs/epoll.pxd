# epoll: interest lists over any file kind whose ops have a poll function.
#
# Registrations are keyed by (file, fd) as in Linux and do not keep the file alive: when
# a watched file's last reference goes, vfs_file_put calls epoll_file_release, which drops
# every registration of it (so closing a pipe end still delivers EOF/POLLHUP to the other
# side).  Readiness is not pushed by the files: every wait re-polls its items (ops.poll)
# and sleeps on the global I/O queue (io_waitq) between scans.
#
# EPOLLET follows Linux's ready list: an edge-triggered item is queued by EPOLL_CTL_ADD/
# MOD when ready then, and by every wakeup of its file whose key meets its interest
# (counted in the file's io_wakeups, tyn.fs.wakeups: pipes, eventfd, timerfd, unix
# sockets, the console); a scan reports a queued item that is ready and dequeues it
# either way.  Files without wakeup counts (epolls, test files) get an approximation: a
# requested bit that rose since the last scan.
from libc.stdint cimport uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file

cdef enum:
    EPOLL_CTL_ADD = 1
    EPOLL_CTL_DEL = 2
    EPOLL_CTL_MOD = 3
    EPOLL_CLOEXEC = 0o2000000
    EPOLLIN = 0x001
    EPOLLPRI = 0x002
    EPOLLOUT = 0x004
    EPOLLERR = 0x008
    EPOLLHUP = 0x010
    EPOLLNVAL = 0x020
    EPOLLRDNORM = 0x040
    EPOLLRDBAND = 0x080
    EPOLLWRNORM = 0x100
    EPOLLWRBAND = 0x200
    EPOLLMSG = 0x400
    EPOLLRDHUP = 0x2000
    EPOLLEXCLUSIVE = 1 << 28
    EPOLLWAKEUP = 1 << 29
    EPOLLONESHOT = 1 << 30
    EPOLL_EVENT_SIZE = 12           # struct epoll_event is packed on x86_64
    EPOLL_MAX_NESTS = 4

cdef extern int64_t sys_epoll_create(uint64_t size) noexcept nogil
cdef extern int64_t sys_epoll_create1(uint64_t flags) noexcept nogil
cdef extern int64_t sys_epoll_ctl(uint64_t epfd, uint64_t op, uint64_t fd, uint64_t uevent) noexcept nogil
cdef extern int64_t sys_epoll_wait(uint64_t epfd, uint64_t uevents, uint64_t maxevents, uint64_t timeout) noexcept nogil
cdef extern int64_t sys_epoll_pwait(uint64_t epfd, uint64_t uevents, uint64_t maxevents, uint64_t timeout,
                                    uint64_t usigmask, uint64_t sigsetsize) noexcept nogil
cdef extern bint epoll_is(vfs_file *f) noexcept nogil
# f's last reference is going: forget every registration of it (vfs_file_put).
cdef extern void epoll_file_release(vfs_file *f) noexcept nogil
# Registrations in the epoll open at f (tests); -1 if f is not an epoll.
cdef extern int64_t epoll_item_count(vfs_file *f) noexcept nogil
