# ChaCha20-based generator with fast key erasure (the construction Linux's crng uses).
#
# State: a 256-bit key.  Output: under crng_lock, one ChaCha20 block of the key gives a new
# key (first half) and a one-time key (second half); the caller's bytes are that one-time
# key's stream, made without the lock.  A later compromise of the key reveals nothing
# about earlier output.  Input: each 16 bytes (zero-padded, the length in the last chunk)
# go in as the block's counter and nonce, and the first 32 bytes of that block are XORed
# into the key.
#
# crng_lock (spinlock, rank SPINLOCK_RANK_CRNG, a leaf) protects key, sources and the
# counts; callers may hold any lower-ranked lock.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport cpuid, rdtsc, memset, memcpy
from tyn.lib.chacha20 cimport (chacha20_block, CHACHA20_KEY_WORDS, CHACHA20_NONCE_WORDS,
                               CHACHA20_BLOCK_BYTES)
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.lib.spinlock cimport spinlock, spinlock_init, spinlock_acquire, spinlock_release, SPINLOCK_RANK_CRNG

cdef extern from *:
    """
    /* RDRAND/RDSEED: 1 and the value when the carry flag says it is valid, else 0. */
    static inline int crng_rdrand64(unsigned long long *out) {
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok));
        return ok;
    }
    static inline int crng_rdseed64(unsigned long long *out) {
        unsigned char ok;
        __asm__ volatile("rdseed %0; setc %1" : "=r"(*out), "=qm"(ok));
        return ok;
    }
    """
    int crng_rdrand64(unsigned long long *out) nogil
    int crng_rdseed64(unsigned long long *out) nogil

cdef enum:
    CPUID_FEATURES = 1
    CPUID_ECX_RDRAND = 1 << 30
    CPUID_EXTENDED_FEATURES = 7
    CPUID_EBX_RDSEED = 1 << 18
    # Intel's DRNG guide: retry RDRAND 10 times; RDSEED may run dry for longer.
    RDRAND_RETRIES = 10
    RDSEED_RETRIES = 100
    INPUT_CHUNK = 16                # bytes absorbed per block (counter + nonce)
    JITTER_SAMPLES = 2048           # TSC readings around varying memory work
    JITTER_BUFFER = 1024
    LENGTH_CHUNK_MARK = 0x80        # set in the length chunk's last byte
    JITTER_WORDS = 8                # readings mixed per chunk (64 bytes -> 4 blocks)

cdef spinlock crng_lock
cdef uint32_t key[CHACHA20_KEY_WORDS]
cdef int sources
cdef bint seeded
cdef uint64_t device_bytes
cdef uint64_t jitter_samples

cdef void crng_init() noexcept nogil:
    global sources, seeded, device_bytes, jitter_samples
    spinlock_init(&crng_lock, b"crng", SPINLOCK_RANK_CRNG)
    memset(key, 0, sizeof(key))
    sources = 0
    seeded = False
    device_bytes = 0
    jitter_samples = 0

cdef inline uint32_t load_le32(const uint8_t *p) noexcept nogil:
    return <uint32_t>p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)

cdef void absorb_chunk(const uint8_t *chunk) noexcept nogil:
    """key ^= ChaCha20(key, counter = chunk[0:4], nonce = chunk[4:16])[0:32] (lock held)."""
    cdef uint8_t block[CHACHA20_BLOCK_BYTES]
    cdef uint32_t nonce[CHACHA20_NONCE_WORDS]
    cdef int i
    for i in range(CHACHA20_NONCE_WORDS):
        nonce[i] = load_le32(chunk + 4 + 4 * i)
    chacha20_block(key, load_le32(chunk), nonce, block)
    for i in range(CHACHA20_KEY_WORDS):
        key[i] ^= load_le32(block + 4 * i)
    memset(block, 0, sizeof(block))

cdef void mix_locked(const uint8_t *data, uint64_t length) noexcept nogil:
    cdef uint8_t chunk[INPUT_CHUNK]
    cdef uint64_t done = 0, n
    cdef int i
    while done < length:
        memset(chunk, 0, INPUT_CHUNK)
        n = length - done if length - done < INPUT_CHUNK else INPUT_CHUNK
        memcpy(chunk, data + done, n)
        absorb_chunk(chunk)
        done += n
    # A last chunk with the length: "ab" and "ab\0" mix differently.
    memset(chunk, 0, INPUT_CHUNK)
    for i in range(8):
        chunk[i] = <uint8_t>(length >> (8 * i))
    chunk[INPUT_CHUNK - 1] = LENGTH_CHUNK_MARK
    absorb_chunk(chunk)
    memset(chunk, 0, INPUT_CHUNK)

cdef void crng_mix(const uint8_t *data, uint64_t length) noexcept nogil:
    cdef uint64_t flags = spinlock_acquire(&crng_lock)
    mix_locked(data, length)
    spinlock_release(&crng_lock, flags)

cdef bint cpu_has(uint32_t leaf, int register_index, uint32_t bit) noexcept nogil:
    cdef uint32_t r[4]
    cpuid(0, 0, r)
    if r[0] < leaf:
        return False
    cpuid(leaf, 0, r)
    return (r[register_index] & bit) != 0

