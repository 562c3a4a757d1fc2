# memfd_create(2): an anonymous tmpfs file (Linux's shmem file in no directory).
# MAP_SHARED mappings of it share its frames, so two mappings at different addresses
# (one writable, one executable) show the same bytes: the JIT's dual mapping.
from libc.stdint cimport int64_t, uint64_t

cdef enum:
    # include/uapi/linux/memfd.h
    MFD_CLOEXEC = 0x0001
    MFD_ALLOW_SEALING = 0x0002
    MFD_HUGETLB = 0x0004
    MFD_NOEXEC_SEAL = 0x0008        # Linux 6.3 (Tyn reports 6.1: unknown flag)
    MFD_EXEC = 0x0010               # Linux 6.3
    MFD_NAME_PREFIX_LEN = 6         # "memfd:"
    MFD_NAME_MAX_LEN = 255 - MFD_NAME_PREFIX_LEN    # NAME_MAX minus the prefix

cdef extern int64_t sys_memfd_create(uint64_t uname, uint64_t flags) noexcept nogil    # 319
# Anonymous files created so far (the JIT's dual mapping makes one per code block).
cdef extern uint64_t memfd_created_count() noexcept nogil
