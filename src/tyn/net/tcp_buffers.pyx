# TCP byte queues and the out-of-order queue.  See tcp_buffers.pxd.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.arch.cpu cimport memcpy
from tyn.mm.heap cimport kmalloc, kfree
from tyn.net.tcp_types cimport *
from tyn.net.tcp_seq cimport seq_lt, seq_le, seq_gt, seq_ge, seq_max, seq_min

cdef uint64_t mem_used
cdef uint64_t mem_limit


cdef void tcp_buffers_init(uint64_t limit) noexcept nogil:
    global mem_used, mem_limit
    mem_used = 0
    mem_limit = limit

cdef void tcp_buffers_set_limit(uint64_t limit) noexcept nogil:
    global mem_limit
    mem_limit = limit

cdef uint64_t tcp_buffers_mem_used() noexcept nogil:
    return mem_used


cdef void *charged_alloc(uint64_t size) noexcept nogil:
    global mem_used
    cdef void *p
    if mem_used + size > mem_limit:
        return NULL
    p = kmalloc(size)
    if p != NULL:
        mem_used += size
    return p

cdef void charged_free(void *p, uint64_t size) noexcept nogil:
    global mem_used
    kfree(p)
    mem_used -= size


cdef inline int64_t do_copy(tcp_copy_fn copy, void *dst, const void *src, uint64_t n) noexcept nogil:
    if copy == NULL:
        memcpy(dst, src, n)
        return 0
    return copy(dst, src, n)


cdef int64_t tcp_bq_append(tcp_bytequeue *q, const uint8_t *src, uint32_t n,
                           tcp_copy_fn copy) noexcept nogil:
    cdef uint32_t done = 0, room, step
    cdef int64_t r
    cdef tcp_chunk *c
    while done < n:
        c = q.tail
        if c == NULL or c.end == TCP_CHUNK_BYTES:
            c = <tcp_chunk *>charged_alloc(sizeof(tcp_chunk))
            if c == NULL:
                break
            c.next = NULL
            c.start = 0
            c.end = 0
            if q.tail == NULL:
                q.head = c
            else:
                q.tail.next = c
            q.tail = c
        room = TCP_CHUNK_BYTES - c.end
        step = n - done if n - done < room else room
        r = do_copy(copy, c.data + c.end, src + done, step)
        if r < 0:
            return r
        c.end += step
        q.len += step
        done += step
    return done


cdef int64_t tcp_bq_copy_out(const tcp_bytequeue *q, uint32_t offset, uint8_t *dst, uint32_t n,
                             tcp_copy_fn copy) noexcept nogil:
    cdef tcp_chunk *c = q.head
    cdef uint32_t done = 0, avail, step
    cdef int64_t r
    while c != NULL and offset >= c.end - c.start:
        offset -= c.end - c.start
        c = c.next
    while c != NULL and done < n:
        avail = c.end - c.start - offset
        step = n - done if n - done < avail else avail
        r = do_copy(copy, dst + done, c.data + c.start + offset, step)
        if r < 0:
            return r
        done += step
        offset = 0
        c = c.next
    return done


cdef void tcp_bq_consume(tcp_bytequeue *q, uint32_t n) noexcept nogil:
    cdef tcp_chunk *c
    cdef uint32_t step
    if n > q.len:
        n = q.len
    q.len -= n
    while n > 0 and q.head != NULL:
        c = q.head
        step = c.end - c.start
        if step > n:
            c.start += n
            return
        n -= step
        q.head = c.next
        if q.head == NULL:
            q.tail = NULL
        charged_free(c, sizeof(tcp_chunk))
    # An emptied tail chunk is kept and reused from its start.
    if q.head != NULL and q.head.start == q.head.end and q.head.next == NULL:
        q.head.start = 0
        q.head.end = 0

cdef void tcp_bq_clear(tcp_bytequeue *q) noexcept nogil:
    cdef tcp_chunk *c = q.head
    cdef tcp_chunk *n
    while c != NULL:
        n = c.next
        charged_free(c, sizeof(tcp_chunk))
        c = n
    q.head = NULL
    q.tail = NULL
    q.len = 0


