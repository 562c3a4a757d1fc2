from libc.stdint cimport uint64_t
from tyn.arch.trapframe cimport trap_frame
from tyn.proc.task cimport process, thread

cdef enum:
    SIGNAL_EXIT_BASE = 128          # a process killed by signal N exits QEMU with 128 + N
    SIGSEGV = 11
    SIGBUS = 7
    SIGILL = 4
    SIGFPE = 8
    SIGTRAP = 5

# The first process: an empty user address space sharing the kernel half.
cdef extern process *process_create() noexcept nogil
cdef extern process *process_current() noexcept nogil
# trap.pyx's page-fault resolver: demand paging in the current process.
cdef extern bint process_page_fault(uint64_t address, uint64_t error_code) noexcept nogil
# The process ends with `status` (exit_group, or killed): with one process, the machine ends.
cdef extern void process_exit(process *p, int status) noexcept nogil
# Hook for trap.pyx: an exception in user mode nobody resolved kills the process, as Linux's
# default action for SIGSEGV/SIGILL/SIGFPE... would.
cdef extern void process_user_fault(trap_frame *frame) noexcept nogil
