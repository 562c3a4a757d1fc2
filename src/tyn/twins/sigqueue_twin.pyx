# Host face of sys/sigqueue: threads are C records owned by the twin, named by index;
# siginfos are (code, pid, value) tuples.
from libc.stdint cimport uint64_t
from libc.stdlib cimport calloc, free
from tyn.proc.task cimport thread, signal_info
from tyn.sys.sigqueue cimport *

PRIVATE = SIGQUEUE_PRIVATE
SHARED = SIGQUEUE_SHARED
ADDED = SIGQUEUE_ADDED
MERGED = SIGQUEUE_MERGED
SIGRTMIN = SIGRTMIN_KERNEL
DEFAULT_LIMIT = SIGQUEUE_DEFAULT_LIMIT

cdef thread *threads = NULL
cdef int thread_count = 0


def reset(int count=2):
    """sigqueue_init and `count` fresh threads with nothing pending (the heap must be up)."""
    global threads, thread_count
    cdef int i
    if threads != NULL:
        for i in range(thread_count):
            sigqueue_release(&threads[i])
        free(threads)
    sigqueue_init()
    threads = <thread *>calloc(count, sizeof(thread))
    thread_count = count


def add(int t, int sig, int code, int pid=0, unsigned long long value=0,
        unsigned long long limit=SIGQUEUE_DEFAULT_LIMIT, int cls=SIGQUEUE_SHARED):
    cdef signal_info info
    info.code = code
    info.pid = pid
    info.uid = 0
    info.status = 0
    info.addr = 0
    info.stime_ns = 0
    info.value = value
    return sigqueue_add(&threads[t], sig, &info, limit, cls)


def take(int t, unsigned long long wanted=0xFFFFFFFFFFFFFFFF):
    """(sig, code, pid, value), or None when nothing in `wanted` is pending."""
    cdef signal_info info
    cdef int sig = sigqueue_take_next(&threads[t], wanted, &info)
    if sig == 0:
        return None
    return (sig, info.code, info.pid, info.value)


def pending(int t):
    return threads[t].signal_pending


def discard(int t, int sig):
    sigqueue_discard(&threads[t], sig)


def move_shared(int src, int dst):
    return sigqueue_move_shared(&threads[src], &threads[dst])


def release(int t):
    sigqueue_release(&threads[t])


def count():
    return sigqueue_count()
