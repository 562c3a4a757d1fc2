# The vDSO: a small shared object (shim/vdso/, built with the kernel) with clock_gettime,
# gettimeofday, time and clock_getres, mapped into every program at exec with its data
# page (tyn/vdso_data.h) one page below; AT_SYSINFO_EHDR points at it.  Both live in
# frames the kernel owns for good (mappings add owners; fork shares them).
from libc.stdint cimport int64_t, uint64_t
from tyn.mm.vma cimport mm_space

cdef enum:
    # Fixed place, between the top-down mmap area (VMA_MMAP_TOP) and the stack: the
    # initial stack's auxv is built before the address space, so the address is known.
    VDSO_DATA_ADDRESS = 0x7FFFF7FFF000
    VDSO_ADDRESS = VDSO_DATA_ADDRESS + 4096

# Copy the image into frames, fill the data page, decide whether user mode may read the
# TSC, say so on the console.  False: no vDSO (out of memory; programs then get no
# AT_SYSINFO_EHDR and use system calls).
cdef extern bint vdso_init(bint tsc_user_mode) noexcept nogil
# Map the data page and the vDSO into mm (exec); the vDSO's address, or 0 when there is
# none, or -errno.
cdef extern int64_t vdso_map(mm_space *mm) noexcept nogil
# The address exec should put in AT_SYSINFO_EHDR (0: no vDSO).
cdef extern uint64_t vdso_address() noexcept nogil
