# x86_64 4-level paging (Intel SDM Vol. 3A, 4.5): page tables the kernel owns.
#
# Tables are 4 KiB frames from the pmm, reached through the direct map.
# Every function takes the physical address of a PML4 ("root") so the same
# code will serve user address spaces later; the kernel's own root is built
# by paging_init_kernel_space().  Map/unmap/translate run with interrupts
# disabled (mm_lock.pxd).
#
# Kernel virtual layout (upper half; PML4 slots never shared with user space):
#   PHYS_MAP_BASE     0xffff800000000000  direct map of RAM (RW, NX, 2 MiB pages where aligned)
#   MMIO_VIRT_BASE    0xffffc00000000000  device registers (paging_map_mmio: uncached, NX)
#   KSTACK_VIRT_BASE  0xffffd00000000000  kernel stacks with guard pages (mm/kstack)
#   KERNEL_VMA_BASE   0xffffffff80000000  the kernel image (text RX, rodata R, data RW)
from libc.stdint cimport uint64_t

cdef extern from *:
    """
    #include <stdint.h>
    /* Page-table entry bits (SDM Vol. 3A, Tables 4-15..4-20). */
    #define PTE_PRESENT   ((uint64_t)1 << 0)
    #define PTE_WRITE     ((uint64_t)1 << 1)
    #define PTE_USER      ((uint64_t)1 << 2)
    #define PTE_PWT       ((uint64_t)1 << 3)    /* page-level write-through */
    #define PTE_PCD       ((uint64_t)1 << 4)    /* page-level cache disable */
    #define PTE_ACCESSED  ((uint64_t)1 << 5)
    #define PTE_DIRTY     ((uint64_t)1 << 6)
    #define PTE_HUGE      ((uint64_t)1 << 7)    /* PS: this PDE/PDPTE maps a 2 MiB/1 GiB page */
    #define PTE_GLOBAL    ((uint64_t)1 << 8)
    #define PTE_NX        ((uint64_t)1 << 63)   /* XD: needs EFER.NXE */
    #define PTE_PARKED    ((uint64_t)1 << 9)    /* software bit: absent page keeping its frame */
    #define PTE_ADDR_MASK ((uint64_t)0x000ffffffffff000ULL)
    #define PTE_FLAGS_MASK (PTE_NX | (uint64_t)0xfff)
    #define PAGING_NOT_MAPPED ((uint64_t)-1)
    #define MMIO_VIRT_BASE   ((uint64_t)0xffffc00000000000ULL)
    #define MMIO_VIRT_SIZE   ((uint64_t)1 << 39)
    #define KSTACK_VIRT_BASE ((uint64_t)0xffffd00000000000ULL)
    #define KSTACK_VIRT_SIZE ((uint64_t)1 << 39)
    """
    const uint64_t PTE_PRESENT
    const uint64_t PTE_WRITE
    const uint64_t PTE_USER
    const uint64_t PTE_PWT
    const uint64_t PTE_PCD
    const uint64_t PTE_ACCESSED
    const uint64_t PTE_DIRTY
    const uint64_t PTE_HUGE
    const uint64_t PTE_GLOBAL
    const uint64_t PTE_NX
    const uint64_t PTE_PARKED
    const uint64_t PTE_ADDR_MASK
    const uint64_t PTE_FLAGS_MASK
    const uint64_t PAGING_NOT_MAPPED      # paging_translate: nothing mapped there
    const uint64_t MMIO_VIRT_BASE
    const uint64_t MMIO_VIRT_SIZE
    const uint64_t KSTACK_VIRT_BASE
    const uint64_t KSTACK_VIRT_SIZE

cdef enum:
    PT_ENTRIES = 512
    HUGE_PAGE_SIZE = 0x200000           # 2 MiB, mapped by a PDE with PS set
    CPUID_EXT_MAX = 0x80000000
    CPUID_EXT_FEATURES = 0x80000001
    CPUID_EDX_NX = 1 << 20

    PAGING_OK = 0
    PAGING_ERR_NO_MEMORY = -1           # no frame for a page table
    PAGING_ERR_ALREADY_MAPPED = -2
    PAGING_ERR_NOT_MAPPED = -3
    PAGING_ERR_UNALIGNED = -4
    PAGING_ERR_BAD_ADDRESS = -5         # non-canonical virtual or >52-bit physical address
    PAGING_ERR_HUGE_CONFLICT = -6       # 4 KiB operation inside a 2 MiB page, or the reverse
    PAGING_ERR_USER_KERNEL = -7         # PTE_USER asked for in the kernel half
    PAGING_ERR_NOT_READY = -8           # no kernel address space yet

