# Packet buffers (see pbuf.pxd).
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.mm.heap cimport kmalloc, kfree

cdef pbuf_stats stats


cdef inline uint8_t *data_of(pbuf *p) noexcept nogil:
    return <uint8_t *>(p + 1)


cdef void pbuf_init() noexcept nogil:
    memset(&stats, 0, sizeof(pbuf_stats))
    stats.limit = PBUF_DEFAULT_LIMIT


cdef uint32_t pbuf_charge(const pbuf *p) noexcept nogil:
    return <uint32_t>sizeof(pbuf) + p.capacity


cdef pbuf *pbuf_alloc(uint32_t headroom, uint32_t size) noexcept nogil:
    cdef uint64_t capacity = <uint64_t>headroom + size
    cdef uint64_t charge = sizeof(pbuf) + capacity
    cdef pbuf *p
    if capacity > PBUF_MAX_SIZE or stats.bytes_in_use + charge > stats.limit:
        stats.fail_limit += 1
        return NULL
    p = <pbuf *>kmalloc(charge)
    if p == NULL:
        stats.fail_heap += 1
        return NULL
    p.next = NULL
    p.queue_next = NULL
    p.capacity = <uint32_t>capacity
    p.payload = data_of(p) + headroom
    p.len = size
    p.tot_len = size
    p.ref = 1
    p.tag_addr = 0
    p.tag_value = 0
    p.offload.flags = 0
    stats.bytes_in_use += charge
    if stats.bytes_in_use > stats.peak_bytes:
        stats.peak_bytes = stats.bytes_in_use
    stats.buffers_in_use += 1
    stats.allocs += 1
    return p


cdef bint pbuf_add_header(pbuf *p, uint32_t n) noexcept nogil:
    if <uint64_t>(p.payload - data_of(p)) < n:
        return False
    p.payload -= n
    p.len += n
    p.tot_len += n
    return True


cdef bint pbuf_remove_header(pbuf *p, uint32_t n) noexcept nogil:
    if n > p.len:
        return False
    p.payload += n
    p.len -= n
    p.tot_len -= n
    return True


cdef void pbuf_ref(pbuf *p) noexcept nogil:
    p.ref += 1


cdef void pbuf_free(pbuf *p) noexcept nogil:
    cdef pbuf *next
    while p != NULL:
        p.ref -= 1
        if p.ref != 0:
            return
        next = p.next
        stats.bytes_in_use -= pbuf_charge(p)
        stats.buffers_in_use -= 1
        stats.frees += 1
        kfree(p)
        p = next


cdef uint32_t pbuf_free_queue(pbuf *head) noexcept nogil:
    cdef pbuf *next
    cdef uint32_t n = 0
    while head != NULL:
        next = head.queue_next
        pbuf_free(head)
        head = next
        n += 1
    return n


cdef void pbuf_cat(pbuf *head, pbuf *tail) noexcept nogil:
    while head.next != NULL:
        head.tot_len += tail.tot_len
        head = head.next
    head.tot_len += tail.tot_len
    head.next = tail


cdef uint32_t pbuf_copy_out(const pbuf *p, uint32_t offset, uint8_t *dst, uint32_t len) noexcept nogil:
    cdef uint32_t copied = 0, n
    while p != NULL and copied < len:
        if offset >= p.len:
            offset -= p.len
        else:
            n = p.len - offset
            if n > len - copied:
                n = len - copied
            memcpy(dst + copied, p.payload + offset, n)
            copied += n
            offset = 0
        p = p.next
    return copied


cdef void pbuf_set_limit(uint64_t bytes) noexcept nogil:
    stats.limit = bytes


cdef void pbuf_get_stats(pbuf_stats *out) noexcept nogil:
    out[0] = stats
