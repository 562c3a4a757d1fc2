# Console output for the kernel: strings and numbers, no format strings.
from libc.stdint cimport int64_t, uint64_t

cdef extern void kputc(char c) noexcept nogil
cdef extern void kputs(const char *s) noexcept nogil
cdef extern void kput_dec(int64_t v) noexcept nogil
cdef extern void kput_udec(uint64_t v) noexcept nogil
cdef extern void kput_hex(uint64_t v) noexcept nogil
cdef extern void kput_hex_width(uint64_t v, int digits) noexcept nogil
# Formatting into a buffer (what the console functions use; tested on the host).
cdef extern size_t format_udec(char *out, uint64_t v) noexcept nogil
cdef extern size_t format_dec(char *out, int64_t v) noexcept nogil
cdef extern size_t format_hex(char *out, uint64_t v, int min_digits) noexcept nogil
cdef extern size_t kstrlen(const char *s) noexcept nogil
