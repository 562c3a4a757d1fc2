# The stack's notion of now (monotonic ns) for paths that have no now_ns argument (a frame
# arriving stamps its ARP entry, a fragment its reassembly deadline).
#
# The timer path hands the time in explicitly (netif_timers_run(now_ns)), which advances
# this clock; the kernel also sets a source (the monotonic clock) so that input between
# timer runs reads the true time.  Host tests set no source: time is what the test last
# passed to netif_timers_run, a simulated clock.  Never goes backwards.
from libc.stdint cimport uint64_t

ctypedef uint64_t (*netclock_source_fn)() noexcept nogil

cdef extern uint64_t netclock_now_ns() noexcept nogil
cdef extern void netclock_advance(uint64_t now_ns) noexcept nogil
cdef extern void netclock_set_source(netclock_source_fn fn) noexcept nogil
cdef extern void netclock_reset() noexcept nogil
