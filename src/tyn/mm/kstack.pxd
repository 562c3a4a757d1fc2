# Kernel stacks in their own virtual window (KSTACK_VIRT_BASE, see paging.pxd).
#
# The window is cut into fixed slots of KSTACK_SLOT_PAGES pages.  A stack of n
# pages occupies the top n pages of its slot; everything below it in the slot
# (at least one page) stays unmapped, so running off the bottom of a stack
# faults instead of overwriting the neighbour.  Frames come one at a time from
# the pmm (no contiguity needed), are zeroed and mapped RW + NX.
# Slots are handed out round-robin so a freed slot is reused late, which makes
# a stale kstack_free of a reused slot unlikely and a double free detectable.
from libc.stdint cimport uint64_t

cdef enum:
    KSTACK_SLOT_PAGES = 32                      # 128 KiB of address space per stack
    KSTACK_MAX_PAGES = KSTACK_SLOT_PAGES - 1    # keeps >= 1 guard page under every stack
    KSTACK_MAX_SLOTS = 4096                     # 512 MiB of the 512 GiB window
    KSTACK_NONE = 0                             # kstack_alloc failed

    KSTACK_OK = 0
    KSTACK_ERR_NOT_STACK = -1       # not the top of a stack kstack_alloc returned
    KSTACK_ERR_DOUBLE_FREE = -2
    KSTACK_ERR_NOT_READY = -3       # no kernel address space yet

# Forget every stack (all state starts zeroed at boot; for starting over in tests).
cdef extern void kstack_init() noexcept nogil
# A zeroed stack of `pages` pages (1..KSTACK_MAX_PAGES) in the kernel address
# space: returns its top (the initial RSP; 16-byte aligned), or KSTACK_NONE.
cdef extern uint64_t kstack_alloc(uint64_t pages) noexcept nogil
# Unmap and free a stack by its top; bad tops are reported and return an error.
cdef extern int kstack_free(uint64_t top) noexcept nogil
# Lowest mapped address of the live stack with this top (0 if none): the
# guard page is the page just below it.
cdef extern uint64_t kstack_bottom(uint64_t top) noexcept nogil
cdef extern uint64_t kstack_live_count() noexcept nogil
cdef extern uint64_t kstack_bad_free_count() noexcept nogil
# Allocate, check guards and contents through the page tables, free; returns problems.
cdef extern int kstack_self_check() noexcept nogil
