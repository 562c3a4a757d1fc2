/* ITIMER_VIRTUAL and ITIMER_PROF: a busy loop's CPU time fires SIGVTALRM/SIGPROF (SI_KERNEL)
 * with interval reload; getitimer reports what is left (within the set value plus one
 * tick: Linux adds a tick so the sampled expiry is never early); a blocked process's
 * VIRTUAL timer does not run while it sleeps; errors.  Only deterministic facts print:
 * whether signals arrived, counts >= 1, values within bounds. */
#include "common.h"
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#define TICK_SLACK_US 50000L            /* a tick (4-10 ms on Linux, 10 ms on Tyn) and then some */

static volatile int vtalrms, profs, last_code;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGVTALRM)
        vtalrms++;
    else
        profs++;
    last_code = si->si_code;
}

static long us(const struct timeval *tv)
{
    return tv->tv_sec * 1000000L + tv->tv_usec;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spin in user mode until `cond` counter reaches `want` or `limit` CPU seconds pass. */
static int spin_until(volatile int *counter, int want, double limit)
{
    double start = cpu_seconds();
    volatile unsigned long x = 0;
    while (*counter < want && cpu_seconds() - start < limit)
        for (int i = 0; i < 100000; i++)
            x += i;
    return *counter >= want;
}

int main(void)
{
    struct itimerval v, old;
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGVTALRM, &sa, NULL);
    sigaction(SIGPROF, &sa, NULL);

    SECTION("initially");
    R("getitimer VIRTUAL", getitimer(ITIMER_VIRTUAL, &v));
    printf("value %ld interval %ld\n", us(&v.it_value), us(&v.it_interval));
    R("getitimer PROF", getitimer(ITIMER_PROF, &v));
    printf("value %ld interval %ld\n", us(&v.it_value), us(&v.it_interval));
    R("bad address", getitimer(ITIMER_VIRTUAL, (void *)8));

    SECTION("setitimer values");
    struct itimerval two_s = {{0, 0}, {2, 0}};
    R("arm VIRTUAL 2 s", setitimer(ITIMER_VIRTUAL, &two_s, &old));
    printf("old value %ld\n", us(&old.it_value));
    R("get", getitimer(ITIMER_VIRTUAL, &v));
    printf("0 < value <= 2 s + tick: %d, interval %ld\n",
           us(&v.it_value) > 0 && us(&v.it_value) <= 2000000 + TICK_SLACK_US, us(&v.it_interval));
    struct timespec nap = {0, 50000000};
    nanosleep(&nap, NULL);
    R("get after sleeping 50 ms", getitimer(ITIMER_VIRTUAL, &v));
    printf("sleep costs (almost) no user time: %d\n", us(&v.it_value) > 2000000 - 20000);
    struct itimerval off_with_interval = {{1, 0}, {0, 0}};
    R("disarm (interval kept)", setitimer(ITIMER_VIRTUAL, &off_with_interval, &old));
    printf("old: 0 < value <= 2 s + tick: %d\n", us(&old.it_value) > 0 && us(&old.it_value) <= 2000000 + TICK_SLACK_US);
    R("get disarmed", getitimer(ITIMER_VIRTUAL, &v));
    printf("value %ld interval %ld\n", us(&v.it_value), us(&v.it_interval));
    struct itimerval off = {{0, 0}, {0, 0}};
    R("clear", setitimer(ITIMER_VIRTUAL, &off, NULL));
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    R("usec out of range", setitimer(ITIMER_PROF, &bad, NULL));
    struct itimerval negative = {{0, -1}, {1, 0}};
    R("negative interval", setitimer(ITIMER_PROF, &negative, NULL));
    R("bad which", setitimer(3, &two_s, NULL));
    R("bad new address", setitimer(ITIMER_PROF, (void *)8, NULL));

    SECTION("SIGVTALRM from a busy loop");
    struct itimerval every_20ms = {{0, 20000}, {0, 20000}};
    R("arm VIRTUAL every 20 ms", setitimer(ITIMER_VIRTUAL, &every_20ms, NULL));
    printf("3 signals within 5 CPU s: %d, code %s\n", spin_until(&vtalrms, 3, 5.0),
           last_code == SI_KERNEL ? "SI_KERNEL" : "other");
    R("get", getitimer(ITIMER_VIRTUAL, &v));
    printf("0 < value <= 20 ms + tick: %d, interval %ld\n",
           us(&v.it_value) > 0 && us(&v.it_value) <= 20000 + TICK_SLACK_US, us(&v.it_interval));
    R("stop", setitimer(ITIMER_VIRTUAL, &off, NULL));

    SECTION("SIGPROF once");
    struct itimerval once = {{0, 0}, {0, 30000}};
    R("arm PROF 30 ms, no interval", setitimer(ITIMER_PROF, &once, NULL));
    printf("signal within 5 CPU s: %d\n", spin_until(&profs, 1, 5.0));
    int after = profs;
    spin_until(&profs, after + 1, 0.2);
    printf("no reload: %d\n", profs == after);
    R("get", getitimer(ITIMER_PROF, &v));
    printf("value %ld interval %ld\n", us(&v.it_value), us(&v.it_interval));

    SECTION("blocked signal");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGVTALRM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    vtalrms = 0;
    R("arm VIRTUAL 10 ms", setitimer(ITIMER_VIRTUAL, &(struct itimerval){{0, 0}, {0, 10000}}, NULL));
    siginfo_t si;
    volatile int never = 0;
    spin_until(&never, 1, 0.3);
    struct timespec zero = {0, 0};
    int sig = sigtimedwait(&set, &si, &zero);
    printf("pending after spinning: %d, code %s, handler ran %d\n", sig == SIGVTALRM,
           si.si_code == SI_KERNEL ? "SI_KERNEL" : "other", vtalrms);
    return 0;
}