cdef int collect_cpu(bint use_rdseed, uint8_t *out) noexcept nogil:
    """CRNG_SEED_BYTES from RDSEED or RDRAND: 1, or 0 when the instruction kept failing."""
    cdef unsigned long long v = 0
    cdef int i, k, tries
    cdef bint ok
    for i in range(CRNG_SEED_BYTES // 8):
        tries = 0
        ok = False
        while not ok and tries < (RDSEED_RETRIES if use_rdseed else RDRAND_RETRIES):
            ok = crng_rdseed64(&v) != 0 if use_rdseed else crng_rdrand64(&v) != 0
            tries += 1
        if not ok:
            return 0
        for k in range(8):
            out[8 * i + k] = <uint8_t>(v >> (8 * k))
    return 1

cdef uint64_t collect_jitter() noexcept nogil:
    """TSC readings around memory work whose amount depends on the previous reading: the
    variation (caches, the host's scheduling of this vCPU, interrupts) is the entropy."""
    cdef uint8_t buffer[JITTER_BUFFER]
    cdef uint64_t readings[JITTER_WORDS]
    cdef uint64_t previous = rdtsc(), now, i, j, walk
    cdef int filled = 0
    memset(buffer, 0, JITTER_BUFFER)
    for i in range(JITTER_SAMPLES):
        walk = (previous & 0xff) + 1
        for j in range(walk):
            buffer[(j * 67 + previous) % JITTER_BUFFER] += <uint8_t>j
        now = rdtsc()
        readings[filled] = now - previous + buffer[now % JITTER_BUFFER]
        filled += 1
        previous = now
        if filled == JITTER_WORDS:
            crng_mix(<const uint8_t *>readings, sizeof(readings))
            filled = 0
    memset(readings, 0, sizeof(readings))
    return JITTER_SAMPLES

cdef void crng_seed_boot() noexcept nogil:
    global sources, seeded, jitter_samples
    cdef uint8_t seed[CRNG_SEED_BYTES]
    cdef uint64_t tsc = rdtsc()
    crng_mix(<const uint8_t *>&tsc, sizeof(tsc))
    if cpu_has(CPUID_EXTENDED_FEATURES, 1, CPUID_EBX_RDSEED) and collect_cpu(True, seed):
        crng_mix(seed, CRNG_SEED_BYTES)
        sources |= CRNG_SOURCE_RDSEED
    if cpu_has(CPUID_FEATURES, 2, CPUID_ECX_RDRAND) and collect_cpu(False, seed):
        crng_mix(seed, CRNG_SEED_BYTES)
        sources |= CRNG_SOURCE_RDRAND
    jitter_samples = collect_jitter()
    sources |= CRNG_SOURCE_JITTER
    memset(seed, 0, sizeof(seed))
    seeded = True

cdef void crng_add_device_bytes(const uint8_t *data, uint64_t length) noexcept nogil:
    global sources, device_bytes
    cdef uint64_t flags = spinlock_acquire(&crng_lock)
    mix_locked(data, length)
    sources |= CRNG_SOURCE_DEVICE
    device_bytes += length
    spinlock_release(&crng_lock, flags)

cdef int crng_sources() noexcept nogil:
    return sources

cdef bint crng_ready() noexcept nogil:
    return seeded

cdef void crng_report() noexcept nogil:
    cdef bint first = True
    kputs(b"tyn: random: ChaCha20 generator seeded from ")
    if sources & CRNG_SOURCE_RDSEED:
        kputs(b"RDSEED")
        first = False
    if sources & CRNG_SOURCE_RDRAND:
        kputs(b"RDRAND" if first else b", RDRAND")
        first = False
    if sources & CRNG_SOURCE_DEVICE:
        kputs(b"virtio-rng (" if first else b", virtio-rng (")
        kput_udec(device_bytes)
        kputs(b" bytes)")
        first = False
    if sources & CRNG_SOURCE_JITTER:
        kputs(b"timing jitter (" if first else b", timing jitter (")
        kput_udec(jitter_samples)
        kputs(b" samples)")
        first = False
    if first:
        kputs(b"nothing")
    if not (sources & (CRNG_SOURCE_RDSEED | CRNG_SOURCE_RDRAND | CRNG_SOURCE_DEVICE)):
        kputs(b"; no RDSEED/RDRAND and no virtio-rng: timing jitter only")
    kputs(b"\n")

cdef void crng_random_bytes(uint8_t *out, uint64_t length) noexcept nogil:
    cdef uint8_t block[CHACHA20_BLOCK_BYTES]
    cdef uint32_t once[CHACHA20_KEY_WORDS]
    cdef uint32_t nonce[CHACHA20_NONCE_WORDS]
    cdef uint64_t flags, done = 0, n
    cdef uint32_t counter = 0
    cdef int i
    memset(nonce, 0, sizeof(nonce))
    # Fast key erasure: the block's first half replaces the key, its second half keys
    # this request's stream.
    flags = spinlock_acquire(&crng_lock)
    chacha20_block(key, 0, nonce, block)
    for i in range(CHACHA20_KEY_WORDS):
        key[i] = load_le32(block + 4 * i)
        once[i] = load_le32(block + 32 + 4 * i)
    spinlock_release(&crng_lock, flags)
    while done < length:
        chacha20_block(once, counter, nonce, block)
        counter += 1
        n = length - done if length - done < CHACHA20_BLOCK_BYTES else CHACHA20_BLOCK_BYTES
        memcpy(out + done, block, n)
        done += n
    memset(block, 0, sizeof(block))
    memset(once, 0, sizeof(once))
