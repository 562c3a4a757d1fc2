/* The general registers of struct trap_frame (tyn/trapframe.h), pushed in the order
 * that makes RAX the lowest address.  Shared by trap.S and entry.S. */
    .macro PUSH_GENERAL_REGISTERS
    pushq   %r15
    pushq   %r14
    pushq   %r13
    pushq   %r12
    pushq   %r11
    pushq   %r10
    pushq   %r9
    pushq   %r8
    pushq   %rbp
    pushq   %rdi
    pushq   %rsi
    pushq   %rdx
    pushq   %rcx
    pushq   %rbx
    pushq   %rax
    .endm
