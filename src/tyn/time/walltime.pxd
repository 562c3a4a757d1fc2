from libc.stdint cimport int64_t, uint32_t, uint64_t

# CLOCK_REALTIME = the wall-clock time at boot + monotonic time.  The boot time comes from
# the command line (realtime=<ns since the epoch>, which tyn.run passes) or the CMOS RTC.
cdef extern void walltime_init(uint64_t cmdline_epoch_ns) noexcept nogil
cdef extern uint64_t walltime_ns() noexcept nogil
# CLOCK_REALTIME - CLOCK_MONOTONIC (fixed after walltime_init; the vDSO adds it).
cdef extern uint64_t walltime_boot_epoch_ns() noexcept nogil
cdef extern const char *walltime_source() noexcept nogil
# The same as seconds + nanoseconds (file timestamps; the vfs clock hook's signature).
cdef extern void walltime_timespec(int64_t *sec, uint32_t *nsec) noexcept nogil
# Days since 1970-01-01 of a proleptic Gregorian date (tested on the host).
cdef extern int64_t walltime_days_from_civil(int64_t year, uint64_t month, uint64_t day) noexcept nogil
