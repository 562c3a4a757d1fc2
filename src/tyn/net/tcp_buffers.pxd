# TCP buffer management, apart from the protocol state: byte queues (chains of chunks
# allocated on demand) for the send and receive sides, and the out-of-order queue.
# Every byte allocated here counts against one global cap (tcp_tunables.mem_limit);
# when it is reached, appends stop short and out-of-order segments are refused: the
# callers drop and count, never fail harder.  net_lock protects all of it.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.net.tcp_types cimport tcp_bytequeue, tcp_ooo_seg, tcp_copy_fn, tcp_sack_block

cdef extern void tcp_buffers_init(uint64_t mem_limit) noexcept nogil
cdef extern void tcp_buffers_set_limit(uint64_t mem_limit) noexcept nogil
cdef extern uint64_t tcp_buffers_mem_used() noexcept nogil

# Append up to n bytes from src (through copy; NULL = memcpy).  Returns the bytes
# appended (fewer when memory runs out), or -EFAULT from copy (nothing appended then
# beyond what an earlier chunk took).
cdef extern int64_t tcp_bq_append(tcp_bytequeue *q, const uint8_t *src, uint32_t n,
                                  tcp_copy_fn copy) noexcept nogil
# Copy n bytes starting offset bytes into the queue to dst, without consuming them.
# Returns the bytes copied or -EFAULT.
cdef extern int64_t tcp_bq_copy_out(const tcp_bytequeue *q, uint32_t offset, uint8_t *dst, uint32_t n,
                                    tcp_copy_fn copy) noexcept nogil
# Drop the first n bytes (n <= len).
cdef extern void tcp_bq_consume(tcp_bytequeue *q, uint32_t n) noexcept nogil
cdef extern void tcp_bq_clear(tcp_bytequeue *q) noexcept nogil

# Out-of-order queue, sorted by sequence number, no overlaps.  Insert the parts of
# [seq, seq+len) not already queued; returns False (nothing stored) when the segment
# limit or the memory cap is reached.
cdef extern bint tcp_ooo_insert(tcp_ooo_seg **head, uint32_t *count, uint32_t *bytes, uint32_t max_segs,
                                uint32_t seq, const uint8_t *data, uint32_t len) noexcept nogil
# Move everything at or before *rcv_nxt to q (trimming what is already there), advancing
# *rcv_nxt; stops at a hole or when memory runs out (the rest stays queued).  Returns
# the bytes moved.
cdef extern int64_t tcp_ooo_drain(tcp_ooo_seg **head, uint32_t *count, uint32_t *bytes,
                                  uint32_t *rcv_nxt, tcp_bytequeue *q) noexcept nogil
# The contiguous run of queued data that holds byte seq (segments touching end to end
# count as one: what a SACK block reports); False when seq is not queued.
cdef extern bint tcp_ooo_block(const tcp_ooo_seg *head, uint32_t seq, tcp_sack_block *block) noexcept nogil
cdef extern void tcp_ooo_clear(tcp_ooo_seg **head, uint32_t *count, uint32_t *bytes) noexcept nogil
