# Host face of mm/heap for tests.  Pointers cross into Python as integers.
from libc.stdint cimport uint64_t
from libc.string cimport memcpy
from tyn.mm.heap cimport *

OK = HEAP_OK
ERR_DOUBLE_FREE = HEAP_ERR_DOUBLE_FREE
ERR_NOT_HEAP = HEAP_ERR_NOT_HEAP
ERR_CORRUPT = HEAP_ERR_CORRUPT
ALIGN = HEAP_ALIGN
HEADER_SIZE = HEAP_HEADER_SIZE
ARENA_FRAMES = HEAP_ARENA_FRAMES
LARGE_THRESHOLD = HEAP_LARGE_THRESHOLD

def init():
    heap_init()

def malloc(size_t size) -> int:
    return <uint64_t>kmalloc(size)

def calloc(size_t count, size_t size) -> int:
    return <uint64_t>kcalloc(count, size)

def realloc(unsigned long long p, size_t size) -> int:
    return <uint64_t>krealloc(<void *>p, size)

def free(unsigned long long p) -> int:
    return kfree(<void *>p)

def usable_size(unsigned long long p) -> int:
    return heap_usable_size(<void *>p)

def write(unsigned long long p, bytes data):
    """Store data at a heap address (tests keep within usable_size)."""
    memcpy(<void *>p, <const char *>data, len(data))

def read(unsigned long long p, size_t n) -> bytes:
    return (<char *>p)[:n]

def stats() -> dict:
    cdef heap_stats s
    heap_get_stats(&s)
    return s

def check() -> int:
    return heap_check()

def self_check() -> int:
    return heap_self_check()

from tyn.arch.cpu cimport read_rflags, irq_enable, irq_disable, RFLAGS_IF

def set_interrupts(bint enabled):
    """The simulated RFLAGS.IF (the mm lock saves and restores it)."""
    if enabled:
        irq_enable()
    else:
        irq_disable()

def interrupts_enabled() -> bool:
    return (read_rflags() & RFLAGS_IF) != 0
