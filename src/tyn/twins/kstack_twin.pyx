# Host face of mm/kstack for tests.
from tyn.mm.kstack cimport *

SLOT_PAGES = KSTACK_SLOT_PAGES
MAX_PAGES = KSTACK_MAX_PAGES
MAX_SLOTS = KSTACK_MAX_SLOTS
NONE = KSTACK_NONE
OK = KSTACK_OK
ERR_NOT_STACK = KSTACK_ERR_NOT_STACK
ERR_DOUBLE_FREE = KSTACK_ERR_DOUBLE_FREE
ERR_NOT_READY = KSTACK_ERR_NOT_READY

def init():
    kstack_init()

def alloc(unsigned long long pages) -> int:
    return kstack_alloc(pages)

def free(unsigned long long top) -> int:
    return kstack_free(top)

def bottom(unsigned long long top) -> int:
    return kstack_bottom(top)

def live_count() -> int:
    return kstack_live_count()

def bad_free_count() -> int:
    return kstack_bad_free_count()

def self_check() -> int:
    return kstack_self_check()
