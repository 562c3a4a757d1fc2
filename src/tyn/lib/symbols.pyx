# Address -> function name, for backtraces.
from libc.stdint cimport uint64_t

cdef enum:
    # Beyond this distance from the nearest symbol an address is not attributed to it.
    SYMBOL_MAX_DISTANCE = 0x10000

cdef const char *symbol_lookup_in(const ksym *table, uint64_t count, uint64_t address,
                                  uint64_t *offset) noexcept nogil:
    cdef uint64_t lo = 0, hi = count, mid
    if count == 0 or address < table[0].address:
        return NULL
    while hi - lo > 1:              # invariant: table[lo].address <= address
        mid = (lo + hi) // 2
        if table[mid].address <= address:
            lo = mid
        else:
            hi = mid
    if address - table[lo].address > SYMBOL_MAX_DISTANCE:
        return NULL
    offset[0] = address - table[lo].address
    return table[lo].name

cdef const char *symbol_lookup(uint64_t address, uint64_t *offset) noexcept nogil:
    return symbol_lookup_in(ksyms_table, ksyms_count, address, offset)
