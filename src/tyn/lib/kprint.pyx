# Console output: everything the kernel prints goes through here to COM1.
from libc.stdint cimport int64_t, uint64_t
from tyn.drivers.serial cimport serial_console_write

cdef enum:
    MAX_DIGITS = 24

cdef size_t kstrlen(const char *s) noexcept nogil:
    cdef size_t n = 0
    while s[n] != 0:
        n += 1
    return n

cdef size_t format_udec(char *out, uint64_t v) noexcept nogil:
    """Decimal digits of v into out (not NUL-terminated); returns their count."""
    cdef char tmp[MAX_DIGITS]
    cdef size_t n = 0, i
    while True:
        tmp[n] = <char>(48 + v % 10)
        n += 1
        v //= 10
        if v == 0:
            break
    for i in range(n):
        out[i] = tmp[n - 1 - i]
    return n

cdef size_t format_dec(char *out, int64_t v) noexcept nogil:
    if v < 0:
        out[0] = 45  # '-'
        # Negate in unsigned arithmetic so INT64_MIN works.
        return 1 + format_udec(out + 1, <uint64_t>0 - <uint64_t>v)
    return format_udec(out, <uint64_t>v)

cdef size_t format_hex(char *out, uint64_t v, int min_digits) noexcept nogil:
    """0x-prefixed lowercase hex, zero-padded to at least min_digits digits."""
    cdef const char *digits = b"0123456789abcdef"
    cdef int n = 16
    while n > 1 and (v >> ((n - 1) * 4)) == 0:
        n -= 1
    if n < min_digits:
        n = min_digits
    out[0] = 48
    out[1] = 120  # 'x'
    cdef int i
    for i in range(n):
        out[2 + i] = digits[(v >> ((n - 1 - i) * 4)) & 0xF]
    return <size_t>(2 + n)

cdef void kputc(char c) noexcept nogil:
    serial_console_write(&c, 1)

cdef void kputs(const char *s) noexcept nogil:
    serial_console_write(s, kstrlen(s))

cdef void kput_udec(uint64_t v) noexcept nogil:
    cdef char buf[MAX_DIGITS]
    serial_console_write(buf, format_udec(buf, v))

cdef void kput_dec(int64_t v) noexcept nogil:
    cdef char buf[MAX_DIGITS]
    serial_console_write(buf, format_dec(buf, v))

cdef void kput_hex(uint64_t v) noexcept nogil:
    kput_hex_width(v, 1)

cdef void kput_hex_width(uint64_t v, int digits) noexcept nogil:
    cdef char buf[MAX_DIGITS]
    serial_console_write(buf, format_hex(buf, v, digits))
