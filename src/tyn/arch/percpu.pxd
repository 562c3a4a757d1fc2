from libc.stdint cimport uint64_t
from tyn.arch.entry cimport cpu_local

# Per-CPU state (GS base) and the SYSCALL machinery (STAR/LSTAR/FMASK, EFER.SCE),
# plus SMEP/SMAP where the CPU has them.
cdef extern void percpu_init(bint allow_smap) noexcept nogil
cdef extern cpu_local *percpu_this() noexcept nogil
# The kernel stack top used on entry from user mode (syscall and interrupts).
cdef extern void percpu_set_kernel_stack(uint64_t top) noexcept nogil
cdef extern bint percpu_has_smap() noexcept nogil
cdef extern bint percpu_has_smep() noexcept nogil
