/* Time: clock_gettime (MONOTONIC increases, never backwards over many reads, REALTIME
 * plausible, BOOTTIME/MONOTONIC_RAW/COARSE/CPUTIME clocks exist), clock_getres,
 * nanosleep / clock_nanosleep (relative and TIMER_ABSTIME) sleeping at least as asked,
 * gettimeofday/time (musl's and the time(2) system call) agreeing with REALTIME, and the
 * error paths (EINVAL, EFAULT). */
#include "common.h"
#include <sys/time.h>
#include <time.h>

static long long ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static long long now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return ns(&t);
}

static long sys_clock_gettime(clockid_t c, void *p) { return syscall(SYS_clock_gettime, c, p); }

int main(void)
{
    struct timespec t1, t2, res;
    setvbuf(stdout, NULL, _IOLBF, 0);

    SECTION("clocks");
    static const struct { clockid_t id; const char *name; } clocks[] = {
        {CLOCK_REALTIME, "REALTIME"}, {CLOCK_MONOTONIC, "MONOTONIC"},
        {CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME"}, {CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME"},
        {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"}, {CLOCK_REALTIME_COARSE, "REALTIME_COARSE"},
        {CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE"}, {CLOCK_BOOTTIME, "BOOTTIME"},
    };
    for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        char label[64];
        snprintf(label, sizeof label, "gettime %s", clocks[i].name);
        R(label, sys_clock_gettime(clocks[i].id, &t1));
        snprintf(label, sizeof label, "nsec in range %s", clocks[i].name);
        V(label, t1.tv_nsec >= 0 && t1.tv_nsec < 1000000000);
    }
    R("gettime bad clock", sys_clock_gettime(99, &t1));
    R("gettime negative clock", sys_clock_gettime(-100, &t1));
    R("gettime efault", sys_clock_gettime(CLOCK_MONOTONIC, (void *)8));

    SECTION("getres");
    R("getres MONOTONIC", syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res));
    V("MONOTONIC res sec", res.tv_sec);
    V("MONOTONIC res nsec", res.tv_nsec);
    R("getres REALTIME", syscall(SYS_clock_getres, CLOCK_REALTIME, &res));
    V("REALTIME res nsec", res.tv_nsec);
    R("getres NULL", syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
    R("getres bad clock", syscall(SYS_clock_getres, 99, &res));
    R("getres efault", syscall(SYS_clock_getres, CLOCK_MONOTONIC, (void *)8));

    SECTION("monotonic");
    long long prev = now(CLOCK_MONOTONIC), backwards = 0, advanced = 0;
    for (int i = 0; i < 100000; i++) {
        long long t = now(CLOCK_MONOTONIC);
        backwards += t < prev;
        advanced += t > prev;
        prev = t;
    }
    V("never backwards", backwards == 0);
    V("advances", advanced > 0);
    long long r0 = now(CLOCK_REALTIME);
    V("realtime after 2024", r0 / 1000000000LL > 1704067200LL);
    V("realtime before 2100", r0 / 1000000000LL < 4102444800LL);
    struct timeval tv;
    R("gettimeofday", gettimeofday(&tv, NULL));
    V("gettimeofday ~ realtime", llabs((tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL) - r0) < 5000000000LL);
    V("time ~ realtime", llabs((long long)time(NULL) - r0 / 1000000000LL) <= 5);
    long long mono = now(CLOCK_MONOTONIC);
    V("boottime >= monotonic", now(CLOCK_BOOTTIME) >= mono);

    SECTION("sleep");
    struct timespec d = {0, 20 * 1000000}, rem = {7, 7};
    clock_gettime(CLOCK_MONOTONIC, &t1);
    R("nanosleep 20ms", nanosleep(&d, &rem));
    clock_gettime(CLOCK_MONOTONIC, &t2);
    V("slept >= 20ms", ns(&t2) - ns(&t1) >= 20000000);
    V("slept < 2s", ns(&t2) - ns(&t1) < 2000000000);
    V("t2>t1", ns(&t2) > ns(&t1));
    d.tv_nsec = 0;
    R("nanosleep 0", nanosleep(&d, NULL));
    struct timespec bad = {0, 1000000000};
    R("nanosleep nsec too big", syscall(SYS_nanosleep, &bad, NULL));
    struct timespec neg = {-1, 0};
    R("nanosleep negative", syscall(SYS_nanosleep, &neg, NULL));
    R("nanosleep efault", syscall(SYS_nanosleep, (void *)8, NULL));
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 15 * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    P("clock_nanosleep abstime", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL));
    clock_gettime(CLOCK_MONOTONIC, &t2);
    V("reached deadline", ns(&t2) >= ns(&until));
    struct timespec past = {1, 0};
    P("clock_nanosleep past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));
    d.tv_nsec = 5 * 1000000;
    P("clock_nanosleep relative", clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL));
    P("clock_nanosleep bad clock", clock_nanosleep(99, 0, &d, NULL));
    P("clock_nanosleep thread cputime", clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL));

    SECTION("time(2)");
    time_t tloc = 0;
    long t0 = syscall(SYS_time, NULL);           /* the system call, not musl's clock_gettime */
    long t = syscall(SYS_time, &tloc);
    clock_gettime(CLOCK_REALTIME, &t1);
    V("time(NULL) agrees with REALTIME", t0 > 1600000000L && labs(t0 - (long)t1.tv_sec) <= 1);
    V("time stores what it returns", t == (long)tloc);
    V("time monotone", t >= t0);
    R("time bad pointer", syscall(SYS_time, (void *)1));

    SECTION("cpu time");
    long long c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    volatile unsigned long spin = 0;
    for (unsigned long i = 0; i < 20000000UL; i++)
        spin += i;
    V("cputime advances", now(CLOCK_PROCESS_CPUTIME_ID) > c0);
    return 0;
}
