/* The page the kernel shares with the vDSO (mapped read-only just below it): what user
 * mode needs to compute CLOCK_MONOTONIC/CLOCK_REALTIME exactly as the kernel does
 * (arch/tsc.pyx monotonic_ns, time/walltime.pyx walltime_ns).  The kernel writes it at
 * boot before any process exists; `seq` is odd while it is being changed. */
#ifndef TYN_VDSO_DATA_H
#define TYN_VDSO_DATA_H
#include <stdint.h>

struct vdso_data {
    uint32_t seq;
    uint32_t tsc_usable;        /* 0: user-mode rdtsc is not the kernel's clock: system call */
    uint64_t boot_tsc;          /* TSC at monotonic time 0 */
    uint64_t tsc_hz;
    uint64_t boot_epoch_ns;     /* CLOCK_REALTIME - CLOCK_MONOTONIC */
};
#endif
