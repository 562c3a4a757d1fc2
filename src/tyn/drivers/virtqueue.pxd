# One split virtqueue (virtio 1.0 §2.4), the driver's side, transport-independent.
#
# Three areas the device reads and writes by DMA (each the caller's memory, physically
# contiguous, zeroed by virtqueue_init): the descriptor table, the available ring (driver
# to device) and the used ring (device to driver).  Beside them, driver-only "shadow"
# state: a token per chain head (the caller's cookie: which buffer it was) and the
# length of each chain in flight.  Free descriptors form a list through `next`.
#
# The core never touches a transport: the caller tells the device where the areas are,
# notifies it when virtqueue_kick_prepare says so, and harvests after an interrupt.
# Ownership: each queue belongs to its driver, whose lock covers every call here
# (virtio_net: net_lock).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cdef enum:
    VIRTQ_DESC_F_NEXT = 1               # the chain continues in `next`
    VIRTQ_DESC_F_WRITE = 2              # device-writable (else device-readable)
    VIRTQ_AVAIL_F_NO_INTERRUPT = 1      # driver: do not interrupt on used buffers
    VIRTQ_USED_F_NO_NOTIFY = 1          # device: do not notify on available buffers
    VIRTQ_MAX_SIZE = 32768              # queue sizes are powers of two up to this
    VIRTQ_DESC_ALIGN = 16
    VIRTQ_AVAIL_ALIGN = 2
    VIRTQ_USED_ALIGN = 4
    VIRTQ_NO_DESC = 0xFFFF              # end of the free list
    # Layout of the rings (16-bit words of the available ring; bytes of the used ring).
    VIRTQ_AVAIL_FLAGS = 0
    VIRTQ_AVAIL_IDX = 1
    VIRTQ_AVAIL_RING = 2
    VIRTQ_USED_FLAGS_OFFSET = 0
    VIRTQ_USED_IDX_OFFSET = 2
    VIRTQ_USED_RING_OFFSET = 4
    VIRTQ_USED_ELEM_BYTES = 8
    VIRTQ_DESC_BYTES = 16
    VIRTQ_SHADOW_BYTES_PER_DESC = 10    # a uint64_t token and a uint16_t chain length
    # virtqueue_add errors.
    VIRTQ_ERR_FULL = -1                 # fewer free descriptors than segments
    VIRTQ_ERR_INVALID = -2              # no segments, or more than the queue holds

cdef packed struct virtq_desc:
    uint64_t addr                       # guest-physical
    uint32_t len
    uint16_t flags
    uint16_t next

# One segment of a buffer handed to virtqueue_add.
cdef struct virtq_buf:
    uint64_t phys
    uint32_t len

cdef struct virtqueue:
    uint16_t size                       # entries (a power of two)
    virtq_desc *desc
    uint16_t *avail                     # flags, idx, ring[size], used_event
    uint8_t *used                       # flags, idx, ring[size] of (id, len), avail_event
    uint64_t *tokens                    # per chain head
    uint16_t *chain_length              # per chain head; 0: not a head in flight
    uint16_t free_head
    uint16_t num_free
    uint16_t avail_idx                  # the next available ring slot (our copy of avail.idx)
    uint16_t last_used                  # the next used ring entry to harvest
    uint16_t added_since_kick
    uint64_t bad_used                   # used entries naming no chain in flight (dropped)

# Bytes of each area for a queue of `size` entries.
cdef extern uint32_t virtqueue_desc_bytes(uint16_t size) noexcept nogil
cdef extern uint32_t virtqueue_avail_bytes(uint16_t size) noexcept nogil
cdef extern uint32_t virtqueue_used_bytes(uint16_t size) noexcept nogil
cdef extern uint32_t virtqueue_shadow_bytes(uint16_t size) noexcept nogil
# Set up an empty queue over the given areas (zeroed here).  False if size is not a
# power of two in 1..VIRTQ_MAX_SIZE or an area is misaligned.
cdef extern bint virtqueue_init(virtqueue *vq, uint16_t size, void *desc, void *avail, void *used,
                                void *shadow) noexcept nogil
# Offer one buffer: `readable` device-readable segments, then `writable` device-writable
# ones, chained, with `token` returned when the device is done.  Returns the chain's head
# descriptor, or VIRTQ_ERR_FULL / VIRTQ_ERR_INVALID.  The device may see it at once.
cdef extern int virtqueue_add(virtqueue *vq, const virtq_buf *segments, int readable, int writable,
                              uint64_t token) noexcept nogil
# Whether the device must be notified of what was added since the last call (it asked
# to be: VIRTQ_USED_F_NO_NOTIFY clear).  Resets the count of added buffers.
cdef extern bint virtqueue_kick_prepare(virtqueue *vq) noexcept nogil
# Whether the device has returned buffers not yet harvested.
cdef extern bint virtqueue_has_used(virtqueue *vq) noexcept nogil
# Harvest the next used buffer: its token and the bytes the device wrote; its descriptors
# go back on the free list.  False when there is none.  Entries naming no chain in
# flight are skipped and counted in bad_used.
cdef extern bint virtqueue_pop_used(virtqueue *vq, uint64_t *token, uint32_t *written) noexcept nogil
# Ask the device not to interrupt (a hint: it may still) / to interrupt again.
cdef extern void virtqueue_disable_interrupts(virtqueue *vq) noexcept nogil
cdef extern void virtqueue_enable_interrupts(virtqueue *vq) noexcept nogil
