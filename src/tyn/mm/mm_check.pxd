# One call that exercises the whole memory manager once it is up.
cdef extern int mm_self_check() noexcept nogil
