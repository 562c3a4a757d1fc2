/*
 * Multiboot (v1) entry: 32-bit protected mode -> 64-bit long mode -> kmain.
 *
 * QEMU's -kernel loader starts us in 32-bit protected mode, paging off, with
 * EAX = multiboot magic and EBX = physical address of the multiboot info.
 * We build throw-away page tables that map the first 1 GiB three times
 * (identity, the direct map at PHYS_MAP_BASE, and the kernel image at
 * KERNEL_VMA_BASE), enable long mode and jump to the high kernel.
 * mm/paging.pyx replaces these tables with the real ones.
 */
#include "tyn/boot_layout.h"

#define MULTIBOOT_HEADER_MAGIC      0x1BADB002
#define MULTIBOOT_PAGE_ALIGN        (1 << 0)
#define MULTIBOOT_MEMORY_INFO       (1 << 1)
#define MULTIBOOT_HEADER_FLAGS      (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)

#define CR0_PE          (1 << 0)
#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define MSR_EFER        0xC0000080
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)
#define CPUID_EXT_MAX   0x80000000
#define CPUID_EXT_FEATURES 0x80000001
#define CPUID_EDX_NX    (1 << 20)
#define CPUID_EDX_LM    (1 << 29)
#define PTE_PRESENT     (1 << 0)
#define PTE_WRITE       (1 << 1)
#define PTE_HUGE        (1 << 7)
#define HUGE_PAGE_SIZE  0x200000
#define COM1_PORT       0x3F8
#define DEBUG_EXIT_PORT 0xF4

    .section .multiboot_header, "a"
    .balign 4
    .long MULTIBOOT_HEADER_MAGIC
    .long MULTIBOOT_HEADER_FLAGS
    .long -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

    .section .boot.text, "ax"
    .code32
    .globl boot_entry32
boot_entry32:
    cli
    cld
    mov     %eax, %edi                  /* multiboot magic, kept for kmain */
    mov     %ebx, %esi                  /* multiboot info (physical)      */
    mov     $boot32_stack_top, %esp

    mov     $CPUID_EXT_MAX, %eax
    cpuid
    cmp     $CPUID_EXT_FEATURES, %eax
    jb      no_long_mode
    mov     $CPUID_EXT_FEATURES, %eax
    cpuid
    test    $CPUID_EDX_LM, %edx
    jz      no_long_mode
    mov     %edx, %ebp                  /* remember NX support */

    /* boot_pd: 512 x 2 MiB pages covering physical 0..1 GiB */
    mov     $boot_pd, %ebx
    xor     %ecx, %ecx
1:  mov     %ecx, %eax
    shl     $21, %eax
    or      $(PTE_PRESENT | PTE_WRITE | PTE_HUGE), %eax
    mov     %eax, (%ebx, %ecx, 8)
    movl    $0, 4(%ebx, %ecx, 8)
    inc     %ecx
    cmp     $512, %ecx
    jne     1b

    mov     $(boot_pd + PTE_PRESENT + PTE_WRITE), %eax
    mov     %eax, boot_pdpt_low
    mov     %eax, boot_pdpt_high + 8 * BOOT_PDPT_KERNEL_INDEX
    mov     $(boot_pdpt_low + PTE_PRESENT + PTE_WRITE), %eax
    mov     %eax, boot_pml4
    mov     %eax, boot_pml4 + 8 * BOOT_PML4_PHYS_MAP_INDEX
    mov     $(boot_pdpt_high + PTE_PRESENT + PTE_WRITE), %eax
    mov     %eax, boot_pml4 + 8 * BOOT_PML4_KERNEL_INDEX

    mov     $boot_pml4, %eax
    mov     %eax, %cr3
    mov     %cr4, %eax
    or      $CR4_PAE, %eax
    mov     %eax, %cr4
    mov     $MSR_EFER, %ecx
    rdmsr
    or      $EFER_LME, %eax
    test    $CPUID_EDX_NX, %ebp
    jz      2f
    or      $EFER_NXE, %eax
2:  wrmsr
    mov     %cr0, %eax
    or      $(CR0_PG | CR0_WP | CR0_PE), %eax
    mov     %eax, %cr0

    lgdt    boot_gdt_pointer
    ljmp    $BOOT_GDT_CODE64, $boot_entry64

/* No long mode: say so on COM1 and leave QEMU with guest status 1. */
no_long_mode:
    mov     $no_long_mode_message, %esi
    mov     $COM1_PORT, %dx
3:  lodsb
    test    %al, %al
    jz      4f
    out     %al, %dx
    jmp     3b
4:  mov     $DEBUG_EXIT_PORT, %dx
    mov     $1, %eax
    out     %eax, %dx
5:  hlt
    jmp     5b

    .code64
boot_entry64:
    mov     $BOOT_GDT_DATA, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    xor     %eax, %eax
    mov     %ax, %fs
    mov     %ax, %gs
    movabs  $kernel_entry64, %rax
    jmp     *%rax

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF            /* 64-bit code, DPL 0 */
    .quad 0x00CF92000000FFFF            /* data, DPL 0        */
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
no_long_mode_message:
    .asciz "tyn: this CPU has no long mode (x86_64); cannot boot\n"

    .section .boot.bss, "aw", @nobits
    .balign 4096
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096
                .skip 4096
boot32_stack_top:

/* High half from here on. */
    .section .text.entry, "ax"
    .globl kernel_entry64
kernel_entry64:
    movabs  $boot_stack_top, %rsp
    xor     %ebp, %ebp
    mov     %edi, %edi                  /* zero-extend magic and mbi */
    mov     %esi, %esi
    call    kmain
6:  cli
    hlt
    jmp     6b

/*
 * The boot stack, with an unmapped guard page below it (mm/paging.pyx leaves
 * boot_stack_guard out of the kernel mapping, so an overflow faults).
 */
    .section .bss.boot_stack, "aw", @nobits
    .balign 4096
    .globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:   .skip 4096
boot_stack_bottom:  .skip BOOT_STACK_SIZE
boot_stack_top:

/* The root filesystem's location, written into the image file by
 * tyn.build.bootimage (so it must be file-backed .data, and kept). */
    .section .data.initfs_descriptor, "aw"
    .balign 8
    .globl initfs_descriptor
initfs_descriptor:
    .quad 0, 0, 0
