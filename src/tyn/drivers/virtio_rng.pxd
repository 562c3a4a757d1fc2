# The virtio entropy device (virtio 1.0 §5.4): one request queue of device-writable buffers
# the device fills with random bytes.  Used once at boot to seed lib/crng.
cdef enum:
    VIRTIO_RNG_REQUEST_QUEUE = 0
    VIRTIO_RNG_SEED_BYTES = 64          # asked of the device at boot
    VIRTIO_RNG_DEVICES_MAX = 2
    VIRTIO_RNG_TIMEOUT_MS = 1000        # a device that never answers is reported and left

# Find a virtio-rng device (virtio-mmio or PCI), ask it for VIRTIO_RNG_SEED_BYTES, mix what
# it returns into crng.  Returns the bytes obtained (0: no device, or it failed: reported).
cdef extern int virtio_rng_seed() noexcept nogil
