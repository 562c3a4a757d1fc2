cdef enum:
    # QEMU's isa-debug-exit device: writing v exits QEMU with status (v << 1) | 1.
    DEBUG_EXIT_PORT = 0xF4
    # Guest statuses that fit QEMU's 8-bit exit status, and the ones the kernel reserves.
    EXIT_STATUS_MAX = 125
    EXIT_STATUS_CLIPPED = 126   # the guest's status was above EXIT_STATUS_MAX (console has it)
    EXIT_STATUS_PANIC = 127     # kernel panic

cdef extern void power_exit(int status) noexcept nogil
cdef extern void power_halt_forever() noexcept nogil
