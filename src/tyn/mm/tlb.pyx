# TLB shootdown IPIs (see tlb.pxd).
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport (read_cr3, write_cr3, memory_fence, cpu_relax, atomic_store_release, read_rflags,
                           irq_disable, irq_enable, read_cr4, write_cr4, RFLAGS_IF, CR4_PGE)
from tyn.arch.percpu cimport percpu_cpu_index, percpu_of, NR_CPUS
from tyn.arch.lapic cimport lapic_send_ipi, lapic_eoi, APIC_DM_FIXED
from tyn.arch.trap cimport trap_set_handler, VECTOR_TLB_SHOOTDOWN
from tyn.arch.trapframe cimport trap_frame
from tyn.mm.paging cimport PTE_ADDR_MASK
from tyn.lib.spinlock cimport spinlock_set_wait_hook

cdef enum:
    IPI_SEND_TIMEOUT_NS = 10000000

# loaded_root[c]: written by CPU c only (before it loads that root).
# flush_request[c]: set by requesters, cleared by CPU c after it flushed.
cdef volatile uint64_t loaded_root[NR_CPUS]
cdef volatile uint32_t flush_request[NR_CPUS]
cdef volatile uint64_t online                # CPUs that take part (bit n: CPU n)
cdef uint64_t shootdowns

cdef void tlb_init() noexcept nogil:
    trap_set_handler(VECTOR_TLB_SHOOTDOWN, shootdown_interrupt)
    # A CPU spinning for a lock with interrupts off cannot take the IPI: it answers from
    # its spin loop, so a requester holding that lock is not left waiting forever.
    spinlock_set_wait_hook(answer_this_cpu)

cdef void answer_this_cpu() noexcept nogil:
    answer(percpu_cpu_index())

cdef void tlb_cpu_online(uint32_t cpu) noexcept nogil:
    global online
    online |= <uint64_t>1 << cpu

cdef inline void flush_this_cpu() noexcept nogil:
    # Everything, global (kernel) translations included: CR4.PGE off and on again.
    cdef uint64_t cr4 = read_cr4()
    if cr4 & CR4_PGE:
        write_cr4(cr4 & ~(<uint64_t>CR4_PGE))
        write_cr4(cr4)
    else:
        write_cr3(read_cr3())

cdef void answer(uint32_t me) noexcept nogil:
    if flush_request[me] != 0:
        flush_this_cpu()
        atomic_store_release(&flush_request[me], 0)

cdef void shootdown_interrupt(trap_frame *frame) noexcept nogil:
    answer(percpu_cpu_index())
    lapic_eoi()

cdef void tlb_switch_root(uint64_t root) noexcept nogil:
    cdef uint32_t me = percpu_cpu_index()
    if (read_cr3() & PTE_ADDR_MASK) == root:
        return
    loaded_root[me] = root
    memory_fence()                      # published before any translation through it
    write_cr3(root)

cdef void send_ipi(uint32_t cpu) noexcept nogil:
    cdef uint64_t flags = read_rflags()
    irq_disable()                       # xAPIC: ICR high and low are two writes
    lapic_send_ipi(percpu_of(cpu).apic_id, APIC_DM_FIXED | VECTOR_TLB_SHOOTDOWN, IPI_SEND_TIMEOUT_NS)
    if flags & RFLAGS_IF:
        irq_enable()

cdef void tlb_shootdown(uint64_t root) noexcept nogil:
    shoot(root, False)

cdef void tlb_shootdown_kernel() noexcept nogil:
    flush_this_cpu()
    shoot(0, True)

cdef void shoot(uint64_t root, bint every_cpu) noexcept nogil:
    global shootdowns
    cdef uint32_t me = percpu_cpu_index()
    cdef uint32_t c
    cdef uint64_t targets = 0
    memory_fence()                      # the new entries are visible before we look
    for c in range(NR_CPUS):
        if c != me and (online & (<uint64_t>1 << c)) and (every_cpu or loaded_root[c] == root):
            flush_request[c] = 1
            memory_fence()
            send_ipi(c)
            targets |= <uint64_t>1 << c
    if targets == 0:
        return
    shootdowns += 1
    for c in range(NR_CPUS):
        if targets & (<uint64_t>1 << c):
            while flush_request[c] != 0:
                answer(me)              # a request to us meanwhile (interrupts may be off)
                cpu_relax()

cdef uint64_t tlb_shootdown_count() noexcept nogil:
    return shootdowns
