# Host face of drivers/virtqueue: one queue over host memory, with the addresses of its
# areas so a test can play the device over the same bytes (ctypes).
from libc.stdint cimport uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free
from tyn.drivers.virtqueue cimport *

cdef extern from "stdlib.h" nogil:
    int posix_memalign(void **out, size_t alignment, size_t size)

cdef void *aligned(size_t n) except NULL:
    cdef void *p = NULL
    if posix_memalign(&p, 4096, n) != 0:
        raise MemoryError()
    return p


cdef class Queue:
    cdef virtqueue vq
    cdef void *areas[4]
    cdef public bint ok

    def __cinit__(self, uint16_t size, bint misalign_used=False):
        self.areas[0] = aligned(virtqueue_desc_bytes(size) + 16)
        self.areas[1] = aligned(virtqueue_avail_bytes(size) + 16)
        self.areas[2] = aligned(virtqueue_used_bytes(size) + 16)
        self.areas[3] = aligned(virtqueue_shadow_bytes(size) + 16)
        used = <char *>self.areas[2] + (2 if misalign_used else 0)
        self.ok = virtqueue_init(&self.vq, size, self.areas[0], self.areas[1], used, self.areas[3])

    def __dealloc__(self):
        for i in range(4):
            free(self.areas[i])

    @property
    def size(self):
        return self.vq.size

    @property
    def desc_addr(self):
        return <uint64_t>self.vq.desc

    @property
    def avail_addr(self):
        return <uint64_t>self.vq.avail

    @property
    def used_addr(self):
        return <uint64_t>self.vq.used

    @property
    def num_free(self):
        return self.vq.num_free

    @property
    def bad_used(self):
        return self.vq.bad_used

    def add(self, list readable, list writable, uint64_t token):
        """readable/writable: lists of (phys, len).  Returns the head or a VIRTQ_ERR_* code."""
        cdef virtq_buf segs[64]
        cdef int i = 0
        if len(readable) + len(writable) > 64:
            raise ValueError("at most 64 segments")
        for phys, n in readable + writable:
            segs[i].phys = phys
            segs[i].len = n
            i += 1
        return virtqueue_add(&self.vq, segs, len(readable), len(writable), token)

    def kick_prepare(self):
        return virtqueue_kick_prepare(&self.vq)

    def has_used(self):
        return virtqueue_has_used(&self.vq)

    def pop_used(self):
        """(token, written) or None."""
        cdef uint64_t token = 0
        cdef uint32_t written = 0
        if virtqueue_pop_used(&self.vq, &token, &written):
            return token, written
        return None

    def disable_interrupts(self):
        virtqueue_disable_interrupts(&self.vq)

    def enable_interrupts(self):
        virtqueue_enable_interrupts(&self.vq)


ERR_FULL = VIRTQ_ERR_FULL
ERR_INVALID = VIRTQ_ERR_INVALID
DESC_F_NEXT = VIRTQ_DESC_F_NEXT
DESC_F_WRITE = VIRTQ_DESC_F_WRITE
AVAIL_F_NO_INTERRUPT = VIRTQ_AVAIL_F_NO_INTERRUPT
USED_F_NO_NOTIFY = VIRTQ_USED_F_NO_NOTIFY
