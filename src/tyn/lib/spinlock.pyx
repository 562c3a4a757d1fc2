# Spinlocks (see spinlock.pxd): XCHG-based, irq-saving, named and ranked; the test build
# checks recursion, rank order and releases against the locks each CPU holds.
from libc.stdint cimport int32_t, uint32_t, uint64_t
from tyn.arch.cpu cimport (atomic_xchg, atomic_store_release, cpu_relax, read_rflags, irq_disable,
                           irq_enable, RFLAGS_IF)
from tyn.arch.percpu cimport percpu_cpu_index, NR_CPUS
from tyn.arch.panic cimport panic
from tyn.lib.kprint cimport kputs, kput_udec

cdef extern from *:
    const int TYN_SELFTEST     # -D by tyn.build: 1 in the --selftest build and the host bundle

# Test build: the locks each CPU holds, in acquisition order.  held[cpu] is written only
# by that CPU, with interrupts off.
cdef spinlock *held[NR_CPUS][SPINLOCK_HELD_MAX]
cdef uint32_t depth[NR_CPUS]
cdef void (*wait_hook)() noexcept nogil    # called while spinning (interrupts may be off)

cdef void spinlock_set_wait_hook(void (*hook)() noexcept nogil) noexcept nogil:
    global wait_hook
    wait_hook = hook

cdef void spinlock_init(spinlock *lock, const char *name, uint32_t rank) noexcept nogil:
    lock.locked = 0
    lock.rank = rank
    lock.name = name
    lock.holder = SPINLOCK_NO_CPU

cdef void put_lock(const spinlock *lock) noexcept nogil:
    kputs(b"\"")
    if lock.name != NULL:
        kputs(lock.name)
    kputs(b"\" (rank ")
    kput_udec(lock.rank)
    kputs(b")")

cdef void report(const char *what, const spinlock *lock, uint32_t cpu) noexcept nogil:
    """The panic report: what went wrong, with which lock, and every lock this CPU holds."""
    cdef uint32_t i
    kputs(b"tyn: spinlock: ")
    kputs(what)
    kputs(b" ")
    put_lock(lock)
    kputs(b" on CPU ")
    kput_udec(cpu)
    kputs(b"\ntyn: spinlock: CPU ")
    kput_udec(cpu)
    kputs(b" holds:")
    if depth[cpu] == 0:
        kputs(b" nothing")
    for i in range(depth[cpu]):
        kputs(b" " if i == 0 else b", ")
        put_lock(held[cpu][i])
    kputs(b"\n")
    panic(what)

cdef void check_acquire(spinlock *lock, uint32_t cpu) noexcept nogil:
    cdef uint32_t i
    for i in range(depth[cpu]):
        if held[cpu][i] == lock:
            report(b"recursive acquisition of", lock, cpu)
    for i in range(depth[cpu]):
        if held[cpu][i].rank >= lock.rank:
            report(b"lock order violation taking", lock, cpu)
    if depth[cpu] >= SPINLOCK_HELD_MAX:
        report(b"too many locks held taking", lock, cpu)

cdef void note_acquired(spinlock *lock, uint32_t cpu) noexcept nogil:
    lock.holder = <int32_t>cpu
    if TYN_SELFTEST:
        held[cpu][depth[cpu]] = lock
        depth[cpu] += 1

cdef uint64_t spinlock_acquire(spinlock *lock) noexcept nogil:
    cdef uint64_t flags = read_rflags()
    cdef uint32_t cpu
    irq_disable()
    cpu = percpu_cpu_index()
    if TYN_SELFTEST:
        check_acquire(lock, cpu)
    while atomic_xchg(&lock.locked, 1) != 0:
        while lock.locked != 0:         # wait reading: the line stays shared until it is free
            if wait_hook != NULL:
                wait_hook()             # e.g. a TLB flush the holder waits for
            cpu_relax()
    note_acquired(lock, cpu)
    return flags

cdef bint spinlock_try_acquire(spinlock *lock, uint64_t *flags) noexcept nogil:
    cdef uint32_t cpu
    flags[0] = read_rflags()
    irq_disable()
    cpu = percpu_cpu_index()
    if TYN_SELFTEST:
        check_acquire(lock, cpu)
    if lock.locked != 0 or atomic_xchg(&lock.locked, 1) != 0:
        if flags[0] & RFLAGS_IF:
            irq_enable()
        return False
    note_acquired(lock, cpu)
    return True

cdef void spinlock_release(spinlock *lock, uint64_t flags) noexcept nogil:
    cdef uint32_t cpu = percpu_cpu_index()
    cdef uint32_t i, j
    if TYN_SELFTEST:
        for i in range(depth[cpu]):
            if held[cpu][i] == lock:
                break
        else:
            report(b"release of a lock not held:", lock, cpu)
        for j in range(i + 1, depth[cpu]):     # locks may be released out of order
            held[cpu][j - 1] = held[cpu][j]
        depth[cpu] -= 1
    lock.holder = SPINLOCK_NO_CPU
    atomic_store_release(&lock.locked, 0)
    if flags & RFLAGS_IF:
        irq_enable()

cdef bint spinlock_held(const spinlock *lock) noexcept nogil:
    return lock.locked != 0 and lock.holder == <int32_t>percpu_cpu_index()

cdef uint32_t spinlock_held_count() noexcept nogil:
    if TYN_SELFTEST:
        return depth[percpu_cpu_index()]
    return 0

cdef void spinlock_forget_held() noexcept nogil:
    cdef int cpu
    for cpu in range(NR_CPUS):
        depth[cpu] = 0
