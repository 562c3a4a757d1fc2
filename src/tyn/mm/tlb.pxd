# TLB shootdown: every CPU that may cache translations of an address space flushes them
# before the change that made them stale is reported done.
#
# Each CPU records the root (CR3) it has loaded, before loading it; a CPU that changes a
# root's entries flushes its own TLB (paging.pyx, invlpg) and then tlb_shootdown(root):
# every other CPU with that root loaded gets VECTOR_TLB_SHOOTDOWN and reloads CR3, and the
# caller waits for each.  No lock: a request is a per-CPU word that the target clears after
# its flush, so concurrent requesters are all satisfied by it.  A target spinning for a
# lock with interrupts off answers from its spin loop (spinlock_set_wait_hook), so a
# requester may hold a spinlock (a copy-on-write fault under waitq_lock); the paging
# entry points call it after mm_lock is released.  Idle CPUs keep the last root loaded (no
# switch to the kernel's) and are asked like the others.
from libc.stdint cimport uint32_t, uint64_t

cdef extern void tlb_init() noexcept nogil
# CPU `cpu` answers shootdowns from now on.
cdef extern void tlb_cpu_online(uint32_t cpu) noexcept nogil
# The calling CPU runs on `root` from now on (loads it if it is not loaded).
cdef extern void tlb_switch_root(uint64_t root) noexcept nogil
# Flush root's translations on every other CPU that has it loaded; returns when done.
cdef extern void tlb_shootdown(uint64_t root) noexcept nogil
# Every CPU flushes everything, kernel (global) translations included: a kernel range
# whose frames changed (a kernel stack slot mapped again).
cdef extern void tlb_shootdown_kernel() noexcept nogil
cdef extern uint64_t tlb_shootdown_count() noexcept nogil
