/* Tyn's vDSO: clock_gettime, gettimeofday, time and clock_getres without a system call
 * when the TSC is usable from user mode, with the kernel's own arithmetic (so a vDSO
 * reading and a system call reading never disagree).  Anything else -- other clocks, an
 * unusable TSC -- is the system call itself.  Freestanding user code, built by
 * tyn.build.kernel into a shared object that the kernel maps into every process. */
#include <stdint.h>
#include <stddef.h>
#include <tyn/vdso_data.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_USEC 1000ULL
#define SYS_gettimeofday 96
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7

struct vdso_timespec { int64_t tv_sec; int64_t tv_nsec; };
struct vdso_timeval { int64_t tv_sec; int64_t tv_usec; };
struct vdso_timezone { int tz_minuteswest; int tz_dsttime; };

/* The data page sits one page below the vDSO's first byte (vdso.lds). */
extern const volatile struct vdso_data vdso_vvar __attribute__((visibility("hidden")));

static inline long syscall2(long n, long a, long b)
{
    long r;
    __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile ("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* 1 and *ns set when the clock is computed here; 0: ask the kernel. */
static int clock_ns(long clock, uint64_t *ns)
{
    uint32_t seq;
    uint64_t ticks, hz, epoch;
    int realtime;
    switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE:
        realtime = 1;
        break;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
        realtime = 0;
        break;
    default:
        return 0;
    }
    do {
        seq = vdso_vvar.seq;
        __asm__ volatile ("" ::: "memory");
        if (!vdso_vvar.tsc_usable)
            return 0;
        hz = vdso_vvar.tsc_hz;
        epoch = vdso_vvar.boot_epoch_ns;
        ticks = rdtsc() - vdso_vvar.boot_tsc;
        __asm__ volatile ("" ::: "memory");
    } while ((seq & 1) || seq != vdso_vvar.seq);
    /* arch/tsc.pyx tsc_to_ns, exactly */
    *ns = (ticks / hz) * NSEC_PER_SEC + (ticks % hz) * NSEC_PER_SEC / hz + (realtime ? epoch : 0);
    return 1;
}

int __vdso_clock_gettime(long clock, struct vdso_timespec *ts)
{
    uint64_t ns;
    if (!clock_ns(clock, &ns))
        return (int)syscall2(SYS_clock_gettime, clock, (long)ts);
    ts->tv_sec = (int64_t)(ns / NSEC_PER_SEC);
    ts->tv_nsec = (int64_t)(ns % NSEC_PER_SEC);
    return 0;
}

int __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz)
{
    uint64_t ns;
    if (!clock_ns(CLOCK_REALTIME, &ns))
        return (int)syscall2(SYS_gettimeofday, (long)tv, (long)tz);
    if (tv) {
        tv->tv_sec = (int64_t)(ns / NSEC_PER_SEC);
        tv->tv_usec = (int64_t)((ns % NSEC_PER_SEC) / NSEC_PER_USEC);
    }
    if (tz) {
        tz->tz_minuteswest = 0;     /* the kernel's timezone: UTC, no DST */
        tz->tz_dsttime = 0;
    }
    return 0;
}

int64_t __vdso_time(int64_t *t)
{
    uint64_t ns;
    int64_t s;
    struct vdso_timespec ts;
    long r;
    if (clock_ns(CLOCK_REALTIME, &ns)) {
        s = (int64_t)(ns / NSEC_PER_SEC);
    } else {
        /* time(2) is CLOCK_REALTIME's seconds; the kernel has no separate time call */
        r = syscall2(SYS_clock_gettime, CLOCK_REALTIME, (long)&ts);
        if (r != 0)
            return r;
        s = ts.tv_sec;
    }
    if (t)
        *t = s;
    return s;
}

int __vdso_clock_getres(long clock, struct vdso_timespec *res)
{
    return (int)syscall2(SYS_clock_getres, clock, (long)res);
}

int clock_gettime(long, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval *, struct vdso_timezone *) __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(long, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
