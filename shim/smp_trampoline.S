/*
 * AP start-up: the STARTUP IPI starts a CPU in real mode at SMP_TRAMPOLINE_PHYS (CS =
 * its page, IP = 0).  This code runs from that copy: it checks that it is the CPU the
 * parameters are for, goes through 32-bit protected mode into long mode on tables that
 * identity-map this page and map the kernel, jumps to the kernel's high half, and there
 * switches to the kernel's tables and the AP's own stack.  All state comes from the
 * parameter block arch/smp fills (tyn/smp_trampoline.h).
 */
#include "tyn/smp_trampoline.h"

#define CR0_PE          (1 << 0)
#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define MSR_EFER        0xC0000080
#define CPUID_FEATURES  1
#define CPUID_EBX_APIC_ID_SHIFT 24

/* Physical address of a trampoline label, and of a parameter. */
#define T(label)        (SMP_TRAMPOLINE_PHYS + (label) - smp_trampoline_start)
#define PARAM(offset)   (SMP_TRAMPOLINE_PHYS + SMP_TRAMPOLINE_PARAMS + (offset))

    .section .rodata.smp_trampoline, "a"
    .balign 16
    .globl smp_trampoline_start, smp_trampoline_end
    .code16
smp_trampoline_start:
    cli
    cld
    xor     %ax, %ax
    mov     %ax, %ds
    /* A CPU that answers after the kernel gave up on it must not take another CPU's stack. */
    mov     $CPUID_FEATURES, %eax
    cpuid
    shr     $CPUID_EBX_APIC_ID_SHIFT, %ebx
    cmpl    PARAM(TRAMPOLINE_APIC_ID), %ebx
    jne     park
    lgdtl   T(trampoline_gdt_pointer)
    mov     %cr0, %eax
    or      $CR0_PE, %eax
    mov     %eax, %cr0
    ljmpl   $TRAMPOLINE_CODE32, $T(protected32)
park:
    cli
    hlt
    jmp     park

    .code32
protected32:
    mov     $TRAMPOLINE_DATA, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     %cr4, %eax
    or      $CR4_PAE, %eax
    mov     %eax, %cr4
    mov     PARAM(TRAMPOLINE_BOOT_CR3), %eax
    mov     %eax, %cr3
    mov     $MSR_EFER, %ecx
    rdmsr
    or      PARAM(TRAMPOLINE_EFER), %eax
    wrmsr
    mov     %cr0, %eax
    or      $(CR0_PG | CR0_WP | CR0_PE), %eax
    mov     %eax, %cr0
    ljmp    $TRAMPOLINE_CODE64, $T(long64)

    .code64
long64:
    mov     $TRAMPOLINE_DATA, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    xor     %eax, %eax
    mov     %ax, %fs
    mov     %ax, %gs
    mov     PARAM(TRAMPOLINE_KERNEL_CR3), %rdi
    mov     PARAM(TRAMPOLINE_STACK), %rsi
    mov     PARAM(TRAMPOLINE_CPU_INDEX), %edx
    mov     PARAM(TRAMPOLINE_ENTRY), %rax
    jmp     *%rax

    .balign 8
trampoline_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF            /* TRAMPOLINE_CODE32 */
    .quad 0x00CF92000000FFFF            /* TRAMPOLINE_DATA   */
    .quad 0x00AF9A000000FFFF            /* TRAMPOLINE_CODE64 */
trampoline_gdt_end:
trampoline_gdt_pointer:
    .word   trampoline_gdt_end - trampoline_gdt - 1
    .long   T(trampoline_gdt)
smp_trampoline_end:

/* The kernel's high half, still on the trampoline's tables. */
    .text
    .globl smp_ap_entry64
smp_ap_entry64:
    mov     %rdi, %cr3
    mov     %rsi, %rsp
    xor     %ebp, %ebp
    mov     %edx, %edi
    call    smp_ap_main
1:  cli
    hlt
    jmp     1b
