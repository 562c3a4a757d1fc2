# The virtio-mmio transport (see virtio_mmio.pxd).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport mmio_read32, mmio_write32, mmio_read8, memset
from tyn.arch.trap cimport trap_handler, trap_set_handler
from tyn.drivers.ioapic cimport ioapic_route_level
from tyn.drivers.virtio cimport virtio_device, VIRTIO_TRANSPORT_MMIO
from tyn.lib.cmdline cimport cmdline_get_nth
from tyn.lib.kprint cimport kputs, kput_hex
from tyn.mm.paging cimport paging_map_mmio

cdef enum:
    VIRTIO_MMIO_CMDLINE_MAX = 32        # virtio_mmio.device= entries looked at
    KIB_SHIFT = 10
    MIB_SHIFT = 20
    GIB_SHIFT = 30
    RESET_POLL_LIMIT = 1000000          # a device that never finishes its reset is left alone

cdef inline uint32_t rd(virtio_device *d, uint32_t reg) noexcept nogil:
    return mmio_read32(d.regs + reg)

cdef inline void wr(virtio_device *d, uint32_t reg, uint32_t v) noexcept nogil:
    mmio_write32(d.regs + reg, v)

cdef void mmio_reset(virtio_device *d) noexcept nogil:
    cdef int spins = 0
    wr(d, VIRTIO_MMIO_STATUS, 0)
    while rd(d, VIRTIO_MMIO_STATUS) != 0 and spins < RESET_POLL_LIMIT:  # done when 0 reads back
        spins += 1

cdef uint8_t mmio_get_status(virtio_device *d) noexcept nogil:
    return <uint8_t>rd(d, VIRTIO_MMIO_STATUS)

cdef void mmio_set_status(virtio_device *d, uint8_t status) noexcept nogil:
    wr(d, VIRTIO_MMIO_STATUS, status)

cdef uint64_t mmio_get_features(virtio_device *d) noexcept nogil:
    cdef uint64_t low, high
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0)
    low = rd(d, VIRTIO_MMIO_DEVICE_FEATURES)
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1)
    high = rd(d, VIRTIO_MMIO_DEVICE_FEATURES)
    return low | (high << 32)

cdef void mmio_set_features(virtio_device *d, uint64_t features) noexcept nogil:
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0)
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, <uint32_t>features)
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1)
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, <uint32_t>(features >> 32))

cdef uint8_t mmio_config_read8(virtio_device *d, uint32_t offset) noexcept nogil:
    return mmio_read8(d.regs + VIRTIO_MMIO_CONFIG + offset)

cdef uint16_t mmio_queue_max(virtio_device *d, uint16_t index) noexcept nogil:
    cdef uint32_t n
    wr(d, VIRTIO_MMIO_QUEUE_SEL, index)
    if rd(d, VIRTIO_MMIO_QUEUE_READY) != 0:
        return 0                        # already in use: not ours to set up
    n = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX)
    return <uint16_t>n if n <= 0xFFFF else 0xFFFF

cdef bint mmio_queue_setup(virtio_device *d, uint16_t index, uint16_t size, uint64_t desc,
                           uint64_t avail, uint64_t used) noexcept nogil:
    wr(d, VIRTIO_MMIO_QUEUE_SEL, index)
    wr(d, VIRTIO_MMIO_QUEUE_NUM, size)
    wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, <uint32_t>desc)
    wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, <uint32_t>(desc >> 32))
    wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, <uint32_t>avail)
    wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, <uint32_t>(avail >> 32))
    wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, <uint32_t>used)
    wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, <uint32_t>(used >> 32))
    wr(d, VIRTIO_MMIO_QUEUE_READY, 1)
    return rd(d, VIRTIO_MMIO_QUEUE_READY) == 1

cdef void mmio_queue_notify(virtio_device *d, uint16_t index) noexcept nogil:
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, index)

cdef bint mmio_irq_setup(virtio_device *d, int vector, trap_handler handler) noexcept nogil:
    trap_set_handler(vector, handler)
    if not ioapic_route_level(d.irq_line, vector):
        trap_set_handler(vector, NULL)
        return False
    return True

cdef uint32_t mmio_irq_ack(virtio_device *d) noexcept nogil:
    cdef uint32_t causes = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS)
    if causes:
        wr(d, VIRTIO_MMIO_INTERRUPT_ACK, causes)   # the line drops once every cause is acked
    return causes

