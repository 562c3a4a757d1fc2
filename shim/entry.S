/*
 * SYSCALL entry, the common trap exit, and the context switch.
 *
 * A system call builds the same struct trap_frame as an interrupt (with
 * vector = TRAP_VECTOR_SYSCALL, user RIP from RCX, RFLAGS from R11), so one
 * dispatcher and one exit path (IRETQ) serve both.
 */
#include "tyn/frame.S.h"
#include "tyn/cpu_local.h"

#define SEL_USER_DATA_RPL3  (0x20 | 3)
#define SEL_USER_CODE_RPL3  (0x28 | 3)
#define FRAME_CS_OFFSET     (18 * 8)    /* trap_frame.cs */

    .text
    .globl syscall_entry
syscall_entry:
    swapgs
    mov     %rsp, %gs:CPU_LOCAL_USER_RSP
    mov     %gs:CPU_LOCAL_KERNEL_RSP, %rsp
    pushq   $SEL_USER_DATA_RPL3         /* ss     */
    pushq   %gs:CPU_LOCAL_USER_RSP      /* rsp    */
    pushq   %r11                        /* rflags */
    pushq   $SEL_USER_CODE_RPL3         /* cs     */
    pushq   %rcx                        /* rip    */
    pushq   $0                          /* error code */
    pushq   $TRAP_VECTOR_SYSCALL
    PUSH_GENERAL_REGISTERS
    xor     %ebp, %ebp                  /* backtraces stop at the user boundary */
    mov     %rsp, %rdi
    sti
    call    trap_dispatch
    /* fall through */

/* Restore the trap_frame at RSP and return to where it came from. */
    .globl trap_exit
trap_exit:
    cli
    testb   $3, FRAME_CS_OFFSET(%rsp)
    jz      1f
    swapgs
1:  popq    %rax
    popq    %rbx
    popq    %rcx
    popq    %rdx
    popq    %rsi
    popq    %rdi
    popq    %rbp
    popq    %r8
    popq    %r9
    popq    %r10
    popq    %r11
    popq    %r12
    popq    %r13
    popq    %r14
    popq    %r15
    add     $16, %rsp                   /* vector and error code */
    iretq

/* void context_switch(uint64_t *save_rsp, uint64_t load_rsp) */
    .globl context_switch
context_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    mov     %rsp, (%rdi)
    mov     %rsi, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret

    .globl thread_first_return
thread_first_return:
    call    sched_thread_start          /* releases the scheduler lock the switch held */
    jmp     trap_exit
