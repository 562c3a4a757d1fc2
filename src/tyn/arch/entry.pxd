# The SYSCALL entry and thread switching (shim/entry.S, tyn/cpu_local.h).
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "tyn/cpu_local.h" nogil:
    const int CPU_LOCAL_KERNEL_RSP
    const int CPU_LOCAL_SELF
    const int CPU_LOCAL_CPU_INDEX
    const int TRAP_VECTOR_SYSCALL
    cdef struct cpu_local:
        uint64_t kernel_rsp
        uint64_t user_rsp
        uint64_t self
        uint32_t cpu_index
        uint32_t apic_id
    void syscall_entry()
    void context_switch(uint64_t *save_rsp, uint64_t load_rsp)
    void thread_first_return()
