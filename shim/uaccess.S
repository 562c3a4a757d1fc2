/*
 * Checked copies between kernel and user memory (tyn/uaccess.h).
 *
 * Each checks that the user range lies below USER_ADDRESS_LIMIT, then copies
 * with SMAP opened (stac/clac, when the CPU has SMAP: patched to NOPs
 * otherwise is unnecessary -- stac/clac are only executed if uaccess_smap is
 * set).  A page fault inside [uaccess_begin, uaccess_end) that the memory
 * manager cannot resolve makes the trap handler resume at uaccess_fault,
 * which returns -EFAULT to the caller.
 *
 * Bulk copies move 8 bytes per iteration: where a hypervisor emulates the kernel's
 * instructions (docs/ARCHITECTURE.md, platform quirks) each iteration is costly.
 */
#define EFAULT 14
#define ENAMETOOLONG 36
#define USER_ADDRESS_LIMIT 0x0000800000000000

    .macro SMAP_OPEN
    cmpb    $0, uaccess_smap(%rip)
    je      98f
    stac
98:
    .endm
    .macro SMAP_CLOSE
    cmpb    $0, uaccess_smap(%rip)
    je      99f
    clac
99:
    .endm

    .text
    .globl uaccess_begin, uaccess_end, uaccess_fault
uaccess_begin:

/* int64_t copy_from_user(void *dst, uint64_t user_src, size_t n) */
    .globl copy_from_user
copy_from_user:
    mov     %rsi, %rax
    add     %rdx, %rax
    jc      uaccess_efault
    movabs  $USER_ADDRESS_LIMIT, %r8
    cmp     %r8, %rax
    ja      uaccess_efault
    mov     %rdx, %rcx
    shr     $3, %rcx
    and     $7, %edx
    SMAP_OPEN
    rep movsq
    mov     %rdx, %rcx
    rep movsb
    SMAP_CLOSE
    xor     %eax, %eax
    ret

/* int64_t copy_to_user(uint64_t user_dst, const void *src, size_t n) */
    .globl copy_to_user
copy_to_user:
    mov     %rdi, %rax
    add     %rdx, %rax
    jc      uaccess_efault
    movabs  $USER_ADDRESS_LIMIT, %r8
    cmp     %r8, %rax
    ja      uaccess_efault
    mov     %rdx, %rcx
    shr     $3, %rcx
    and     $7, %edx
    SMAP_OPEN
    rep movsq
    mov     %rdx, %rcx
    rep movsb
    SMAP_CLOSE
    xor     %eax, %eax
    ret

/* int64_t clear_user(uint64_t user_dst, size_t n) */
    .globl clear_user
clear_user:
    mov     %rdi, %rax
    add     %rsi, %rax
    jc      uaccess_efault
    movabs  $USER_ADDRESS_LIMIT, %r8
    cmp     %r8, %rax
    ja      uaccess_efault
    mov     %rsi, %rcx
    shr     $3, %rcx
    and     $7, %esi
    xor     %eax, %eax
    SMAP_OPEN
    rep stosq
    mov     %rsi, %rcx
    rep stosb
    SMAP_CLOSE
    ret

/* int64_t strncpy_from_user(char *dst, uint64_t user_src, size_t max) */
    .globl strncpy_from_user
strncpy_from_user:
    xor     %eax, %eax                  /* index */
    movabs  $USER_ADDRESS_LIMIT, %r8
    SMAP_OPEN
1:  cmp     %rdx, %rax
    jae     3f
    lea     (%rsi, %rax), %r9
    cmp     %r8, %r9
    jae     4f
    movb    (%r9), %cl
    movb    %cl, (%rdi, %rax)
    test    %cl, %cl
    jz      2f
    inc     %rax
    jmp     1b
2:  SMAP_CLOSE
    ret                                 /* length without the NUL */
3:  SMAP_CLOSE
    mov     $-ENAMETOOLONG, %rax
    ret
4:  SMAP_CLOSE
    jmp     uaccess_efault

uaccess_fault:
    SMAP_CLOSE
uaccess_efault:
    mov     $-EFAULT, %rax
    ret
uaccess_end:

    .data
    .globl uaccess_smap
uaccess_smap:   .byte 0
