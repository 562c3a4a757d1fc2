# Host face of lib/spinlock: locks by index, each Python thread a simulated CPU (its own GS base).
from libc.stdint cimport uint32_t, uint64_t
from tyn.lib.spinlock cimport (spinlock, spinlock_init, spinlock_acquire, spinlock_try_acquire,
                               spinlock_release, spinlock_held, spinlock_held_count,
                               spinlock_forget_held)
from tyn.arch.percpu cimport percpu_of, NR_CPUS
from tyn.arch.entry cimport cpu_local
from tyn.arch.cpu cimport wrmsr, cpu_relax, MSR_GS_BASE, read_rflags, irq_enable, irq_disable, RFLAGS_IF
from tyn.twins.hostsim cimport host_call_catching_halt

cdef enum:
    LOCKS = 8

cdef spinlock locks[LOCKS]
cdef uint64_t saved_flags[LOCKS]
_names = [None] * LOCKS            # keeps each name's bytes alive while the lock uses it
cdef volatile uint64_t counter

def forget_held():
    spinlock_forget_held()

def init(int index, bytes name, unsigned int rank):
    _names[index] = name
    spinlock_init(&locks[index], <const char *>_names[index], rank)

def use_cpu(unsigned int cpu):
    """The calling thread becomes CPU `cpu` (sets its GS base to that CPU's block)."""
    if cpu >= NR_CPUS:
        raise ValueError("no such CPU")
    cdef cpu_local *block = percpu_of(cpu)
    block.self = <uint64_t>block
    block.cpu_index = cpu
    wrmsr(MSR_GS_BASE, <uint64_t>block)

cdef int pending_index

cdef void do_acquire(void *arg) noexcept nogil:
    saved_flags[pending_index] = spinlock_acquire(&locks[pending_index])

cdef void do_release(void *arg) noexcept nogil:
    spinlock_release(&locks[pending_index], saved_flags[pending_index])

def acquire(int index):
    """Take lock `index`; returns True if the kernel panicked (the CPU halted) instead."""
    global pending_index
    pending_index = index
    return bool(host_call_catching_halt(do_acquire, NULL))

def release(int index):
    global pending_index
    pending_index = index
    return bool(host_call_catching_halt(do_release, NULL))

def try_acquire(int index):
    cdef uint64_t flags = 0
    ok = spinlock_try_acquire(&locks[index], &flags)
    if ok:
        saved_flags[index] = flags
    return ok

def held(int index):
    return spinlock_held(&locks[index])

def held_count():
    return spinlock_held_count()

def holder(int index):
    return locks[index].holder

def interrupts_enabled():
    return (read_rflags() & RFLAGS_IF) != 0

def set_interrupts(bint on):
    if on:
        irq_enable()
    else:
        irq_disable()

def reset_counter():
    global counter
    counter = 0

def count():
    return counter

cdef void hammer_loop(int index, uint64_t rounds) noexcept nogil:
    global counter
    cdef uint64_t i, value, flags
    cdef int spin
    for i in range(rounds):
        flags = spinlock_acquire(&locks[index])
        value = counter                 # a read-modify-write the lock must make atomic
        for spin in range(20):
            cpu_relax()
        counter = value + 1
        spinlock_release(&locks[index], flags)

def hammer(int index, unsigned long long rounds, unsigned int cpu):
    """As CPU `cpu`, `rounds` times: take the lock, increment a shared counter slowly, release."""
    use_cpu(cpu)
    with nogil:
        hammer_loop(index, rounds)