cdef int virtio_mmio_probe(uint64_t phys, uint64_t size, uint32_t gsi, virtio_device *d) noexcept nogil:
    cdef uint64_t regs
    memset(d, 0, sizeof(virtio_device))
    regs = paging_map_mmio(phys, size if size >= VIRTIO_MMIO_MIN_SIZE else VIRTIO_MMIO_MIN_SIZE)
    if regs == 0:
        return VIRTIO_MMIO_ERR_MAP
    if mmio_read32(regs + VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC:
        return VIRTIO_MMIO_ERR_NOT_VIRTIO
    if mmio_read32(regs + VIRTIO_MMIO_VERSION) != VIRTIO_MMIO_VERSION_MODERN:
        return VIRTIO_MMIO_ERR_LEGACY
    d.device_id = mmio_read32(regs + VIRTIO_MMIO_DEVICE_ID)
    if d.device_id == 0:
        return VIRTIO_MMIO_ERR_EMPTY
    d.regs = regs
    d.phys = phys
    d.irq_line = gsi
    d.transport = VIRTIO_TRANSPORT_MMIO
    d.reset = mmio_reset
    d.get_status = mmio_get_status
    d.set_status = mmio_set_status
    d.get_features = mmio_get_features
    d.set_features = mmio_set_features
    d.config_read8 = mmio_config_read8
    d.queue_max = mmio_queue_max
    d.queue_setup = mmio_queue_setup
    d.queue_notify = mmio_queue_notify
    d.irq_setup = mmio_irq_setup
    d.irq_ack = mmio_irq_ack
    return VIRTIO_MMIO_OK

# ------------------------------------------------------------ the command line

cdef const char *parse_number(const char *p, uint64_t *out) noexcept nogil:
    """Decimal or 0x-hex digits at p; the first character after them, or NULL if none."""
    cdef uint64_t v = 0, base = 10, digit
    cdef const char *start
    if p[0] == 48 and (p[1] == 120 or p[1] == 88):      # "0x"
        base = 16
        p += 2
    start = p
    while True:
        if 48 <= p[0] <= 57:
            digit = <uint64_t>(p[0] - 48)
        elif base == 16 and 97 <= p[0] <= 102:
            digit = <uint64_t>(p[0] - 87)
        elif base == 16 and 65 <= p[0] <= 70:
            digit = <uint64_t>(p[0] - 55)
        else:
            break
        if v > (<uint64_t>0xFFFFFFFFFFFFFFFF - digit) // base:
            return NULL
        v = v * base + digit
        p += 1
    if p == start:
        return NULL
    out[0] = v
    return p

cdef bint virtio_mmio_parse_device(const char *text, uint64_t *base, uint64_t *size,
                                   uint32_t *gsi) noexcept nogil:
    cdef uint64_t n, irq, ignored
    cdef const char *p = parse_number(text, &n)
    if p == NULL:
        return False
    if p[0] == 75 or p[0] == 107:       # K/k
        n <<= KIB_SHIFT
        p += 1
    elif p[0] == 77 or p[0] == 109:     # M/m
        n <<= MIB_SHIFT
        p += 1
    elif p[0] == 71 or p[0] == 103:     # G/g
        n <<= GIB_SHIFT
        p += 1
    if p[0] != 64 or n == 0:            # '@'
        return False
    size[0] = n
    p = parse_number(p + 1, base)
    if p == NULL or p[0] != 58:         # ':'
        return False
    p = parse_number(p + 1, &irq)
    if p == NULL or irq > <uint64_t>0xFFFFFFFF:
        return False
    if p[0] == 58:                      # ':<first id>' (Linux's platform device id): ignored
        p = parse_number(p + 1, &ignored)
        if p == NULL:
            return False
    if p[0] != 0:
        return False
    gsi[0] = <uint32_t>irq
    return True

cdef void report(const char *text, const char *why) noexcept nogil:
    kputs(b"tyn: virtio_mmio.device=")
    kputs(text)
    kputs(b": ")
    kputs(why)
    kputs(b"\n")

cdef int virtio_mmio_find(uint32_t device_id, virtio_device *out, int max) noexcept nogil:
    cdef int i, found = 0, rc
    cdef const char *text
    cdef uint64_t base, size
    cdef uint32_t gsi
    for i in range(VIRTIO_MMIO_CMDLINE_MAX):
        text = cmdline_get_nth(b"virtio_mmio.device", i)
        if text == NULL or found >= max:
            break
        if not virtio_mmio_parse_device(text, &base, &size, &gsi):
            report(text, b"not <size>@<base>:<gsi> (ignored)")
            continue
        rc = virtio_mmio_probe(base, size, gsi, &out[found])
        if rc == VIRTIO_MMIO_ERR_LEGACY:
            report(text, b"a legacy (version 1) transport; Tyn drives virtio 1.0 only (ignored)")
        elif rc == VIRTIO_MMIO_ERR_NOT_VIRTIO or rc == VIRTIO_MMIO_ERR_MAP:
            report(text, b"no virtio-mmio transport there (ignored)")
        elif rc == VIRTIO_MMIO_OK and out[found].device_id == device_id:
            found += 1
    return found
