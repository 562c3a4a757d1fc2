# COM1, the kernel console: a polled 16550 UART at 115200 8N1.
from libc.stdint cimport uint8_t
from tyn.arch.cpu cimport outb, inb

cdef bint serial_present

cdef bint serial_init() noexcept nogil:
    """Program COM1; returns whether a UART answers (the scratch register round-trips)."""
    global serial_present
    outb(COM1_PORT + UART_SCR, UART_PROBE_VALUE)
    serial_present = inb(COM1_PORT + UART_SCR) == UART_PROBE_VALUE
    if not serial_present:
        return False
    outb(COM1_PORT + UART_IER, 0)
    outb(COM1_PORT + UART_LCR, LCR_DLAB)
    outb(COM1_PORT + UART_DATA, UART_DIVISOR_115200 & 0xFF)
    outb(COM1_PORT + UART_IER, UART_DIVISOR_115200 >> 8)
    outb(COM1_PORT + UART_LCR, LCR_WORD_8BITS)
    outb(COM1_PORT + UART_FCR, FCR_ENABLE_AND_CLEAR)
    outb(COM1_PORT + UART_MCR, MCR_DTR_RTS_OUT2)
    return True

cdef void serial_putc(uint8_t c) noexcept nogil:
    cdef int spins = 0
    # A bounded wait: a wedged or absent UART must not hang the kernel.
    while (inb(COM1_PORT + UART_LSR) & LSR_THR_EMPTY) == 0 and spins < UART_POLL_LIMIT:
        spins += 1
    outb(COM1_PORT + UART_DATA, c)

cdef void serial_write(const char *buf, size_t n) noexcept nogil:
    cdef size_t i
    for i in range(n):
        serial_putc(<uint8_t>buf[i])

cdef int serial_getc() noexcept nogil:
    """The next received byte, or -1 when none is waiting."""
    if inb(COM1_PORT + UART_LSR) & LSR_DATA_READY:
        return inb(COM1_PORT + UART_DATA)
    return -1
