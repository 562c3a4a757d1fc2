# The IDT and trap dispatch.  shim/trap.S saves registers and calls
# trap_dispatch() for every vector; exceptions in the kernel are fatal
# (panic report), device interrupts go to the handler registered for them.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport lidt
from tyn.arch.gdt cimport SEL_KERNEL_CODE, IST_DOUBLE_FAULT, IST_NMI, IST_MACHINE_CHECK
from tyn.arch.trapframe cimport trap_frame, trap_stub_table
from tyn.arch.panic cimport panic_exception
from tyn.lib.kprint cimport kputs, kput_udec

cdef enum:
    GATE_INTERRUPT_64 = 0xE     # interrupt gate: IF cleared on entry
    GATE_PRESENT = 0x80
    UNEXPECTED_REPORT_LIMIT = 8

cdef idt_gate idt[IDT_VECTORS]
cdef trap_handler handlers[IDT_VECTORS]
cdef uint64_t unexpected

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
    lidt(<uint64_t>&idt[0], sizeof(idt) - 1)

cdef void trap_set_handler(int vector, trap_handler handler) noexcept nogil:
    handlers[vector] = handler

cdef void trap_dispatch(trap_frame *frame) noexcept nogil:
    global unexpected
    cdef uint64_t vector = frame.vector
    if vector < IDT_VECTORS and handlers[vector] != NULL:
        handlers[vector](frame)
    elif vector < EXCEPTION_VECTORS:
        panic_exception(frame)
    elif vector != VECTOR_SPURIOUS:
        unexpected += 1
        if unexpected <= UNEXPECTED_REPORT_LIMIT:
            kputs(b"tyn: unexpected interrupt vector ")
            kput_udec(vector)
            kputs(b"\n")

cdef uint64_t trap_unexpected_count() noexcept nogil:
    return unexpected

cdef const idt_gate *trap_gate(int vector) noexcept nogil:
    return &idt[vector]
