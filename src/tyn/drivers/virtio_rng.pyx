# The virtio-rng driver: at boot, one request on the device's queue, polled to completion
# (no interrupt: nothing else runs yet and the device is not used afterwards), then the
# device is reset.  The bytes go into the kernel's generator (lib/crng).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memset, phys_to_virt, cpu_relax
from tyn.arch.tsc cimport monotonic_ns
from tyn.drivers.virtio cimport *
from tyn.drivers.virtio_mmio cimport virtio_mmio_find
from tyn.drivers.virtio_pci cimport virtio_pci_find
from tyn.drivers.virtqueue cimport *
from tyn.lib.crng cimport crng_add_device_bytes
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.mm.heap cimport kcalloc, kfree
from tyn.mm.pmm cimport pmm_alloc_frame, pmm_free_frame, PAGE_SIZE

cdef enum:
    NO_FRAME = 0xFFFFFFFFFFFFFFFF       # pmm_alloc_frame: none left
    QUEUE_SIZE = 1                      # one request in flight is all the boot needs
    NS_PER_MS = 1000000
    # The page holding the queue: descriptor table, available ring, used ring, the buffer.
    DESC_OFFSET = 0
    AVAIL_OFFSET = 256
    USED_OFFSET = 512
    BUFFER_OFFSET = 1024

cdef int report(const char *problem) noexcept nogil:
    kputs(b"tyn: virtio-rng: ")
    kputs(problem)
    kputs(b"\n")
    return 0

cdef int request(virtio_device *d) noexcept nogil:
    """Ask d for VIRTIO_RNG_SEED_BYTES; the bytes it wrote (mixed into crng), or 0."""
    cdef virtqueue vq
    cdef virtq_buf buf
    cdef uint64_t page, token = 0, deadline
    cdef uint32_t written = 0
    cdef uint8_t *base
    cdef void *shadow
    cdef int got = 0
    if virtio_negotiate(d, 0, 0) == 0:
        return report(b"device refuses virtio 1.0")
    if d.queue_max(d, VIRTIO_RNG_REQUEST_QUEUE) == 0:
        virtio_fail(d)
        return report(b"device has no request queue")
    page = pmm_alloc_frame()
    shadow = kcalloc(1, virtqueue_shadow_bytes(QUEUE_SIZE))
    if page == NO_FRAME or shadow == NULL:
        virtio_fail(d)
        if page != NO_FRAME:
            pmm_free_frame(page)
        if shadow != NULL:
            kfree(shadow)
        return report(b"out of memory")
    base = <uint8_t *>phys_to_virt(page)
    memset(base, 0, PAGE_SIZE)
    if not virtqueue_init(&vq, QUEUE_SIZE, base + DESC_OFFSET, base + AVAIL_OFFSET, base + USED_OFFSET,
                          shadow) or \
            not d.queue_setup(d, VIRTIO_RNG_REQUEST_QUEUE, QUEUE_SIZE, page + DESC_OFFSET,
                              page + AVAIL_OFFSET, page + USED_OFFSET):
        virtio_fail(d)
        got = report(b"the device refused its queue")
    else:
        buf.phys = page + BUFFER_OFFSET
        buf.len = VIRTIO_RNG_SEED_BYTES
        virtqueue_add(&vq, &buf, 0, 1, 1)
        virtio_driver_ok(d)
        if virtqueue_kick_prepare(&vq):
            d.queue_notify(d, VIRTIO_RNG_REQUEST_QUEUE)
        deadline = monotonic_ns() + <uint64_t>VIRTIO_RNG_TIMEOUT_MS * NS_PER_MS
        while not virtqueue_has_used(&vq) and monotonic_ns() < deadline:
            cpu_relax()
        if virtqueue_pop_used(&vq, &token, &written) and written > 0:
            if written > VIRTIO_RNG_SEED_BYTES:
                written = VIRTIO_RNG_SEED_BYTES     # a device claiming more than the buffer
            crng_add_device_bytes(base + BUFFER_OFFSET, written)
            got = <int>written
        else:
            report(b"no answer within the timeout")
        d.reset(d)                      # the device must not write the page once it is freed
    memset(base, 0, PAGE_SIZE)
    pmm_free_frame(page)
    kfree(shadow)
    return got

cdef int virtio_rng_seed() noexcept nogil:
    cdef virtio_device found[VIRTIO_RNG_DEVICES_MAX]
    cdef int count, i, got
    count = virtio_mmio_find(VIRTIO_ID_RNG, found, VIRTIO_RNG_DEVICES_MAX)
    count += virtio_pci_find(VIRTIO_ID_RNG, found + count, VIRTIO_RNG_DEVICES_MAX - count)
    for i in range(count):
        got = request(&found[i])
        if got > 0:
            return got
    return 0
