# Measure the TSC against the 8254 PIT (channel 0 free-running, read by latching).
#
# Each time the count is seen to change (an edge), the instant the PIT reached the new
# count is known to lie between the start of the previous read and the end of this one,
# in TSC ticks.  The window runs from the narrowest early edge to a later edge and ends
# as soon as the two intervals' half-widths are within `ppm` of its length, so a fast
# read path needs a few ms and a read delayed by a busy host only delays the end; at
# max_ticks the best window seen is used.
from libc.stdint cimport uint16_t, uint64_t
from tyn.arch.cpu cimport outb, inb, rdtsc

cdef enum:
    PIT_STALL_LIMIT = 1000000   # reads without the count moving: no PIT here
    PPM = 1000000
    START_SHARE = 4             # the window's start is chosen within the first 1/4 of max_ticks

cdef uint16_t read_count() noexcept nogil:
    outb(PIT_COMMAND_PORT, PIT_SELECT_CHANNEL0 | PIT_ACCESS_LATCH)
    cdef uint16_t lo = inb(PIT_CHANNEL0_PORT)
    cdef uint16_t hi = inb(PIT_CHANNEL0_PORT)
    return lo | (hi << 8)

cdef uint64_t pit_measure_tsc_hz(uint64_t min_ticks, uint64_t max_ticks, uint64_t ppm,
                                 uint64_t *window_tsc, uint64_t *error_ppm) noexcept nogil:
    cdef uint64_t ticks = 0, stalls = 0, before, after, prev_before
    cdef uint64_t start_lo = 0, start_hi = 0, start_ticks = 0, have_start = 0
    cdef uint64_t span, slack, best_span = 0, best_slack = 0, best_ticks = 0
    cdef uint16_t previous, current
    outb(PIT_COMMAND_PORT, PIT_SELECT_CHANNEL0 | PIT_ACCESS_LOHI | PIT_MODE_RATE_GENERATOR)
    outb(PIT_CHANNEL0_PORT, PIT_RELOAD_MAX & 0xFF)
    outb(PIT_CHANNEL0_PORT, PIT_RELOAD_MAX >> 8)
    prev_before = rdtsc()
    previous = read_count()
    while True:
        before = rdtsc()
        current = read_count()
        after = rdtsc()
        if current == previous:
            prev_before = before
            stalls += 1
            if stalls > PIT_STALL_LIMIT:
                return 0
            continue
        stalls = 0
        # The counter counts down and reloads at PIT_RELOAD_MAX: the difference mod 2^16.
        if have_start:
            ticks += <uint16_t>(previous - current)
        previous = current
        # This edge as the window's start, if it is the narrowest so far.
        if ticks * START_SHARE < max_ticks and (not have_start or after - prev_before < start_hi - start_lo):
            start_lo, start_hi, start_ticks, have_start = prev_before, after, ticks, 1
        elif ticks - start_ticks >= min_ticks:
            # TSC between the two intervals' midpoints, and how far off it can be.
            span = (prev_before + after) // 2 - (start_lo + start_hi) // 2
            slack = ((start_hi - start_lo) + (after - prev_before)) // 2
            if best_span == 0 or slack * best_span < best_slack * span:
                best_span, best_slack, best_ticks = span, slack, ticks - start_ticks
            if slack * PPM <= span * ppm or ticks >= max_ticks:
                break
        prev_before = before
    window_tsc[0] = best_span
    error_ppm[0] = best_slack * PPM // best_span
    return best_span * PIT_HZ // best_ticks
