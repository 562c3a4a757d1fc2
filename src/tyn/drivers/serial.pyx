# COM1, the kernel console: a 16550 UART at 115200 8N1.  Output is polled; input is
# polled until serial_enable_rx_irq, then received by the interrupt into a ring.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport outb, inb
from tyn.arch.trap cimport trap_set_handler
from tyn.arch.trapframe cimport trap_frame
from tyn.arch.lapic cimport lapic_eoi
from tyn.drivers.ioapic cimport ioapic_route
from tyn.proc.waitq cimport waitq_lock, waitq_unlock, io_notify

cdef bint serial_present
cdef bint rx_irq
cdef uint8_t rx_ring[SERIAL_RX_RING]
cdef uint32_t rx_head                   # next byte to read; rx_tail - rx_head bytes held
cdef uint32_t rx_tail
cdef serial_receiver receiver           # the console tty's input (tyn.fs.tty), once set

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

cdef uint32_t drain_uart(uint8_t *buf, uint32_t room) noexcept nogil:
    cdef uint32_t k = 0
    while k < room and (inb(COM1_PORT + UART_LSR) & LSR_DATA_READY):
        buf[k] = inb(COM1_PORT + UART_DATA)
        k += 1
    return k

cdef void serial_console_write(const char *buf, size_t n) noexcept nogil:
    # A line feed becomes CR LF, as Linux's serial console writes printk lines
    # (uart_console_write): the terminal at the other end does no output processing.
    cdef size_t i
    for i in range(n):
        if buf[i] == b'\n':
            serial_putc(b'\r')
        serial_putc(<uint8_t>buf[i])

cdef void serial_irq(trap_frame *frame) noexcept nogil:
    global rx_tail
    cdef uint8_t got[SERIAL_RX_RING]
    cdef uint32_t n = drain_uart(got, SERIAL_RX_RING), i
    lapic_eoi()
    if receiver != NULL:
        if n > 0:
            receiver(got, n)            # the tty takes them in and wakes its readers
        return
    for i in range(n):                  # no tty yet: keep them for serial_getc
        if rx_tail - rx_head < SERIAL_RX_RING:
            rx_ring[rx_tail % SERIAL_RX_RING] = got[i]
            rx_tail += 1
    io_notify()

cdef void serial_set_receiver(serial_receiver fn) noexcept nogil:
    global receiver
    receiver = fn

cdef void serial_poll_rx() noexcept nogil:
    cdef uint8_t got[SERIAL_RX_RING]
    cdef uint64_t flags = waitq_lock()  # the interrupt, if it comes on, must not race for LSR/RBR
    cdef uint32_t n = drain_uart(got, SERIAL_RX_RING)
    waitq_unlock(flags)
    if n > 0 and receiver != NULL:
        receiver(got, n)

cdef int serial_getc() noexcept nogil:
    """The next received byte, or -1 when none is waiting."""
    global rx_head
    cdef uint64_t flags = waitq_lock()  # the interrupt must not take the byte between LSR and RBR
    cdef int c = -1
    if rx_head != rx_tail:
        c = rx_ring[rx_head % SERIAL_RX_RING]
        rx_head += 1
    elif inb(COM1_PORT + UART_LSR) & LSR_DATA_READY:
        c = inb(COM1_PORT + UART_DATA)
    waitq_unlock(flags)
    return c

cdef bint serial_rx_ready() noexcept nogil:
    return rx_head != rx_tail or (inb(COM1_PORT + UART_LSR) & LSR_DATA_READY) != 0

cdef bint serial_enable_rx_irq(int vector) noexcept nogil:
    global rx_irq
    if not serial_present:
        return False
    trap_set_handler(vector, serial_irq)
    if not ioapic_route(COM1_GSI, vector):
        trap_set_handler(vector, NULL)
        return False
    outb(COM1_PORT + UART_IER, IER_RX_AVAILABLE)
    rx_irq = True
    return True

cdef bint serial_rx_irq_enabled() noexcept nogil:
    return rx_irq
