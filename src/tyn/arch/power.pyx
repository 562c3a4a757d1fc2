# Leaving the machine: QEMU's isa-debug-exit carries the exit status to the host.
from tyn.arch.cpu cimport outl, irq_disable, cpu_halt
from tyn.lib.kprint cimport kputs, kput_dec

cdef void power_exit(int status) noexcept nogil:
    """Exit QEMU with `status`; statuses QEMU cannot carry are clipped and printed."""
    if status < 0 or status > EXIT_STATUS_MAX:
        if status != EXIT_STATUS_PANIC:
            kputs(b"tyn: exit status ")
            kput_dec(status)
            kputs(b"\n")
            status = EXIT_STATUS_CLIPPED
    outl(DEBUG_EXIT_PORT, <unsigned int>status)
    # Still here: no isa-debug-exit device on this machine.
    kputs(b"tyn: no isa-debug-exit device at port 0xf4; halted\n")
    power_halt_forever()

cdef void power_halt_forever() noexcept nogil:
    irq_disable()
    while True:
        cpu_halt()