# A zeroed PML4, or PAGING_NOT_MAPPED when out of memory.
cdef extern uint64_t paging_new_root() noexcept nogil
# Map one 4 KiB page (va, pa page-aligned).  PTE_PRESENT is implied; PTE_NX is
# dropped when the CPU lacks NX.  Never replaces an existing mapping.
cdef extern int paging_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags) noexcept nogil
# The same for one 2 MiB page (va, pa 2 MiB-aligned; PTE_HUGE implied).
cdef extern int paging_map_huge(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags) noexcept nogil
# Remove a 4 KiB / 2 MiB mapping (TLB entry invalidated if root is live).
# Page-table pages left empty are returned to the pmm (PDPTs are kept: the
# kernel half's PML4 entries must stay stable for copies in other roots).
cdef extern int paging_unmap(uint64_t root, uint64_t va) noexcept nogil
cdef extern int paging_unmap_huge(uint64_t root, uint64_t va) noexcept nogil
# Physical address va maps to, or PAGING_NOT_MAPPED; *flags_out (if not NULL)
# gets the leaf entry's flag bits (PTE_HUGE set for a large page).
cdef extern uint64_t paging_translate(uint64_t root, uint64_t va, uint64_t *flags_out) noexcept nogil

# (Re)read CPUID for NX support; done by paging_init_kernel_space and on first use.
cdef extern void paging_detect_cpu_features() noexcept nogil
cdef extern bint paging_nx_supported() noexcept nogil

# Build the kernel's address space (direct map of the pmm's RAM regions and
# the low 1 MiB, the kernel image with per-section permissions, the boot
# stack's guard page left out), load it into CR3 and lift the pmm ceiling.
# Needs pmm_init first.  Returns PAGING_OK or an error (nothing switched).
cdef extern int paging_init_kernel_space() noexcept nogil
cdef extern uint64_t paging_kernel_root() noexcept nogil
# Add [phys, phys+length) to the kernel's direct map (e.g. ACPI tables outside RAM).
cdef extern int paging_map_direct(uint64_t phys, uint64_t length) noexcept nogil
# Map device registers uncached (PCD|PWT), NX, kernel-only; returns the virtual
# address of phys (offset kept), or 0 on failure.
# Parked pages: absent (every access faults, the kernel's included) but the frame is kept
# in the entry, so PROT_NONE keeps a page's contents for a later mprotect, as Linux does.
cdef extern int paging_park(uint64_t root, uint64_t va, uint64_t frame) noexcept nogil
cdef extern uint64_t paging_parked_frame(uint64_t root, uint64_t va) noexcept nogil
# The raw 4 KiB leaf entry for va: present, parked, or 0 (also when no table reaches it).
cdef extern uint64_t paging_leaf(uint64_t root, uint64_t va) noexcept nogil
# Keep emptied page-table frames for page tables only instead of returning them to the pmm
# (the kernel does: see paging.pyx); how many are kept.
cdef extern void paging_keep_spare_tables(bint keep) noexcept nogil
cdef extern uint64_t paging_spare_tables() noexcept nogil
# Frames the page tables hold (all address spaces, spares included).
cdef extern uint64_t paging_table_frames() noexcept nogil
# Give the spare table frames back to the pmm (the OOM killer's first resort); how many.
cdef extern uint64_t paging_release_spare_tables() noexcept nogil
cdef extern uint64_t paging_map_mmio(uint64_t phys, uint64_t size) noexcept nogil
# Range walks: one pass over the tables instead of a walk per page.  visit() is called
# for every non-zero 4 KiB leaf entry (present or parked) in [start, end) of the user
# half, in address order, with the mm lock held; it may rewrite or clear the entry and
# returns whether it changed it (the TLB entry is then dropped).  Page tables left empty
# by cleared entries are freed (as paging_unmap does) after the shootdown.  A long range
# is visited in batches (the mm lock is released and the TLBs flushed between them).  visit may map pages in another root.
ctypedef bint (*paging_visitor)(void *ctx, uint64_t va, uint64_t *entry) noexcept nogil
cdef extern void paging_visit(uint64_t root, uint64_t start, uint64_t end, paging_visitor visit,
                              void *ctx) noexcept nogil
# From a visitor only: `frame` (whose entry it just cleared) goes back to the pmm once
# every CPU has flushed the range (the visit's shootdown), never before: a stale TLB
# entry elsewhere must not reach a reused frame.  Emptied page tables wait the same way.
cdef extern void paging_free_after_flush(uint64_t frame) noexcept nogil
# Frames and tables whose free waited for a shootdown so far (a counter for tests).
cdef extern uint64_t paging_frames_freed_after_flush() noexcept nogil
# Replace the present 4 KiB leaf at va with pa | flags (PTE_PRESENT implied).
# PAGING_ERR_NOT_MAPPED if nothing is mapped there.
cdef extern int paging_replace(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags) noexcept nogil
# After the switch: check the live tables map what they should; returns problems.
cdef extern int paging_self_check() noexcept nogil
