# Packet buffers (lwIP's pbuf): one kmalloc block per buffer, header and data together,
# with headroom in front of the payload so lower layers prepend their headers in place.
#
# A packet is a chain of buffers linked by `next` (tot_len = bytes in this buffer and the
# rest of the chain); queues of packets (ARP pending, loopback, UDP receive, reassembly)
# link the first buffers through `queue_next` and keep their per-packet facts in
# `tag_addr`/`tag_value` (their meaning is the queue's).
#
# Every byte allocated (headers included) counts against one global cap: at the cap, or
# when the heap is empty, pbuf_alloc returns NULL and counts the failure; callers drop the
# packet and count NET_DROP_NO_BUFFER.  Under net_lock.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.net.netdev cimport netdev_tx_offload

cdef enum:
    PBUF_DEFAULT_LIMIT = 4 << 20    # bytes of buffers in use, all packets together
    PBUF_MAX_SIZE = 1 << 17         # headroom + payload of one buffer

cdef struct pbuf:
    pbuf *next                      # rest of this packet
    pbuf *queue_next                # next packet in the queue holding this one
    uint8_t *payload
    uint32_t len                    # bytes at payload in this buffer
    uint32_t tot_len                # this buffer and the rest of the chain
    uint32_t capacity               # data bytes after the struct
    uint32_t ref
    uint32_t tag_addr
    uint32_t tag_value
    netdev_tx_offload offload       # outgoing IP packet: what the device is asked to finish
                                    # (offsets from the IP header; flags 0 from pbuf_alloc)

cdef struct pbuf_stats:
    uint64_t bytes_in_use
    uint64_t peak_bytes
    uint64_t limit
    uint64_t buffers_in_use
    uint64_t allocs
    uint64_t frees
    uint64_t fail_limit             # refused at the cap
    uint64_t fail_heap              # kmalloc returned NULL

cdef extern void pbuf_init() noexcept nogil
# A buffer with `headroom` free bytes in front of `size` payload bytes (contents undefined);
# NULL when over the cap, out of heap, or too large.
cdef extern pbuf *pbuf_alloc(uint32_t headroom, uint32_t size) noexcept nogil
# Grow the payload by n bytes into the headroom (for a header); False if there is no room.
cdef extern bint pbuf_add_header(pbuf *p, uint32_t n) noexcept nogil
# Shrink the payload by n bytes at the front; False if the buffer holds fewer.
cdef extern bint pbuf_remove_header(pbuf *p, uint32_t n) noexcept nogil
cdef extern void pbuf_ref(pbuf *p) noexcept nogil
# Drop one reference to each buffer of the chain, freeing those that reach zero.
cdef extern void pbuf_free(pbuf *p) noexcept nogil
# Free every packet of a queue (linked by queue_next); returns how many.
cdef extern uint32_t pbuf_free_queue(pbuf *head) noexcept nogil
# Append the chain tail to head (head takes over the caller's reference to tail).
cdef extern void pbuf_cat(pbuf *head, pbuf *tail) noexcept nogil
# Copy up to len bytes of the chain starting at offset into dst; returns bytes copied.
cdef extern uint32_t pbuf_copy_out(const pbuf *p, uint32_t offset, uint8_t *dst, uint32_t len) noexcept nogil
# Bytes charged for p alone (what a per-socket limit counts).
cdef extern uint32_t pbuf_charge(const pbuf *p) noexcept nogil
cdef extern void pbuf_set_limit(uint64_t bytes) noexcept nogil
cdef extern void pbuf_get_stats(pbuf_stats *out) noexcept nogil
