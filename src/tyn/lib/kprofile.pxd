# Kernel profile (profile=1 on the command line): counts and TSC cycles per kind of kernel
# work, printed when init exits.  Every CPU adds to the same counters (atomic adds).  It answers "where does the kernel's time go" on a
# hypervisor where privileged operations are expensive (see docs/ARCHITECTURE.md).
from libc.stdint cimport uint64_t

cdef enum:
    # Events other than system calls (those are counted per number).
    PROFILE_PAGE_FAULT = 0       # demand paging (user or user-copy faults)
    PROFILE_FORK_COPY = 1        # copying an address space for fork
    PROFILE_CONTEXT_SWITCH = 2
    PROFILE_ADDRESS_SPACE_FREE = 3   # a process's memory released (exit, execve)
    PROFILE_KERNEL_LOCK_WAIT = 4     # a CPU found the kernel_lock taken and waited for it
    PROFILE_EVENT_COUNT = 5

cdef extern void profile_enable(bint on) noexcept nogil
cdef extern bint profile_enabled() noexcept nogil
# Start/stop a measurement: begin returns a TSC stamp (0 when profiling is off).
cdef extern uint64_t profile_begin() noexcept nogil
cdef extern void profile_end_event(int event, uint64_t started) noexcept nogil
cdef extern void profile_end_syscall(uint64_t number, uint64_t started) noexcept nogil
# One console line per event kind and per system call that happened (largest time first).
cdef extern void profile_report() noexcept nogil
