# Wakeup counts of one wait queue, for exact EPOLLET (tyn.fs.epoll).
#
# Linux wakes a file's wait queue with a key (the poll bits the change is about: EPOLLIN
# for new data, EPOLLOUT for freed space) or with none (state changes: hangup, shutdown),
# and epoll puts an edge-triggered item on its ready list when a wakeup's key meets the
# item's interest.  Tyn has one global I/O queue (io_notify), so each pollable object
# counts its wakeups here instead, exactly where Linux would wake, and its vfs_file points
# at the counts of the queue the file waits on (vfs_file.wakeups).  An edge-triggered item
# compares them with the counts it last saw.
# Inline helpers only (no .pyx): nothing to link.  Counts change with interrupts disabled
# or from syscall context on the one CPU, as the state they describe.
from libc.stdint cimport uint32_t, uint64_t

cdef struct io_wakeups:
    uint64_t keyed_in           # wakeups keyed in_key (data arrived: readers)
    uint64_t keyed_out          # wakeups keyed out_key (space freed: writers)
    uint64_t unkeyed            # wakeups with no key: every item
    uint32_t in_key             # the poll bits of those wakeups (0: none happen)
    uint32_t out_key

cdef inline void io_wakeups_init(io_wakeups *w, uint32_t in_key, uint32_t out_key) noexcept nogil:
    w.keyed_in = 0
    w.keyed_out = 0
    w.unkeyed = 0
    w.in_key = in_key
    w.out_key = out_key

cdef inline void io_wake_in(io_wakeups *w) noexcept nogil:
    w.keyed_in += 1

cdef inline void io_wake_out(io_wakeups *w) noexcept nogil:
    w.keyed_out += 1

cdef inline void io_wake_all(io_wakeups *w) noexcept nogil:
    w.unkeyed += 1
