# Frames with more than one owner: a page shared by address spaces after fork
# (copy-on-write), or a tmpfs file page that a mapping also maps.  Each frame has a
# count of extra owners (0 = one owner, the common case, which costs nothing);
# the last owner's frameref_put returns the frame to the pmm.
from libc.stdint cimport uint64_t

# Size the counts for every frame the pmm covers (after pmm_init and the direct map).
# False when there is no memory for them.
cdef extern bint frameref_init() noexcept nogil
# One more owner of frame.  False if the count is full (the caller must copy instead)
# or counts are not set up.
cdef extern bint frameref_get(uint64_t frame) noexcept nogil
# One owner fewer; the last one frees the frame.
cdef extern void frameref_put(uint64_t frame) noexcept nogil
# One owner fewer without freeing: True when that was the last owner and the caller
# must free the frame (after a TLB shootdown: paging_free_after_flush).
cdef extern bint frameref_drop(uint64_t frame) noexcept nogil
# True when someone else also owns frame (so it must not be written in place
# through a private mapping).
cdef extern bint frameref_shared(uint64_t frame) noexcept nogil
