/* Constants shared by the boot assembly, the linker script's users and Cython. */
#ifndef TYN_BOOT_LAYOUT_H
#define TYN_BOOT_LAYOUT_H

#define KERNEL_VMA_BASE             0xffffffff80000000
#define PHYS_MAP_BASE               0xffff800000000000
#define BOOT_PML4_PHYS_MAP_INDEX    256     /* PHYS_MAP_BASE >> 39 & 511 */
#define BOOT_PML4_KERNEL_INDEX      511     /* KERNEL_VMA_BASE >> 39 & 511 */
#define BOOT_PDPT_KERNEL_INDEX      510     /* KERNEL_VMA_BASE >> 30 & 511 */
#define BOOT_IDENTITY_LIMIT         0x40000000  /* the boot tables map 1 GiB */
#define BOOT_GDT_CODE64             0x08
#define BOOT_GDT_DATA               0x10
#define BOOT_STACK_SIZE             0x8000

#endif
