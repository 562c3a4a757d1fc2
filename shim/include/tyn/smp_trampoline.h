/*
 * The AP start-up trampoline (shim/smp_trampoline.S): real mode -> long mode.  arch/smp
 * copies it to SMP_TRAMPOLINE_PHYS (page-aligned, below 1 MiB: the STARTUP IPI's vector is
 * its page number) and fills the parameter block at SMP_TRAMPOLINE_PARAMS before each
 * STARTUP IPI.
 */
#ifndef TYN_SMP_TRAMPOLINE_H
#define TYN_SMP_TRAMPOLINE_H

#define SMP_TRAMPOLINE_PHYS         0x8000
#define SMP_TRAMPOLINE_PARAMS       0xF00   /* offset of the parameter block in the page */

/* Offsets in the parameter block. */
#define TRAMPOLINE_APIC_ID          0   /* u32: only the CPU with this initial APIC ID goes on */
#define TRAMPOLINE_BOOT_CR3         4   /* u32: tables mapping this page and the kernel (< 4 GiB) */
#define TRAMPOLINE_EFER             8   /* u32: EFER bits to set (LME, NXE) */
#define TRAMPOLINE_CPU_INDEX        12  /* u32 */
#define TRAMPOLINE_KERNEL_CR3       16  /* u64: the kernel's page tables */
#define TRAMPOLINE_STACK            24  /* u64: the AP's kernel stack top */
#define TRAMPOLINE_ENTRY            32  /* u64: smp_ap_entry64 */

/* Selectors of the trampoline's own GDT. */
#define TRAMPOLINE_CODE32           0x08
#define TRAMPOLINE_DATA             0x10
#define TRAMPOLINE_CODE64           0x18

#ifndef __ASSEMBLER__
#include <stdint.h>
struct smp_trampoline_params {
    uint32_t apic_id, boot_cr3, efer, cpu_index;
    uint64_t kernel_cr3, stack_top, entry;
};
extern const char smp_trampoline_start[], smp_trampoline_end[];
/* High-half landing: loads the kernel CR3 and stack, calls smp_ap_main(cpu_index). */
void smp_ap_entry64(void);
#endif
#endif
