# Measure the TSC against the 8254 PIT (channel 0 free-running, read by latching).
from libc.stdint cimport uint16_t, uint64_t
from tyn.arch.cpu cimport outb, inb, rdtsc

cdef enum:
    PIT_STALL_LIMIT = 1000000   # reads without the count moving: no PIT here

cdef uint16_t read_count() noexcept nogil:
    outb(PIT_COMMAND_PORT, PIT_SELECT_CHANNEL0 | PIT_ACCESS_LATCH)
    cdef uint16_t lo = inb(PIT_CHANNEL0_PORT)
    cdef uint16_t hi = inb(PIT_CHANNEL0_PORT)
    return lo | (hi << 8)

cdef uint64_t pit_measure_tsc_hz(uint64_t pit_ticks) noexcept nogil:
    cdef uint64_t elapsed = 0, stalls = 0, t0, t1
    cdef uint16_t previous, current
    outb(PIT_COMMAND_PORT, PIT_SELECT_CHANNEL0 | PIT_ACCESS_LOHI | PIT_MODE_RATE_GENERATOR)
    outb(PIT_CHANNEL0_PORT, PIT_RELOAD_MAX & 0xFF)
    outb(PIT_CHANNEL0_PORT, PIT_RELOAD_MAX >> 8)
    previous = read_count()
    # Start on a count change so the window begins on a PIT tick edge.
    while True:
        current = read_count()
        if current != previous:
            break
        stalls += 1
        if stalls > PIT_STALL_LIMIT:
            return 0
    t0 = rdtsc()
    previous = current
    while elapsed < pit_ticks:
        current = read_count()
        # The counter counts down and reloads at PIT_RELOAD_MAX: the difference mod 2^16.
        elapsed += <uint16_t>(previous - current)
        previous = current
    t1 = rdtsc()
    return (t1 - t0) * PIT_HZ // elapsed
