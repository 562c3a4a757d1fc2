from libc.stdint cimport int64_t, uint64_t
from tyn.arch.trapframe cimport trap_frame

# Every syscall handler, whatever its arity, is called through this type: the
# x86-64 SysV ABI passes the first six integer arguments in registers, so a
# handler taking fewer simply ignores the rest (the Linux syscall convention
# maps rdi, rsi, rdx, r10, r8, r9 onto them).
ctypedef int64_t (*syscall_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) noexcept nogil

cdef extern void syscall_table_init() noexcept nogil
cdef extern void syscall_dispatch(trap_frame *frame) noexcept nogil
cdef extern const char *syscall_name(uint64_t number) noexcept nogil
cdef extern void syscall_trace(bint on) noexcept nogil
# The TSC at kmain's entry, for the first-system-call report.
cdef extern void syscall_note_kernel_entry(uint64_t tsc) noexcept nogil
