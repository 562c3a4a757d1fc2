# What every virtio 1.0 device shares, whatever its transport: status bits, feature bits,
# and the virtio_device a transport fills with its hooks (virtio_mmio, virtio_pci), so a
# device driver (virtio_net) never knows which transport it drives.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.trap cimport trap_handler

cdef enum:
    VIRTIO_ID_NET = 1
    VIRTIO_ID_RNG = 4
    # Device status (virtio 1.0 §2.1), Linux's names.
    VIRTIO_CONFIG_S_ACKNOWLEDGE = 1
    VIRTIO_CONFIG_S_DRIVER = 2
    VIRTIO_CONFIG_S_DRIVER_OK = 4
    VIRTIO_CONFIG_S_FEATURES_OK = 8
    VIRTIO_CONFIG_S_NEEDS_RESET = 0x40
    VIRTIO_CONFIG_S_FAILED = 0x80
    # Feature bit numbers shared by all devices (§6).
    VIRTIO_F_VERSION_1 = 32
    # Interrupt status bits (ISR, InterruptStatus).
    VIRTIO_ISR_QUEUE = 1
    VIRTIO_ISR_CONFIG = 2
    VIRTIO_MSI_NO_VECTOR = 0xFFFF
    VIRTIO_TRANSPORT_MMIO = 1
    VIRTIO_TRANSPORT_PCI = 2
    VIRTIO_QUEUES_MAX = 4               # queues a driver here may use per device

cdef struct virtio_device

# The transport's hooks.
ctypedef void (*virtio_reset_fn)(virtio_device *d) noexcept nogil
ctypedef uint8_t (*virtio_get_status_fn)(virtio_device *d) noexcept nogil
ctypedef void (*virtio_set_status_fn)(virtio_device *d, uint8_t status) noexcept nogil
ctypedef uint64_t (*virtio_get_features_fn)(virtio_device *d) noexcept nogil
ctypedef void (*virtio_set_features_fn)(virtio_device *d, uint64_t features) noexcept nogil
ctypedef uint8_t (*virtio_config_read8_fn)(virtio_device *d, uint32_t offset) noexcept nogil
# The largest size the device allows for queue `index`; 0 if it has no such queue.
ctypedef uint16_t (*virtio_queue_max_fn)(virtio_device *d, uint16_t index) noexcept nogil
# Tell the device where queue `index` (of `size` entries) lives and enable it.
ctypedef bint (*virtio_queue_setup_fn)(virtio_device *d, uint16_t index, uint16_t size,
                                       uint64_t desc, uint64_t avail, uint64_t used) noexcept nogil
ctypedef void (*virtio_queue_notify_fn)(virtio_device *d, uint16_t index) noexcept nogil
# Deliver the device's interrupts on `vector` (MSI-X, or a GSI through the I/O APIC) to
# handler; before queue_setup.  False when no interrupt can be had.
ctypedef bint (*virtio_irq_setup_fn)(virtio_device *d, int vector, trap_handler handler) noexcept nogil
# In the handler: acknowledge and return the VIRTIO_ISR_* causes.
ctypedef uint32_t (*virtio_irq_ack_fn)(virtio_device *d) noexcept nogil

cdef struct virtio_device:
    virtio_reset_fn reset
    virtio_get_status_fn get_status
    virtio_set_status_fn set_status
    virtio_get_features_fn get_features
    virtio_set_features_fn set_features
    virtio_config_read8_fn config_read8
    virtio_queue_max_fn queue_max
    virtio_queue_setup_fn queue_setup
    virtio_queue_notify_fn queue_notify
    virtio_irq_setup_fn irq_setup
    virtio_irq_ack_fn irq_ack
    uint32_t device_id                  # VIRTIO_ID_*
    int transport                       # VIRTIO_TRANSPORT_*
    # Transport state (virtual addresses of mapped registers).
    uint64_t regs                       # mmio: the register block; pci: common configuration
    uint64_t device_config              # pci: device-specific configuration
    uint64_t isr                        # pci: ISR status byte
    uint64_t notify                     # pci: the notification area
    uint64_t notify_addr[VIRTIO_QUEUES_MAX]  # pci: where each queue is notified
    uint32_t notify_multiplier          # pci: bytes between queues' notification addresses
    uint32_t irq_line                   # mmio/pci INTx: the GSI; pci MSI-X: unused
    uint32_t pci_address                # pci: bus/device/function (pci.pxd)
    bint msix                           # pci: interrupts by MSI-X (no ISR read needed)
    uint64_t phys                       # where it was found (for the console line)

# Reset, ACKNOWLEDGE, DRIVER, negotiate: the device must offer VIRTIO_F_VERSION_1 and
# every bit of `required`; of `optional`, the offered ones are taken.  FEATURES_OK is set
# and checked.  Returns the accepted features, or 0 (device marked FAILED).
cdef extern uint64_t virtio_negotiate(virtio_device *d, uint64_t required, uint64_t optional) noexcept nogil
cdef extern void virtio_driver_ok(virtio_device *d) noexcept nogil
cdef extern void virtio_fail(virtio_device *d) noexcept nogil
