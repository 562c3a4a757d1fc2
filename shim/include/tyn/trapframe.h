/* The register frame shim/trap.S builds on the kernel stack for every trap. */
#ifndef TYN_TRAPFRAME_H
#define TYN_TRAPFRAME_H
#include <stdint.h>

struct trap_frame {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t vector, error_code;
    /* pushed by the CPU */
    uint64_t rip, cs, rflags, rsp, ss;
};

/* shim/trap.S: entry points for the 256 vectors, in vector order. */
extern const uint64_t trap_stub_table[256];

#endif
