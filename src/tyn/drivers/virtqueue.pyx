# The split virtqueue core (see virtqueue.pxd).  x86 orders stores with stores and loads
# with loads, so the compiler barriers below keep the ring protocol's order; the one
# store-then-load that matters (publish avail.idx, then read used.flags) takes a fence.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memset, compiler_barrier, memory_fence

cdef uint32_t virtqueue_desc_bytes(uint16_t size) noexcept nogil:
    return VIRTQ_DESC_BYTES * <uint32_t>size

cdef uint32_t virtqueue_avail_bytes(uint16_t size) noexcept nogil:
    return 2 * (VIRTQ_AVAIL_RING + <uint32_t>size + 1)          # flags, idx, ring, used_event

cdef uint32_t virtqueue_used_bytes(uint16_t size) noexcept nogil:
    return VIRTQ_USED_RING_OFFSET + VIRTQ_USED_ELEM_BYTES * <uint32_t>size + 2  # + avail_event

cdef uint32_t virtqueue_shadow_bytes(uint16_t size) noexcept nogil:
    return VIRTQ_SHADOW_BYTES_PER_DESC * <uint32_t>size

cdef bint virtqueue_init(virtqueue *vq, uint16_t size, void *desc, void *avail, void *used,
                         void *shadow) noexcept nogil:
    cdef uint32_t i
    if size == 0 or size > VIRTQ_MAX_SIZE or (size & (size - 1)) != 0:
        return False
    if (<uint64_t>desc % VIRTQ_DESC_ALIGN or <uint64_t>avail % VIRTQ_AVAIL_ALIGN
            or <uint64_t>used % VIRTQ_USED_ALIGN or <uint64_t>shadow % sizeof(uint64_t)):
        return False
    memset(desc, 0, virtqueue_desc_bytes(size))
    memset(avail, 0, virtqueue_avail_bytes(size))
    memset(used, 0, virtqueue_used_bytes(size))
    memset(shadow, 0, virtqueue_shadow_bytes(size))
    vq.size = size
    vq.desc = <virtq_desc *>desc
    vq.avail = <uint16_t *>avail
    vq.used = <uint8_t *>used
    vq.tokens = <uint64_t *>shadow
    vq.chain_length = <uint16_t *>(vq.tokens + size)
    for i in range(size):
        vq.desc[i].next = <uint16_t>(i + 1) if i + 1 < size else VIRTQ_NO_DESC
    vq.free_head = 0
    vq.num_free = size
    vq.avail_idx = 0
    vq.last_used = 0
    vq.added_since_kick = 0
    vq.bad_used = 0
    return True

cdef int virtqueue_add(virtqueue *vq, const virtq_buf *segments, int readable, int writable,
                       uint64_t token) noexcept nogil:
    cdef int count = readable + writable, i
    cdef uint16_t head = vq.free_head, d = head, last = head
    if readable < 0 or writable < 0 or count == 0 or count > vq.size:
        return VIRTQ_ERR_INVALID
    if count > vq.num_free:
        return VIRTQ_ERR_FULL
    for i in range(count):
        vq.desc[d].addr = segments[i].phys
        vq.desc[d].len = segments[i].len
        vq.desc[d].flags = VIRTQ_DESC_F_WRITE if i >= readable else 0
        if i + 1 < count:
            vq.desc[d].flags |= VIRTQ_DESC_F_NEXT
        last = d
        d = vq.desc[d].next
    vq.free_head = vq.desc[last].next
    vq.num_free -= <uint16_t>count
    vq.tokens[head] = token
    vq.chain_length[head] = <uint16_t>count
    vq.avail[VIRTQ_AVAIL_RING + (vq.avail_idx & (vq.size - 1))] = head
    compiler_barrier()                  # the ring entry before the index that publishes it
    vq.avail_idx += 1
    (<volatile uint16_t *>&vq.avail[VIRTQ_AVAIL_IDX])[0] = vq.avail_idx
    vq.added_since_kick += 1
    return head

cdef bint virtqueue_kick_prepare(virtqueue *vq) noexcept nogil:
    cdef uint16_t used_flags
    if vq.added_since_kick == 0:
        return False
    vq.added_since_kick = 0
    memory_fence()                      # avail.idx visible before we read the device's flags
    used_flags = (<volatile uint16_t *>(vq.used + VIRTQ_USED_FLAGS_OFFSET))[0]
    return (used_flags & VIRTQ_USED_F_NO_NOTIFY) == 0

cdef inline uint16_t used_idx(virtqueue *vq) noexcept nogil:
    return (<volatile uint16_t *>(vq.used + VIRTQ_USED_IDX_OFFSET))[0]

cdef bint virtqueue_has_used(virtqueue *vq) noexcept nogil:
    return used_idx(vq) != vq.last_used

cdef void free_chain(virtqueue *vq, uint16_t head) noexcept nogil:
    """Put head's chain (chain_length[head] descriptors, linked by next) on the free list."""
    cdef uint16_t n = vq.chain_length[head], last = head, i
    for i in range(n - 1):
        last = vq.desc[last].next
    vq.desc[last].next = vq.free_head
    vq.free_head = head
    vq.num_free += n
    vq.chain_length[head] = 0

cdef bint virtqueue_pop_used(virtqueue *vq, uint64_t *token, uint32_t *written) noexcept nogil:
    cdef uint8_t *elem
    cdef uint32_t id
    while used_idx(vq) != vq.last_used:
        compiler_barrier()              # read the entry only after the index that covers it
        elem = vq.used + VIRTQ_USED_RING_OFFSET + VIRTQ_USED_ELEM_BYTES * (vq.last_used & (vq.size - 1))
        id = (<volatile uint32_t *>elem)[0]
        vq.last_used += 1
        if id >= vq.size or vq.chain_length[id] == 0:
            vq.bad_used += 1            # a confused device: never trust it with our free list
            continue
        token[0] = vq.tokens[id]
        written[0] = (<volatile uint32_t *>(elem + 4))[0]
        free_chain(vq, <uint16_t>id)
        return True
    return False

cdef void virtqueue_disable_interrupts(virtqueue *vq) noexcept nogil:
    (<volatile uint16_t *>&vq.avail[VIRTQ_AVAIL_FLAGS])[0] = VIRTQ_AVAIL_F_NO_INTERRUPT

cdef void virtqueue_enable_interrupts(virtqueue *vq) noexcept nogil:
    (<volatile uint16_t *>&vq.avail[VIRTQ_AVAIL_FLAGS])[0] = 0
    memory_fence()                      # the flag visible before the caller re-checks the ring
