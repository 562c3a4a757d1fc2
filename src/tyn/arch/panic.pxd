from libc.stdint cimport uint64_t
from tyn.arch.trapframe cimport trap_frame

cdef enum:
    BACKTRACE_MAX_FRAMES = 32
    # Error code bits of a page fault (Intel SDM vol. 3 4.7).
    PF_PRESENT = 1 << 0
    PF_WRITE = 1 << 1
    PF_USER = 1 << 2
    PF_RESERVED_BIT = 1 << 3
    PF_INSTRUCTION_FETCH = 1 << 4

# Print the panic report and leave QEMU with EXIT_STATUS_PANIC.  Never return.
cdef extern void panic(const char *message) noexcept nogil
cdef extern void panic_exception(trap_frame *frame) noexcept nogil
cdef extern const char *exception_name(uint64_t vector) noexcept nogil
cdef extern void print_backtrace(uint64_t rbp, int max_frames) noexcept nogil
cdef extern void print_address(uint64_t address) noexcept nogil
