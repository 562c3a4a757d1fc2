from libc.stdint cimport uint64_t

cdef extern from "tyn/trapframe.h" nogil:
    # Saved by shim/trap.S on every interrupt and exception.
    cdef struct trap_frame:
        uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp
        uint64_t r8, r9, r10, r11, r12, r13, r14, r15
        uint64_t vector, error_code
        uint64_t rip, cs, rflags, rsp, ss
    const uint64_t trap_stub_table[256]

cdef enum:
    # A SYSCALL frame's error_code holds the system call number while the call runs
    # (Linux's orig_ax): signal delivery needs it to restart an interrupted call.
    # rt_sigreturn sets TRAP_NO_SYSCALL so the restored registers are never "restarted".
    TRAP_NO_SYSCALL = -1
