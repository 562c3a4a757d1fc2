from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.trapframe cimport trap_frame

cdef enum:
    IDT_VECTORS = 256
    EXCEPTION_VECTORS = 32
    VECTOR_DIVIDE_ERROR = 0
    VECTOR_NMI = 2
    VECTOR_BREAKPOINT = 3
    VECTOR_INVALID_OPCODE = 6
    VECTOR_DOUBLE_FAULT = 8
    VECTOR_GENERAL_PROTECTION = 13
    VECTOR_PAGE_FAULT = 14
    VECTOR_MACHINE_CHECK = 18
    VECTOR_TIMER = 32           # local APIC timer
    VECTOR_AP_TIMER_PROOF = 33  # arch/smp: each AP proves its local APIC timer once
    VECTOR_RESCHEDULE = 34      # proc/sched: another CPU queued work here (IPI)
    VECTOR_TLB_SHOOTDOWN = 35   # mm/tlb: flush this CPU's TLB (IPI)
    VECTOR_SERIAL = 36          # COM1 (ISA IRQ 4) through the I/O APIC
    VECTOR_NETDEV_FIRST = 40    # network devices (virtio_net): one vector each, MSI-X or GSI
    VECTOR_NETDEV_LAST = 47
    VECTOR_SPURIOUS = 0xFF      # local APIC spurious interrupts (no EOI)

ctypedef void (*trap_handler)(trap_frame *frame) noexcept nogil
# Resolves a page fault on a user address (demand paging); returns whether it did.
ctypedef bint (*page_fault_resolver)(uint64_t address, uint64_t error_code) noexcept nogil

cdef packed struct idt_gate:
    uint16_t offset_low
    uint16_t selector
    uint8_t ist
    uint8_t type_attr
    uint16_t offset_mid
    uint32_t offset_high
    uint32_t reserved

cdef extern void trap_init() noexcept nogil
# Load the (shared) IDT on the calling CPU: every AP, after trap_init ran on the boot CPU.
cdef extern void trap_load_idt() noexcept nogil
# Hooks filled by higher layers (the arch layer does not depend on them):
#   syscalls        frames from the SYSCALL entry (vector TRAP_VECTOR_SYSCALL)
#   user faults     exceptions raised in user mode that the resolver did not fix
#   user return     runs before every return to user mode (rescheduling)
cdef extern void trap_set_syscall_handler(trap_handler handler) noexcept nogil
cdef extern void trap_set_user_fault_handler(trap_handler handler) noexcept nogil
cdef extern void trap_set_user_return_hook(void (*hook)() noexcept nogil) noexcept nogil
# Called first in any trap from user mode (CPU time accounting).
cdef extern void trap_set_user_entry_hook(void (*hook)() noexcept nogil) noexcept nogil
# Called last before any return to user mode (CPU time accounting).
cdef extern void trap_set_user_exit_hook(void (*hook)() noexcept nogil) noexcept nogil
# Whether the user-return hook has work after an interrupt from user mode (a signal or a
# reschedule due); without it the hook always runs.  System calls and user faults take the
# kernel_lock on entry and always run the hook; it is released before the return.
cdef extern void trap_set_user_return_work(bint (*pending)() noexcept nogil) noexcept nogil
cdef extern void trap_set_page_fault_resolver(page_fault_resolver resolver) noexcept nogil
cdef extern void trap_set_handler(int vector, trap_handler handler) noexcept nogil
cdef extern void trap_dispatch(trap_frame *frame) noexcept nogil
cdef extern uint64_t trap_unexpected_count() noexcept nogil
cdef extern uint64_t trap_syscall_erratum_count() noexcept nogil
cdef extern const idt_gate *trap_gate(int vector) noexcept nogil
