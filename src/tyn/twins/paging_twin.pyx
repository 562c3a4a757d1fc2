# Host face of mm/paging for tests.
from libc.stdint cimport uint64_t
from tyn.mm.paging cimport *

PRESENT = PTE_PRESENT
WRITE = PTE_WRITE
USER = PTE_USER
PWT = PTE_PWT
PCD = PTE_PCD
HUGE = PTE_HUGE
GLOBAL = PTE_GLOBAL
NX = PTE_NX
ADDR_MASK = PTE_ADDR_MASK
NOT_MAPPED = PAGING_NOT_MAPPED
HUGE_PAGE = HUGE_PAGE_SIZE
MMIO_BASE = MMIO_VIRT_BASE
KSTACK_BASE = KSTACK_VIRT_BASE
OK = PAGING_OK
ERR_NO_MEMORY = PAGING_ERR_NO_MEMORY
ERR_ALREADY_MAPPED = PAGING_ERR_ALREADY_MAPPED
ERR_NOT_MAPPED = PAGING_ERR_NOT_MAPPED
ERR_UNALIGNED = PAGING_ERR_UNALIGNED
ERR_BAD_ADDRESS = PAGING_ERR_BAD_ADDRESS
ERR_HUGE_CONFLICT = PAGING_ERR_HUGE_CONFLICT
ERR_USER_KERNEL = PAGING_ERR_USER_KERNEL
ERR_NOT_READY = PAGING_ERR_NOT_READY

def new_root() -> int:
    return paging_new_root()

def map(unsigned long long root, unsigned long long va, unsigned long long pa, unsigned long long flags) -> int:
    return paging_map(root, va, pa, flags)

def map_huge(unsigned long long root, unsigned long long va, unsigned long long pa,
             unsigned long long flags) -> int:
    return paging_map_huge(root, va, pa, flags)

def unmap(unsigned long long root, unsigned long long va) -> int:
    return paging_unmap(root, va)

def unmap_huge(unsigned long long root, unsigned long long va) -> int:
    return paging_unmap_huge(root, va)

def translate(unsigned long long root, unsigned long long va):
    """(physical address, leaf flags), or None if unmapped."""
    cdef uint64_t flags = 0
    cdef uint64_t pa = paging_translate(root, va, &flags)
    return None if pa == PAGING_NOT_MAPPED else (pa, flags)

def detect_cpu_features():
    paging_detect_cpu_features()

def nx_supported() -> bool:
    return paging_nx_supported()

def init_kernel_space() -> int:
    return paging_init_kernel_space()

def kernel_root() -> int:
    return paging_kernel_root()

def map_direct(unsigned long long phys, unsigned long long length) -> int:
    return paging_map_direct(phys, length)

def map_mmio(unsigned long long phys, unsigned long long size) -> int:
    return paging_map_mmio(phys, size)

def self_check() -> int:
    return paging_self_check()

def spare_tables() -> int:
    return paging_spare_tables()
