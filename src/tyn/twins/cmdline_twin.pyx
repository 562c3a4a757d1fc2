# Host face of lib/cmdline.
from libc.stdint cimport uint64_t
from tyn.lib.cmdline cimport (cmdline_parse, cmdline_count, cmdline_get, cmdline_get_u64,
                              cmdline_init_args, cmdline_report_unknown, cmdline_parse_u64)

def parse(bytes text) -> int:
    return cmdline_parse(text, len(text))

def count() -> int:
    return cmdline_count()

def get(bytes key):
    cdef const char *v = cmdline_get(key)
    return None if v == NULL else <bytes>v

def get_u64(bytes key):
    cdef uint64_t out = 0
    return out if cmdline_get_u64(key, &out) else None

def parse_u64(bytes text):
    cdef uint64_t out = 0
    return out if cmdline_parse_u64(text, &out) else None

def init_args() -> bytes:
    return <bytes>cmdline_init_args()

def report_unknown() -> int:
    return cmdline_report_unknown()
