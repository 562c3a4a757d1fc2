# Byte rings (see bytering.pxd).
from libc.stdint cimport uint8_t, uint64_t, int64_t
from tyn.mm.heap cimport kmalloc, kfree
from tyn.arch.cpu cimport memcpy
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.sys.errno cimport ENOMEM, EFAULT

cdef int64_t bytering_init(bytering *r, uint64_t cap) noexcept nogil:
    r.head = 0
    r.tail = 0
    r.cap = 0
    r.buf = <uint8_t *>kmalloc(cap)
    if r.buf == NULL:
        return -ENOMEM
    r.cap = cap
    return 0

cdef void bytering_free(bytering *r) noexcept nogil:
    if r.buf != NULL:
        kfree(r.buf)
    r.buf = NULL
    r.cap = 0
    r.head = 0
    r.tail = 0

cdef uint64_t bytering_used(const bytering *r) noexcept nogil:
    return r.tail - r.head

cdef uint64_t bytering_room(const bytering *r) noexcept nogil:
    return r.cap - (r.tail - r.head)

cdef inline uint64_t segment(uint64_t idx, uint64_t left) noexcept nogil:
    cdef uint64_t seg = BYTERING_SEGMENT - (idx & (BYTERING_SEGMENT - 1))
    return seg if seg < left else left

cdef int64_t bytering_put(bytering *r, uint64_t src, uint64_t n, bint user) noexcept nogil:
    cdef uint64_t done = 0, idx, seg
    while done < n:
        idx = (r.tail + done) & (r.cap - 1)
        seg = segment(idx, n - done)
        if user:
            if copy_from_user(r.buf + idx, src + done, seg) < 0:
                break
        else:
            memcpy(r.buf + idx, <const void *>(src + done), seg)
        done += seg
    if done == 0 and n > 0:
        return -EFAULT
    r.tail += done
    return <int64_t>done

cdef int64_t bytering_get(const bytering *r, uint64_t off, uint64_t dst, uint64_t n, bint user) noexcept nogil:
    cdef uint64_t done = 0, idx, seg
    while done < n:
        idx = (r.head + off + done) & (r.cap - 1)
        seg = segment(idx, n - done)
        if user:
            if copy_to_user(dst + done, r.buf + idx, seg) < 0:
                break
        else:
            memcpy(<void *>(dst + done), r.buf + idx, seg)
        done += seg
    if done == 0 and n > 0:
        return -EFAULT
    return <int64_t>done

cdef void bytering_consume(bytering *r, uint64_t n) noexcept nogil:
    r.head += n
