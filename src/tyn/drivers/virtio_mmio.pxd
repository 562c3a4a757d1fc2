# The virtio-mmio transport (virtio 1.0 §4.2, version 2 "modern" register layout only).
#
# Where the devices are: Linux's kernel command line syntax, one key per device,
#     virtio_mmio.device=<size>@<base>:<gsi>      e.g. virtio_mmio.device=512@0xfeb00e00:23
# QEMU's microvm puts virtio-mmio transports at fixed addresses and (auto-kernel-cmdline)
# writes these keys only into the Linux boot protocol's command line in fw_cfg; the
# multiboot information a multiboot kernel reads keeps the original line.  So tyn.run,
# which builds the machine, writes them (tyn/qemu.py).  The line is level-triggered.
from libc.stdint cimport uint32_t, uint64_t
from tyn.drivers.virtio cimport virtio_device

cdef enum:
    VIRTIO_MMIO_MAGIC = 0x74726976      # "virt"
    VIRTIO_MMIO_VERSION_MODERN = 2
    # Registers (Linux's VIRTIO_MMIO_* names).
    VIRTIO_MMIO_MAGIC_VALUE = 0x000
    VIRTIO_MMIO_VERSION = 0x004
    VIRTIO_MMIO_DEVICE_ID = 0x008
    VIRTIO_MMIO_VENDOR_ID = 0x00c
    VIRTIO_MMIO_DEVICE_FEATURES = 0x010
    VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014
    VIRTIO_MMIO_DRIVER_FEATURES = 0x020
    VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024
    VIRTIO_MMIO_QUEUE_SEL = 0x030
    VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034
    VIRTIO_MMIO_QUEUE_NUM = 0x038
    VIRTIO_MMIO_QUEUE_READY = 0x044
    VIRTIO_MMIO_QUEUE_NOTIFY = 0x050
    VIRTIO_MMIO_INTERRUPT_STATUS = 0x060
    VIRTIO_MMIO_INTERRUPT_ACK = 0x064
    VIRTIO_MMIO_STATUS = 0x070
    VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080
    VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084
    VIRTIO_MMIO_QUEUE_AVAIL_LOW = 0x090
    VIRTIO_MMIO_QUEUE_AVAIL_HIGH = 0x094
    VIRTIO_MMIO_QUEUE_USED_LOW = 0x0a0
    VIRTIO_MMIO_QUEUE_USED_HIGH = 0x0a4
    VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc
    VIRTIO_MMIO_CONFIG = 0x100
    VIRTIO_MMIO_MIN_SIZE = 0x200        # registers plus room for a device configuration
    # virtio_mmio_probe results
    VIRTIO_MMIO_OK = 0
    VIRTIO_MMIO_ERR_NOT_VIRTIO = -1     # no magic value there
    VIRTIO_MMIO_ERR_LEGACY = -2         # version 1 (QEMU: -global virtio-mmio.force-legacy=false)
    VIRTIO_MMIO_ERR_EMPTY = -3          # a transport with no device behind it
    VIRTIO_MMIO_ERR_MAP = -4

# Parse one virtio_mmio.device= value: <size>[KMG]@<base>:<gsi>[:<first id>].
cdef extern bint virtio_mmio_parse_device(const char *text, uint64_t *base, uint64_t *size,
                                          uint32_t *gsi) noexcept nogil
# Map and identify the transport at phys; fills d's hooks.  VIRTIO_MMIO_OK or an error.
cdef extern int virtio_mmio_probe(uint64_t phys, uint64_t size, uint32_t gsi, virtio_device *d) noexcept nogil
# The devices with this virtio device ID among the command line's virtio_mmio.device=
# entries, into out[0..max); each entry that is not usable is reported on the console.
cdef extern int virtio_mmio_find(uint32_t device_id, virtio_device *out, int max) noexcept nogil
