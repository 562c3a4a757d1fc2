# Spinlocks: test-and-test-and-set on XCHG, interrupts off while held.
#
# Every lock has a name and a rank.  A CPU may take a lock only while every lock it
# already holds has a lower rank (equal ranks never nest), so any set of CPUs takes locks
# in one global order and cannot deadlock.  The ranks live here, in one list, so the
# order is readable in one place (docs/ARCHITECTURE.md "Locking").
#
# The test build (TYN_SELFTEST, the host bundle included) tracks the locks each CPU holds
# and panics with a report naming the locks on recursive acquisition, on taking a lock
# out of rank order, and on releasing a lock this CPU does not hold.
from libc.stdint cimport int32_t, uint32_t, uint64_t

cdef enum:
    # The rank order (lowest first).  Leave gaps: later locks slot in between.
    SPINLOCK_RANK_KERNEL = 10           # lib/kernel_lock: process-context kernel state (see there)
    SPINLOCK_RANK_SMP_BOOT = 100        # arch/smp: the AP start-up handshake (TSC check)
    SPINLOCK_RANK_SOCKET_REGISTRY = 150 # net/socket: the family registry, inode numbers
    SPINLOCK_RANK_UNIX = 200            # net/unix: every AF_UNIX socket's protocol state
    SPINLOCK_RANK_NET = 300             # net/netlock: the IPv4 stack, netlink
    SPINLOCK_RANK_SCHED = 500           # proc/sched: run queues, wait queues, futex queues
    SPINLOCK_RANK_SIGQUEUE = 520        # sys/sigqueue: pending signals' siginfo and real-time queues
    SPINLOCK_RANK_TTY = 550             # fs/tty: the console tty (its poll op may pull UART bytes under sched)
    SPINLOCK_RANK_KTIMER = 600          # time/ktimer: the armed-timer list
    SPINLOCK_RANK_MM = 700              # mm/mm_lock: pmm, heap, kernel stacks, page tables
    SPINLOCK_RANK_PCI_WINDOW = 780      # drivers/pci: the MMIO window's next free address
    SPINLOCK_RANK_PCI_CONFIG = 800      # drivers/pci: the CF8/CFC address-data pair (a leaf)
    SPINLOCK_RANK_CRNG = 900            # lib/crng: the generator's key (a leaf: nothing nests inside)
    SPINLOCK_HELD_MAX = 16              # locks one CPU may hold at once (test build)
    SPINLOCK_NO_CPU = -1

cdef struct spinlock:
    volatile uint32_t locked            # the word XCHG tests and sets: 1 while held
    uint32_t rank
    const char *name
    int32_t holder                      # the holding CPU's index, SPINLOCK_NO_CPU when free

cdef extern void spinlock_init(spinlock *lock, const char *name, uint32_t rank) noexcept nogil
# Disable interrupts, spin until the lock is ours; returns the RFLAGS to hand back to release.
cdef extern uint64_t spinlock_acquire(spinlock *lock) noexcept nogil
# One attempt: True (lock held, *flags set) or False (interrupts as they were).
cdef extern bint spinlock_try_acquire(spinlock *lock, uint64_t *flags) noexcept nogil
# A function every CPU calls while it spins for a lock, interrupts possibly off: work that
# the holder may be waiting for (mm/tlb answers shootdown requests there).
cdef extern void spinlock_set_wait_hook(void (*hook)() noexcept nogil) noexcept nogil
# Release and restore interrupts as acquire found them.
cdef extern void spinlock_release(spinlock *lock, uint64_t flags) noexcept nogil
# Whether the calling CPU holds `lock`.
cdef extern bint spinlock_held(const spinlock *lock) noexcept nogil
# How many spinlocks the calling CPU holds (test build; 0 otherwise): the scheduler will
# refuse to sleep with any held.
cdef extern uint32_t spinlock_held_count() noexcept nogil
# Forget what every CPU holds (state starts zeroed at boot; for starting over in tests).
cdef extern void spinlock_forget_held() noexcept nogil
