# Processes.  One for now (the BEAM); the kernel powers off when it exits.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport phys_to_virt, read_cr2, irq_disable
from tyn.arch.panic cimport exception_name, print_address
from tyn.arch.power cimport power_exit
from tyn.arch.trap cimport VECTOR_PAGE_FAULT, VECTOR_DIVIDE_ERROR, VECTOR_INVALID_OPCODE, VECTOR_BREAKPOINT
from tyn.arch.trapframe cimport trap_frame
from tyn.lib.kprint cimport kputs, kput_udec, kput_hex
from tyn.mm.paging cimport paging_new_root, paging_kernel_root, PT_ENTRIES
from tyn.proc.sched cimport sched_current
from tyn.proc.task cimport process, FIRST_PID
from tyn.mm.vma cimport vma_fault
from tyn.sys.signal cimport signal_fault

cdef enum:
    KERNEL_HALF_FIRST_ENTRY = 256       # PML4 entries 256..511 map the kernel half

cdef process init_process
cdef bint created

cdef process *process_create() noexcept nogil:
    global created
    cdef uint64_t *root
    cdef uint64_t *kernel_root
    cdef int i
    init_process.pid = FIRST_PID
    init_process.page_root = paging_new_root()
    root = <uint64_t *>phys_to_virt(init_process.page_root)
    kernel_root = <uint64_t *>phys_to_virt(paging_kernel_root())
    # Share the kernel half: the same lower-level tables, so later kernel mappings appear too.
    for i in range(KERNEL_HALF_FIRST_ENTRY, PT_ENTRIES):
        root[i] = kernel_root[i]
    init_process.mm.root = init_process.page_root
    created = True
    return &init_process

cdef process *process_current() noexcept nogil:
    return &init_process

cdef bint process_page_fault(uint64_t address, uint64_t error_code) noexcept nogil:
    return created and vma_fault(&init_process.mm, address, error_code)

cdef void process_exit(process *p, int status) noexcept nogil:
    irq_disable()
    p.exiting = True
    p.exit_status = status
    power_exit(status)

cdef int fault_signal(uint64_t vector) noexcept nogil:
    if vector == VECTOR_PAGE_FAULT or vector == 13 or vector == 12:
        return SIGSEGV
    if vector == VECTOR_DIVIDE_ERROR or vector == 16 or vector == 19:
        return SIGFPE
    if vector == VECTOR_INVALID_OPCODE:
        return SIGILL
    if vector == VECTOR_BREAKPOINT or vector == 1:
        return SIGTRAP
    return SIGBUS

cdef void process_user_fault(trap_frame *frame) noexcept nogil:
    cdef int sig = fault_signal(frame.vector)
    if signal_fault(sig):
        return                          # the program's handler runs on the way out
    kputs(b"tyn: pid ")
    kput_udec(<uint64_t>init_process.pid)
    kputs(b" tid ")
    kput_udec(<uint64_t>sched_current().tid)
    kputs(b" killed by signal ")
    kput_udec(<uint64_t>sig)
    kputs(b": ")
    kputs(exception_name(frame.vector))
    if frame.vector == VECTOR_PAGE_FAULT:
        kputs(b" at address ")
        kput_hex(read_cr2())
    kputs(b", RIP ")
    kput_hex(frame.rip)
    kputs(b", RSP ")
    kput_hex(frame.rsp)
    kputs(b"\n")
    process_exit(&init_process, SIGNAL_EXIT_BASE + sig)
