/*
 * Per-CPU data, reached through GS in the kernel (user GS is swapped in with
 * swapgs on every user<->kernel transition).  Offsets are used by shim/*.S.
 */
#ifndef TYN_CPU_LOCAL_H
#define TYN_CPU_LOCAL_H

#define CPU_LOCAL_KERNEL_RSP    0   /* top of the running thread's kernel stack */
#define CPU_LOCAL_USER_RSP      8   /* scratch: user RSP during syscall entry */
#define CPU_LOCAL_SELF          16
#define CPU_LOCAL_CPU_INDEX     24  /* 0 = the boot CPU, then MADT order */
#define CPU_LOCAL_APIC_ID       28

/* trap_frame.vector for frames built by the SYSCALL entry (not a real IDT vector). */
#define TRAP_VECTOR_SYSCALL     0x100

#ifndef __ASSEMBLER__
#include <stdint.h>
struct cpu_local {
    uint64_t kernel_rsp;
    uint64_t user_rsp;
    uint64_t self;
    uint32_t cpu_index;
    uint32_t apic_id;
};

/* shim/entry.S */
void syscall_entry(void);
/* Save callee-saved registers and RSP into *save_rsp, switch to load_rsp, restore, return. */
void context_switch(uint64_t *save_rsp, uint64_t load_rsp);
/* Where a new thread's first context_switch returns: leaves through trap_exit. */
void thread_first_return(void);
#endif
#endif