cdef tcp_ooo_seg *ooo_new(uint32_t seq, const uint8_t *data, uint32_t len) noexcept nogil:
    cdef tcp_ooo_seg *s = <tcp_ooo_seg *>charged_alloc(sizeof(tcp_ooo_seg) + len)
    if s == NULL:
        return NULL
    s.next = NULL
    s.seq = seq
    s.len = len
    s.data = (<uint8_t *>s) + sizeof(tcp_ooo_seg)
    memcpy(s.data, data, len)
    return s

cdef void ooo_free(tcp_ooo_seg *s) noexcept nogil:
    charged_free(s, sizeof(tcp_ooo_seg) + s.len)


cdef bint tcp_ooo_insert(tcp_ooo_seg **head, uint32_t *count, uint32_t *bytes, uint32_t max_segs,
                         uint32_t seq, const uint8_t *data, uint32_t len) noexcept nogil:
    # Walk the gaps between queued segments; fill each part of [seq, end) lying in one.
    cdef uint32_t end = seq + len, gap_lo = seq, gap_hi
    cdef tcp_ooo_seg **link = head
    cdef tcp_ooo_seg *cur
    cdef tcp_ooo_seg *s
    cdef bint stored = False
    while True:
        cur = link[0]
        gap_hi = end if cur == NULL else seq_min(cur.seq, end)
        if seq_lt(gap_lo, gap_hi):
            if count[0] >= max_segs:
                return stored
            s = ooo_new(gap_lo, data + (gap_lo - seq), gap_hi - gap_lo)
            if s == NULL:
                return stored
            s.next = cur
            link[0] = s
            count[0] += 1
            bytes[0] += gap_hi - gap_lo
            stored = True
        if cur == NULL:
            break
        gap_lo = seq_max(gap_lo, cur.seq + cur.len)
        if seq_ge(gap_lo, end):
            break
        link = &cur.next
    return stored


cdef int64_t tcp_ooo_drain(tcp_ooo_seg **head, uint32_t *count, uint32_t *bytes,
                           uint32_t *rcv_nxt, tcp_bytequeue *q) noexcept nogil:
    cdef tcp_ooo_seg *s
    cdef uint32_t skip, n
    cdef int64_t moved = 0, r
    while head[0] != NULL and seq_le(head[0].seq, rcv_nxt[0]):
        s = head[0]
        if seq_gt(s.seq + s.len, rcv_nxt[0]):
            skip = rcv_nxt[0] - s.seq
            n = s.len - skip
            r = tcp_bq_append(q, s.data + skip, n, NULL)
            if r > 0:
                rcv_nxt[0] += <uint32_t>r
                moved += r
            if r != n:
                return moved            # memory ran out: the rest stays queued
        head[0] = s.next
        count[0] -= 1
        bytes[0] -= s.len
        ooo_free(s)
    return moved


cdef bint tcp_ooo_block(const tcp_ooo_seg *head, uint32_t seq, tcp_sack_block *block) noexcept nogil:
    # Segments touching end to end form one block.
    cdef const tcp_ooo_seg *s = head
    cdef const tcp_ooo_seg *prev = NULL
    cdef uint32_t run_left = 0
    while s != NULL:
        if prev == NULL or prev.seq + prev.len != s.seq:
            run_left = s.seq
        if seq_le(s.seq, seq) and seq_lt(seq, s.seq + s.len):
            block.left = run_left
            block.right = s.seq + s.len
            s = s.next
            while s != NULL and s.seq == block.right:
                block.right = s.seq + s.len
                s = s.next
            return True
        prev = s
        s = s.next
    return False


cdef void tcp_ooo_clear(tcp_ooo_seg **head, uint32_t *count, uint32_t *bytes) noexcept nogil:
    cdef tcp_ooo_seg *s = head[0]
    cdef tcp_ooo_seg *n
    while s != NULL:
        n = s.next
        ooo_free(s)
        s = n
    head[0] = NULL
    count[0] = 0
    bytes[0] = 0
