/*
 * Interrupt and exception entry: one stub per vector pushes a zero error code
 * where the CPU does not, then the vector number, then trap_common saves the
 * general registers (struct trap_frame, tyn/trapframe.h) and calls the Cython
 * dispatcher trap_dispatch(struct trap_frame *).
 */
#include "tyn/frame.S.h"
#define SEGMENT_RPL_MASK 3

    .altmacro
    .macro TRAP_STUB vector
    .balign 16
trap_stub_\vector:
    /* vectors where the CPU pushes an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX */
    .if (\vector == 8) || (\vector == 10) || (\vector == 11) || (\vector == 12) || (\vector == 13) || (\vector == 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
    .else
    pushq   $0
    .endif
    pushq   $\vector
    jmp     trap_common
    .endm

    .macro TRAP_STUB_ADDRESS vector
    .quad trap_stub_\vector
    .endm

    .text
    .set vector, 0
    .rept 256
    TRAP_STUB %vector
    .set vector, vector + 1
    .endr

trap_common:
    testb   $3, 24(%rsp)                /* CS of the interrupted context: from user mode? */
    jz      1f
    swapgs
1:
    PUSH_GENERAL_REGISTERS
    cld
    mov     %rsp, %rdi
    call    trap_dispatch
    jmp     trap_exit                   /* shim/entry.S */

/* reload_segments(code_selector, data_selector): new CS by far return. */
    .globl reload_segments
reload_segments:
    mov     %si, %ds
    mov     %si, %es
    mov     %si, %ss
    pushq   %rdi
    leaq    1f(%rip), %rax
    pushq   %rax
    lretq
1:  ret

    .section .rodata
    .balign 8
    .globl trap_stub_table
trap_stub_table:
    .set vector, 0
    .rept 256
    TRAP_STUB_ADDRESS %vector
    .set vector, vector + 1
    .endr
