# The kernel command line: `key=value key2 key3="quoted value" -- init args...`
from libc.stdint cimport uint64_t

cdef enum:
    CMDLINE_MAX = 4096          # bytes kept (longer lines are truncated, and said so)
    CMDLINE_MAX_PARAMS = 64

cdef struct cmdline_param:
    const char *key
    const char *value           # "" for a bare key
    bint used                   # some subsystem asked for it

cdef extern int cmdline_parse(const char *text, size_t length) noexcept nogil
cdef extern int cmdline_count() noexcept nogil
cdef extern const char *cmdline_get(const char *key) noexcept nogil
# The n-th (from 0) value of a key that may repeat, or NULL.
cdef extern const char *cmdline_get_nth(const char *key, int n) noexcept nogil
cdef extern bint cmdline_get_u64(const char *key, uint64_t *out) noexcept nogil
cdef extern const char *cmdline_init_args() noexcept nogil
cdef extern int cmdline_report_unknown() noexcept nogil
cdef extern bint cmdline_streq(const char *a, const char *b) noexcept nogil
cdef extern bint cmdline_parse_u64(const char *text, uint64_t *out) noexcept nogil
