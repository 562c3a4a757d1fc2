# The IDT and trap dispatch.  shim/trap.S saves registers and calls
# trap_dispatch() for every vector; exceptions in the kernel are fatal
# (panic report), device interrupts go to the handler registered for them.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport lidt, read_cr2
from tyn.arch.entry cimport TRAP_VECTOR_SYSCALL, syscall_entry
from tyn.arch.cpu cimport RFLAGS_RESERVED_1, irq_enable
from tyn.arch.uaccess cimport uaccess_begin, uaccess_end, uaccess_fault, USER_ADDRESS_LIMIT
from tyn.arch.gdt cimport SEL_KERNEL_CODE, IST_DOUBLE_FAULT, IST_NMI, IST_MACHINE_CHECK
from tyn.arch.trapframe cimport trap_frame, trap_stub_table
from tyn.arch.panic cimport panic_exception
from tyn.lib.kernel_lock cimport kernel_lock_acquire, kernel_lock_release, kernel_lock_held
from tyn.lib.kprint cimport kputs, kput_udec

cdef enum:
    GATE_INTERRUPT_64 = 0xE     # interrupt gate: IF cleared on entry
    GATE_PRESENT = 0x80
    GATE_DPL_USER = 0x60        # user code may raise it with INT n (int3, as Linux's SYSG gates)
    UNEXPECTED_REPORT_LIMIT = 8
    SEGMENT_RPL_MASK = 3
    PF_USER_INSTRUCTION_FETCH = (1 << 2) | (1 << 4)     # PF_USER | PF_INSTRUCTION_FETCH

cdef idt_gate idt[IDT_VECTORS]
cdef trap_handler handlers[IDT_VECTORS]
cdef uint64_t unexpected
cdef trap_handler syscall_handler
cdef trap_handler user_fault_handler
cdef void (*user_return_hook)() noexcept nogil
cdef void (*user_entry_hook)() noexcept nogil
cdef void (*user_exit_hook)() noexcept nogil
cdef bint (*user_return_pending)() noexcept nogil
cdef page_fault_resolver fault_resolver

cdef void trap_set_syscall_handler(trap_handler handler) noexcept nogil:
    global syscall_handler
    syscall_handler = handler

cdef void trap_set_user_fault_handler(trap_handler handler) noexcept nogil:
    global user_fault_handler
    user_fault_handler = handler

cdef void trap_set_user_return_work(bint (*pending)() noexcept nogil) noexcept nogil:
    global user_return_pending
    user_return_pending = pending

cdef inline bint user_return_work() noexcept nogil:
    return user_return_pending == NULL or user_return_pending()

cdef void trap_set_user_return_hook(void (*hook)() noexcept nogil) noexcept nogil:
    global user_return_hook
    user_return_hook = hook

cdef void trap_set_user_entry_hook(void (*hook)() noexcept nogil) noexcept nogil:
    global user_entry_hook
    user_entry_hook = hook

cdef void trap_set_user_exit_hook(void (*hook)() noexcept nogil) noexcept nogil:
    global user_exit_hook
    user_exit_hook = hook

cdef void trap_set_page_fault_resolver(page_fault_resolver resolver) noexcept nogil:
    global fault_resolver
    fault_resolver = resolver

cdef uint64_t syscall_erratum_count

cdef bint syscall_without_privilege_change(trap_frame *frame) noexcept nogil:
    """Finish a SYSCALL that did not leave ring 3.

    Under the PVM-based nested KVM on our build machines, SYSCALL saves RCX/R11 and
    jumps to LSTAR but leaves CPL at 3, so fetching syscall_entry (a supervisor page)
    faults from user mode.  The fault frame then holds exactly the registers SYSCALL
    would have handed us: run the system call and return to RCX with R11's flags, as
    SYSRET would.  On correct CPUs this path is never taken.
    """
    global syscall_erratum_count
    if frame.rip != <uint64_t>syscall_entry or (frame.cs & SEGMENT_RPL_MASK) == 0 or \
            (frame.error_code & PF_USER_INSTRUCTION_FETCH) != PF_USER_INSTRUCTION_FETCH or \
            syscall_handler == NULL:
        return False
    if syscall_erratum_count == 0:
        kputs(b"tyn: SYSCALL did not leave ring 3 (nested-virtualisation erratum); "
              b"completing system calls from the page-fault path\n")
    syscall_erratum_count += 1
    frame.rip = frame.rcx
    frame.rflags = frame.r11 | RFLAGS_RESERVED_1
    frame.vector = TRAP_VECTOR_SYSCALL
    irq_enable()                        # as shim/entry.S does for a real SYSCALL
    syscall_handler(frame)
    return True

