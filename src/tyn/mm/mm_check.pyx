# Boot-time self-check of pmm, paging, heap and kernel stacks (after paging_init_kernel_space).
from tyn.lib.kprint cimport kputs, kput_udec, kput_dec
from tyn.mm.pmm cimport pmm_self_check, pmm_free_count, pmm_total_count, PAGE_SIZE
from tyn.mm.paging cimport paging_self_check, paging_nx_supported
from tyn.mm.heap cimport heap_self_check
from tyn.mm.kstack cimport kstack_self_check

cdef enum:
    KIB = 1024

cdef int mm_self_check() noexcept nogil:
    """Run each module's check; prints one summary line; returns the number of problems."""
    cdef int pmm_problems = pmm_self_check()
    cdef int paging_problems = paging_self_check()
    cdef int heap_problems = heap_self_check()
    cdef int kstack_problems = kstack_self_check()
    cdef int problems = pmm_problems + paging_problems + heap_problems + kstack_problems
    kputs(b"tyn: mm: ")
    kput_udec(pmm_free_count() * (PAGE_SIZE // KIB))
    kputs(b" KiB free of ")
    kput_udec(pmm_total_count() * (PAGE_SIZE // KIB))
    kputs(b" KiB; NX ")
    kputs(b"on" if paging_nx_supported() else b"off")
    if problems == 0:
        kputs(b"; self-check ok\n")
    else:
        kputs(b"; self-check FAILED (pmm ")
        kput_dec(pmm_problems)
        kputs(b", paging ")
        kput_dec(paging_problems)
        kputs(b", heap ")
        kput_dec(heap_problems)
        kputs(b", kstack ")
        kput_dec(kstack_problems)
        kputs(b")\n")
    return problems
