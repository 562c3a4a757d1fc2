# Checked user-memory copies (shim/include/tyn/uaccess.h): 0 / length, or -EFAULT.
from libc.stdint cimport int64_t, uint8_t, uint64_t

cdef extern from "tyn/uaccess.h" nogil:
    const uint64_t USER_ADDRESS_LIMIT
    int64_t copy_from_user(void *dst, uint64_t user_src, size_t n)
    int64_t copy_to_user(uint64_t user_dst, const void *src, size_t n)
    int64_t clear_user(uint64_t user_dst, size_t n)
    int64_t strncpy_from_user(char *dst, uint64_t user_src, size_t max)
    char uaccess_begin[]
    char uaccess_end[]
    char uaccess_fault[]
    uint8_t uaccess_smap
    void uaccess_use_smap()