cdef uint64_t trap_syscall_erratum_count() noexcept nogil:
    return syscall_erratum_count

cdef bint resolve_page_fault(trap_frame *frame) noexcept nogil:
    """A fault on a user address: demand paging, or a user-copy helper's bad pointer."""
    cdef uint64_t address = read_cr2()
    if syscall_without_privilege_change(frame):
        return True
    if address < USER_ADDRESS_LIMIT and fault_resolver != NULL and fault_resolver(address, frame.error_code):
        return True
    if (frame.cs & SEGMENT_RPL_MASK) == 0 and <uint64_t>uaccess_begin <= frame.rip < <uint64_t>uaccess_end:
        frame.rip = <uint64_t>uaccess_fault     # copy_*_user returns -EFAULT
        return True
    return False

cdef void set_gate(int vector, uint64_t entry, int ist) noexcept nogil:
    idt[vector].offset_low = entry & 0xFFFF
    idt[vector].selector = SEL_KERNEL_CODE
    idt[vector].ist = ist
    idt[vector].type_attr = GATE_PRESENT | GATE_INTERRUPT_64
    idt[vector].offset_mid = (entry >> 16) & 0xFFFF
    idt[vector].offset_high = entry >> 32
    idt[vector].reserved = 0

cdef void trap_init() noexcept nogil:
    cdef int v
    for v in range(IDT_VECTORS):
        set_gate(v, trap_stub_table[v], 0)
        handlers[v] = NULL
    set_gate(VECTOR_DOUBLE_FAULT, trap_stub_table[VECTOR_DOUBLE_FAULT], IST_DOUBLE_FAULT)
    set_gate(VECTOR_NMI, trap_stub_table[VECTOR_NMI], IST_NMI)
    set_gate(VECTOR_MACHINE_CHECK, trap_stub_table[VECTOR_MACHINE_CHECK], IST_MACHINE_CHECK)
    idt[VECTOR_BREAKPOINT].type_attr |= GATE_DPL_USER     # int3 is SIGTRAP, not a #GP's SIGSEGV
    trap_load_idt()

cdef void trap_load_idt() noexcept nogil:
    lidt(<uint64_t>&idt[0], sizeof(idt) - 1)

cdef void trap_set_handler(int vector, trap_handler handler) noexcept nogil:
    handlers[vector] = handler

cdef void trap_dispatch(trap_frame *frame) noexcept nogil:
    global unexpected
    cdef uint64_t vector = frame.vector
    cdef bint from_user = (frame.cs & SEGMENT_RPL_MASK) != 0
    if from_user and user_entry_hook != NULL:
        user_entry_hook()
    if from_user and (vector == TRAP_VECTOR_SYSCALL or vector < EXCEPTION_VECTORS):
        kernel_lock_acquire()           # system calls and user faults (lib/kernel_lock.pxd)
    if vector == TRAP_VECTOR_SYSCALL and syscall_handler != NULL:
        syscall_handler(frame)
    elif vector < IDT_VECTORS and handlers[vector] != NULL:
        handlers[vector](frame)
    elif vector == VECTOR_PAGE_FAULT and resolve_page_fault(frame):
        pass
    elif vector < EXCEPTION_VECTORS:
        if from_user and user_fault_handler != NULL:
            user_fault_handler(frame)
        else:
            panic_exception(frame)
    elif vector != VECTOR_SPURIOUS:
        unexpected += 1
        if unexpected <= UNEXPECTED_REPORT_LIMIT:
            kputs(b"tyn: unexpected interrupt vector ")
            kput_udec(vector)
            kputs(b"\n")
    if from_user:
        # Signal delivery and the end of a slice need the kernel_lock; an interrupt from
        # user mode takes it only if one of them is due.
        if user_return_hook != NULL and (kernel_lock_held() or user_return_work()):
            if not kernel_lock_held():
                kernel_lock_acquire()
            user_return_hook()
        if kernel_lock_held():
            kernel_lock_release()
        if user_exit_hook != NULL:
            user_exit_hook()

cdef uint64_t trap_unexpected_count() noexcept nogil:
    return unexpected

cdef const idt_gate *trap_gate(int vector) noexcept nogil:
    return &idt[vector]
