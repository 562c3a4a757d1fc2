# Kernel profile counters: see kprofile.pxd.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport rdtsc
from tyn.arch.tsc cimport tsc_to_ns, tsc_hz
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.sys.numbers cimport SYSCALL_COUNT
from tyn.sys.table cimport syscall_name

# Several CPUs add to one counter at once: each add is one atomic read-modify-write.
cdef extern from *:
    """
    static inline void tyn_profile_add(volatile unsigned long long *p, unsigned long long v) {
        __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
    }
    """
    void tyn_profile_add(volatile unsigned long long *p, unsigned long long v) nogil

cdef bint enabled
cdef uint64_t event_count[PROFILE_EVENT_COUNT]
cdef uint64_t event_cycles[PROFILE_EVENT_COUNT]
cdef uint64_t syscall_count[SYSCALL_COUNT]
cdef uint64_t syscall_cycles[SYSCALL_COUNT]

cdef void profile_enable(bint on) noexcept nogil:
    global enabled
    enabled = on

cdef bint profile_enabled() noexcept nogil:
    return enabled

cdef uint64_t profile_begin() noexcept nogil:
    return rdtsc() if enabled else 0

cdef void profile_end_event(int event, uint64_t started) noexcept nogil:
    if started != 0 and 0 <= event < PROFILE_EVENT_COUNT:
        tyn_profile_add(<volatile unsigned long long *>&event_count[event], 1)
        tyn_profile_add(<volatile unsigned long long *>&event_cycles[event], rdtsc() - started)

cdef void profile_end_syscall(uint64_t number, uint64_t started) noexcept nogil:
    if started != 0 and number < SYSCALL_COUNT:
        tyn_profile_add(<volatile unsigned long long *>&syscall_count[number], 1)
        tyn_profile_add(<volatile unsigned long long *>&syscall_cycles[number], rdtsc() - started)

cdef const char *event_name(int event) noexcept nogil:
    if event == PROFILE_PAGE_FAULT:
        return b"page fault"
    if event == PROFILE_FORK_COPY:
        return b"fork copy"
    if event == PROFILE_CONTEXT_SWITCH:
        return b"context switch"
    if event == PROFILE_ADDRESS_SPACE_FREE:
        return b"address space free"
    if event == PROFILE_KERNEL_LOCK_WAIT:
        return b"kernel_lock wait"
    return b"?"

cdef void line(const char *kind, const char *name, uint64_t count, uint64_t cycles) noexcept nogil:
    kputs(b"tyn: profile: ")
    kputs(kind)
    kputs(name)
    kputs(b" count ")
    kput_udec(count)
    kputs(b" total_us ")
    kput_udec(tsc_to_ns(cycles, tsc_hz()) // 1000)
    kputs(b"\n")

ctypedef const char *(*name_fn)(uint64_t index) noexcept nogil

cdef const char *event_label(uint64_t index) noexcept nogil:
    return event_name(<int>index)

cdef void report_table(const char *kind, const uint64_t *count, const uint64_t *cycles, uint64_t n,
                       name_fn name) noexcept nogil:
    """The entries that happened, largest total first (a selection sort: few entries)."""
    cdef uint64_t i, best, floor = <uint64_t>0 - 1
    cdef uint64_t floor_index = n
    # Each round takes the largest total below the previous one (ties: by index).
    while True:
        best = n
        for i in range(n):
            if count[i] == 0:
                continue
            if cycles[i] > floor or (cycles[i] == floor and i <= floor_index):
                continue
            if best == n or cycles[i] > cycles[best]:
                best = i
        if best == n:
            return
        line(kind, name(best), count[best], cycles[best])
        floor = cycles[best]
        floor_index = best

cdef void profile_report() noexcept nogil:
    if not enabled:
        return
    report_table(b"", event_count, event_cycles, PROFILE_EVENT_COUNT, event_label)
    report_table(b"syscall ", syscall_count, syscall_cycles, SYSCALL_COUNT, syscall_name)
