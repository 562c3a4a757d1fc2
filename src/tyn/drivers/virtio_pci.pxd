# The virtio PCI transport, modern interface only (virtio 1.0 §4.1): the device's
# vendor-specific capabilities point into its BARs at the common configuration, the
# notification area, the ISR byte and the device configuration.  Interrupts: MSI-X entry 0
# for every queue; a device without MSI-X is not used (INTx: not yet, see virtio_pci.pyx).
from libc.stdint cimport uint32_t
from tyn.drivers.virtio cimport virtio_device

cdef enum:
    PCI_VENDOR_ID_REDHAT_QUMRANET = 0x1AF4
    VIRTIO_PCI_MODERN_DEVICE_BASE = 0x1040     # + virtio device ID
    VIRTIO_PCI_MODERN_DEVICE_LAST = 0x107F
    VIRTIO_PCI_TRANSITIONAL_FIRST = 0x1000     # 0x1000..0x103F: subsystem ID = virtio ID
    VIRTIO_PCI_TRANSITIONAL_LAST = 0x103F
    # struct virtio_pci_cap
    VIRTIO_PCI_CAP_CFG_TYPE = 3
    VIRTIO_PCI_CAP_BAR = 4
    VIRTIO_PCI_CAP_OFFSET = 8
    VIRTIO_PCI_CAP_LENGTH = 12
    VIRTIO_PCI_NOTIFY_CAP_MULT = 16
    VIRTIO_PCI_CAP_COMMON_CFG = 1
    VIRTIO_PCI_CAP_NOTIFY_CFG = 2
    VIRTIO_PCI_CAP_ISR_CFG = 3
    VIRTIO_PCI_CAP_DEVICE_CFG = 4
    # struct virtio_pci_common_cfg (Linux's VIRTIO_PCI_COMMON_* offsets)
    VIRTIO_PCI_COMMON_DFSELECT = 0
    VIRTIO_PCI_COMMON_DF = 4
    VIRTIO_PCI_COMMON_GFSELECT = 8
    VIRTIO_PCI_COMMON_GF = 12
    VIRTIO_PCI_COMMON_MSIX = 16
    VIRTIO_PCI_COMMON_NUMQ = 18
    VIRTIO_PCI_COMMON_STATUS = 20
    VIRTIO_PCI_COMMON_CFGGENERATION = 21
    VIRTIO_PCI_COMMON_Q_SELECT = 22
    VIRTIO_PCI_COMMON_Q_SIZE = 24
    VIRTIO_PCI_COMMON_Q_MSIX = 26
    VIRTIO_PCI_COMMON_Q_ENABLE = 28
    VIRTIO_PCI_COMMON_Q_NOFF = 30
    VIRTIO_PCI_COMMON_Q_DESCLO = 32
    VIRTIO_PCI_COMMON_Q_DESCHI = 36
    VIRTIO_PCI_COMMON_Q_AVAILLO = 40
    VIRTIO_PCI_COMMON_Q_AVAILHI = 44
    VIRTIO_PCI_COMMON_Q_USEDLO = 48
    VIRTIO_PCI_COMMON_Q_USEDHI = 52
    VIRTIO_PCI_COMMON_CFG_BYTES = 56
    VIRTIO_PCI_MSIX_ENTRY = 0           # the one MSI-X table entry used

# The virtio PCI functions with this virtio device ID (modern capabilities required) into
# out[0..max); functions without them are reported on the console.
cdef extern int virtio_pci_find(uint32_t device_id, virtio_device *out, int max) noexcept nogil
