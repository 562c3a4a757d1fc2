from libc.stdint cimport int64_t, uint64_t
from tyn.proc.process cimport wait_result

# getrusage(who, usage): RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD.
cdef extern int64_t sys_getrusage(uint64_t who, uint64_t user_usage) noexcept nogil
# times(buf): CPU times in USER_HZ ticks; returns ticks since boot.
cdef extern int64_t sys_times(uint64_t user_tms) noexcept nogil
# sysinfo(info): uptime, load averages, memory, thread count.
cdef extern int64_t sys_sysinfo(uint64_t user_info) noexcept nogil
# wait4/waitid: the reaped child's usage (its own and its children's) to user memory; 0 or -EFAULT.
cdef extern int64_t rusage_put_wait(uint64_t user_usage, const wait_result *res) noexcept nogil
