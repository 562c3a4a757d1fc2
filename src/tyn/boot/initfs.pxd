from libc.stdint cimport uint64_t

cdef extern from "tyn/initfs.h" nogil:
    const uint64_t INITFS_MAGIC
    cdef struct initfs_descriptor_t "initfs_descriptor":
        uint64_t magic
        uint64_t phys
        uint64_t size
    initfs_descriptor_t initfs_descriptor
