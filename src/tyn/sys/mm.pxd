from libc.stdint cimport int64_t, uint64_t

cdef extern int64_t sys_mmap(uint64_t addr, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd,
                             uint64_t offset) noexcept nogil
cdef extern int64_t sys_munmap(uint64_t addr, uint64_t length) noexcept nogil
cdef extern int64_t sys_mprotect(uint64_t addr, uint64_t length, uint64_t prot) noexcept nogil
cdef extern int64_t sys_mremap(uint64_t old_addr, uint64_t old_length, uint64_t new_length, uint64_t flags,
                               uint64_t new_addr) noexcept nogil
cdef extern int64_t sys_madvise(uint64_t addr, uint64_t length, uint64_t advice) noexcept nogil
cdef extern int64_t sys_brk(uint64_t addr) noexcept nogil
# Before the first system call: what mmap of files needs.
cdef extern void sys_mm_init() noexcept nogil
