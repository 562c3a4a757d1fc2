from libc.stdint cimport uint8_t, uint16_t

# 16550 UART registers (offsets from the port base) and bits.
cdef enum:
    COM1_PORT = 0x3F8
    UART_DATA = 0          # THR on write, RBR on read; DLL when LCR.DLAB
    UART_IER = 1           # DLM when LCR.DLAB
    UART_FCR = 2
    UART_LCR = 3
    UART_MCR = 4
    UART_LSR = 5
    UART_SCR = 7
    LCR_WORD_8BITS = 0x03
    LCR_DLAB = 0x80
    FCR_ENABLE_AND_CLEAR = 0x07
    MCR_DTR_RTS_OUT2 = 0x0B
    LSR_DATA_READY = 0x01
    LSR_THR_EMPTY = 0x20
    UART_DIVISOR_115200 = 1
    UART_PROBE_VALUE = 0xA5
    UART_POLL_LIMIT = 100000
    IER_RX_AVAILABLE = 0x01
    COM1_GSI = 4                # ISA IRQ 4
    SERIAL_RX_RING = 256        # bytes received ahead of the reader (more are dropped, as an overrun)

cdef extern bint serial_init() noexcept nogil
cdef extern void serial_putc(uint8_t c) noexcept nogil
cdef extern void serial_write(const char *buf, size_t n) noexcept nogil
# The kernel's own messages (lib/kprint): LF written as CR LF.
cdef extern void serial_console_write(const char *buf, size_t n) noexcept nogil
cdef extern int serial_getc() noexcept nogil
# Whether serial_getc has a byte now.
cdef extern bint serial_rx_ready() noexcept nogil
# Receive interrupts on vector via the I/O APIC (ioapic_init done): each drains the UART
# to the receiver (or, before one is set, into a ring and calls io_notify()).  False if the line cannot be routed.
cdef extern bint serial_enable_rx_irq(int vector) noexcept nogil
cdef extern bint serial_rx_irq_enabled() noexcept nogil
# Where received bytes go once set (the console tty, tyn.fs.tty_receive): the receive
# interrupt hands each batch to it instead of the ring that serial_getc reads.
ctypedef void (*serial_receiver)(const uint8_t *buf, size_t n) noexcept nogil
cdef extern void serial_set_receiver(serial_receiver fn) noexcept nogil
# Polled receive (no interrupt): hand what the UART holds to the receiver.
cdef extern void serial_poll_rx() noexcept nogil
