# Kernel command line parsing (multiboot's cmdline string).
#
# The text is copied into a kernel-owned buffer and split in place into
# key/value pairs.  Subsystems look keys up with cmdline_get(); after boot
# kmain calls cmdline_report_unknown(), which names every key nobody asked
# for, so a typo never passes silently.  Everything after a lone `--` is
# handed to the init program as extra arguments.
from libc.stdint cimport uint64_t
from tyn.lib.kprint cimport kputs

cdef enum:
    ASCII_SPACE = 32
    ASCII_TAB = 9
    ASCII_QUOTE = 34
    ASCII_EQUALS = 61
    ASCII_DASH = 45
    ASCII_ZERO = 48
    ASCII_NINE = 57
    ASCII_LOWER_X = 120

cdef char buffer[CMDLINE_MAX + 1]
cdef cmdline_param params[CMDLINE_MAX_PARAMS]
cdef int param_count
cdef const char *init_args

cdef inline bint is_space(char c) noexcept nogil:
    return c == ASCII_SPACE or c == ASCII_TAB or c == 10 or c == 13

cdef bint cmdline_streq(const char *a, const char *b) noexcept nogil:
    cdef size_t i = 0
    while a[i] != 0 and a[i] == b[i]:
        i += 1
    return a[i] == b[i]

cdef int cmdline_parse(const char *text, size_t length) noexcept nogil:
    """Parse `length` bytes of `text`; returns the number of parameters, or -1 if truncated."""
    global param_count, init_args
    cdef size_t n = length if length < CMDLINE_MAX else CMDLINE_MAX
    cdef size_t i = 0, out = 0, token_start
    cdef bint in_quotes, has_value
    cdef int truncated = length > CMDLINE_MAX
    param_count = 0
    init_args = b""
    for i in range(n):
        buffer[i] = text[i]
        if text[i] == 0:
            n = i
            break
    buffer[n] = 0
    i = 0
    while i < n:
        while i < n and is_space(buffer[i]):
            i += 1
        if i >= n:
            break
        if buffer[i] == ASCII_DASH and i + 1 < n and buffer[i + 1] == ASCII_DASH and (
                i + 2 >= n or is_space(buffer[i + 2])):
            i += 2
            while i < n and is_space(buffer[i]):
                i += 1
            init_args = &buffer[i]
            break
        # One token: key[=value], where value may be "double quoted".  Quotes are
        # removed by compacting the token in place (out <= i always).
        token_start = i
        out = i
        in_quotes = False
        has_value = False
        if param_count < CMDLINE_MAX_PARAMS:
            params[param_count].key = &buffer[token_start]
            params[param_count].value = b""
            params[param_count].used = False
        while i < n and (in_quotes or not is_space(buffer[i])):
            if buffer[i] == ASCII_QUOTE:
                in_quotes = not in_quotes
            elif buffer[i] == ASCII_EQUALS and not has_value and not in_quotes \
                    and param_count < CMDLINE_MAX_PARAMS:
                has_value = True
                buffer[out] = 0
                out += 1
                params[param_count].value = &buffer[out]
            else:
                buffer[out] = buffer[i]
                out += 1
            i += 1
        if i < n:
            i += 1          # the separating space becomes the terminator below
        buffer[out] = 0
        if param_count < CMDLINE_MAX_PARAMS:
            param_count += 1
        else:
            truncated = 1
    if truncated:
        kputs(b"tyn: kernel command line too long; the rest was ignored\n")
        return -1
    return param_count

cdef int cmdline_count() noexcept nogil:
    return param_count

cdef const char *cmdline_get(const char *key) noexcept nogil:
    """The value of the last `key` on the line ("" for a bare key), or NULL."""
    cdef int i
    cdef const char *found = NULL
    for i in range(param_count):
        if cmdline_streq(params[i].key, key):
            params[i].used = True
            found = params[i].value
    return found

cdef const char *cmdline_get_nth(const char *key, int n) noexcept nogil:
    """The value of the n-th (from 0) `key` on the line, for keys that may repeat
    (virtio_mmio.device=), or NULL."""
    cdef int i
    for i in range(param_count):
        if cmdline_streq(params[i].key, key):
            params[i].used = True
            if n == 0:
                return params[i].value
            n -= 1
    return NULL

cdef bint cmdline_parse_u64(const char *text, uint64_t *out) noexcept nogil:
    """Decimal or 0x-hex digits only; False on anything else or overflow."""
    cdef uint64_t v = 0, digit, base = 10
    cdef size_t i = 0
    cdef char c
    if text == NULL or text[0] == 0:
        return False
    if text[0] == ASCII_ZERO and (text[1] == ASCII_LOWER_X or text[1] == 88):
        base = 16
        i = 2
        if text[2] == 0:
            return False
    while text[i] != 0:
        c = text[i]
        if ASCII_ZERO <= c <= ASCII_NINE:
            digit = <uint64_t>(c - ASCII_ZERO)
        elif base == 16 and 97 <= c <= 102:
            digit = <uint64_t>(c - 87)
        elif base == 16 and 65 <= c <= 70:
            digit = <uint64_t>(c - 55)
        else:
            return False
        if v > (<uint64_t>0xFFFFFFFFFFFFFFFF - digit) // base:
            return False
        v = v * base + digit
        i += 1
    out[0] = v
    return True

cdef bint cmdline_get_u64(const char *key, uint64_t *out) noexcept nogil:
    """True and *out set if `key` is present with a number; a malformed number is reported."""
    cdef const char *value = cmdline_get(key)
    if value == NULL:
        return False
    if not cmdline_parse_u64(value, out):
        kputs(b"tyn: kernel command line: ")
        kputs(key)
        kputs(b"=")
        kputs(value)
        kputs(b" is not a number (ignored)\n")
        return False
    return True

cdef const char *cmdline_init_args() noexcept nogil:
    return init_args

cdef int cmdline_report_unknown() noexcept nogil:
    """Print each key no subsystem asked for; returns how many."""
    cdef int i, unknown = 0
    for i in range(param_count):
        if not params[i].used:
            kputs(b"tyn: unknown kernel command line key '")
            kputs(params[i].key)
            kputs(b"' (ignored)\n")
            unknown += 1
    return unknown
