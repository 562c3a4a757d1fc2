# The kernel's random number generator: ChaCha20 with fast key erasure (as Linux's crng),
# seeded at boot from RDSEED/RDRAND (when the CPU has them), a virtio-rng device (when the
# machine has one) and timing jitter.  getrandom, /dev/urandom, /dev/random, AT_RANDOM and
# the network's secrets all read it.
from libc.stdint cimport uint8_t, uint64_t

cdef enum:
    # Which sources fed the generator (crng_sources()).
    CRNG_SOURCE_RDSEED = 1
    CRNG_SOURCE_RDRAND = 2
    CRNG_SOURCE_DEVICE = 4          # virtio-rng
    CRNG_SOURCE_JITTER = 8
    CRNG_SEED_BYTES = 32            # what one source contributes at boot (the key's size)

# Zero key, lock set up (first, before anything asks for bytes).
cdef extern void crng_init() noexcept nogil
# Mix bytes into the key (one-way: the old key cannot be recovered from the new).
cdef extern void crng_mix(const uint8_t *data, uint64_t length) noexcept nogil
# Seed from the CPU's RDSEED/RDRAND and from timing jitter (after the TSC is calibrated).
cdef extern void crng_seed_boot() noexcept nogil
# A device (virtio-rng) contributed `length` bytes of its output.
cdef extern void crng_add_device_bytes(const uint8_t *data, uint64_t length) noexcept nogil
# The console line naming the sources: "tyn: random: seeded from ...".
cdef extern void crng_report() noexcept nogil
cdef extern int crng_sources() noexcept nogil
# Whether the generator has been seeded (getrandom without GRND_INSECURE waits for it).
cdef extern bint crng_ready() noexcept nogil
cdef extern void crng_random_bytes(uint8_t *out, uint64_t length) noexcept nogil
