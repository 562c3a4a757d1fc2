from libc.stdint cimport uint64_t

cdef extern from "tyn/ksyms.h" nogil:
    cdef struct ksym:
        uint64_t address
        const char *name
    const uint64_t ksyms_count
    const ksym ksyms_table[]

# The symbol containing `address` in a table sorted by address, or NULL; *offset = address - start.
cdef extern const char *symbol_lookup_in(const ksym *table, uint64_t count, uint64_t address,
                                         uint64_t *offset) noexcept nogil
# The same, in the kernel's own table (.ksyms, written by tyn.build.ksyms).
cdef extern const char *symbol_lookup(uint64_t address, uint64_t *offset) noexcept nogil
