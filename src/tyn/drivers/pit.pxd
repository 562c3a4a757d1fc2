from libc.stdint cimport uint16_t, uint64_t

# Intel 8254 programmable interval timer: only used as a reference clock to calibrate the TSC.
cdef enum:
    PIT_HZ = 1193182
    PIT_CHANNEL0_PORT = 0x40
    PIT_COMMAND_PORT = 0x43
    PIT_SELECT_CHANNEL0 = 0 << 6
    PIT_ACCESS_LATCH = 0 << 4
    PIT_ACCESS_LOHI = 3 << 4
    PIT_MODE_RATE_GENERATOR = 2 << 1
    PIT_RELOAD_MAX = 0xFFFF

# TSC ticks per second measured against channel 0; 0 if the PIT is absent.  The window
# lasts at least min_ticks PIT ticks and ends once the TSC uncertainty of its two ends is
# within ppm of its length, or at max_ticks.  *window_tsc: the window's length in TSC
# ticks; *error_ppm: the bound on the result's error that the window gives.
cdef extern uint64_t pit_measure_tsc_hz(uint64_t min_ticks, uint64_t max_ticks, uint64_t ppm,
                                        uint64_t *window_tsc, uint64_t *error_ppm) noexcept nogil
