# Blocking on the I/O readiness queue (tyn.proc.waitq) for the file kinds that block:
# pipes, eventfd (sockets use the timed variant in tyn.net.socket, socket_wait).  Their
# operations never sleep anywhere else, so the host build (no scheduler) reaches this
# only if a test asks a blocking file to block.
from libc.stdint cimport int64_t

# Whether the awaited condition holds now (arg: the file kind's state).
ctypedef bint (*iowait_cond_fn)(void *arg) noexcept nogil

# Sleep until cond(arg): 0, or -ERESTARTSYS (a signal woke the thread first; Linux's
# code for waits that SA_RESTART restarts).  Wakers change
# the state, then call io_notify().
cdef extern int64_t iowait_until(iowait_cond_fn cond, void *arg) noexcept nogil
