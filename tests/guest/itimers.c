/* Interval timers and waiting for signals: setitimer/getitimer (ITIMER_REAL), alarm's
 * rounding, SIGALRM's siginfo (SI_KERNEL), periodic expiry taken with sigtimedwait,
 * pause interrupted by a handler. */
#include "common.h"
#include <signal.h>
#include <sys/time.h>
#include <time.h>

static volatile int alarms;
static volatile int alarm_code;

static void on_alarm(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    alarms++;
    alarm_code = si->si_code;
}

static long us(const struct timeval *tv)
{
    return tv->tv_sec * 1000000L + tv->tv_usec;
}

int main(void)
{
    struct itimerval v, old;
    setvbuf(stdout, NULL, _IONBF, 0);

    SECTION("getitimer");
    R("initially", getitimer(ITIMER_REAL, &v));
    printf("value %ld interval %ld\n", us(&v.it_value), us(&v.it_interval));
    R("bad which", getitimer(99, &v));
    R("bad address", getitimer(ITIMER_REAL, (void *)8));

    SECTION("setitimer");
    struct itimerval one_second = {{0, 0}, {1, 0}};
    R("arm 1 s", setitimer(ITIMER_REAL, &one_second, &old));
    printf("old value %ld\n", us(&old.it_value));
    R("get", getitimer(ITIMER_REAL, &v));
    printf("0 < value <= 1 s: %d, interval %ld\n", us(&v.it_value) > 0 && us(&v.it_value) <= 1000000,
           us(&v.it_interval));
    struct itimerval off = {{0, 0}, {0, 0}};
    R("disarm", setitimer(ITIMER_REAL, &off, &old));
    printf("old: 0 < value <= 1 s: %d\n", us(&old.it_value) > 0 && us(&old.it_value) <= 1000000);
    R("get disarmed", getitimer(ITIMER_REAL, &v));
    printf("value %ld\n", us(&v.it_value));
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    R("usec out of range", setitimer(ITIMER_REAL, &bad, NULL));
    struct itimerval negative = {{0, 0}, {-1, 0}};
    R("negative", setitimer(ITIMER_REAL, &negative, NULL));

    SECTION("alarm");
    V("alarm(5) first", alarm(5));
    V("alarm(3) returns what was left of 5", alarm(3));
    V("alarm(0) returns 3", alarm(0));
    V("alarm(0) again", alarm(0));

    SECTION("SIGALRM");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alarm;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval soon = {{0, 0}, {0, 30000}};
    R("arm 30 ms", setitimer(ITIMER_REAL, &soon, NULL));
    errno = 0;
    long r = pause();
    printf("pause: %ld %s, alarms %d code %s\n", r, errname(errno), alarms,
           alarm_code == SI_KERNEL ? "SI_KERNEL" : "other");
    R("expired timer reads 0", getitimer(ITIMER_REAL, &v));
    printf("value %ld\n", us(&v.it_value));

    SECTION("periodic");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct itimerval every = {{0, 20000}, {0, 20000}};
    R("arm every 20 ms", setitimer(ITIMER_REAL, &every, NULL));
    for (int i = 0; i < 3; i++) {
        siginfo_t si;
        struct timespec limit = {5, 0};
        int sig = sigtimedwait(&set, &si, &limit);
        printf("tick %d: sig %d code %s\n", i, sig, si.si_code == SI_KERNEL ? "SI_KERNEL" : "other");
    }
    R("get periodic", getitimer(ITIMER_REAL, &v));
    printf("interval %ld, 0 < value <= 20 ms: %d\n", us(&v.it_interval),
           us(&v.it_value) > 0 && us(&v.it_value) <= 20000);
    R("disarm", setitimer(ITIMER_REAL, NULL, &old));
    printf("old interval %ld\n", us(&old.it_interval));
    R("get after NULL set", getitimer(ITIMER_REAL, &v));
    printf("value %ld interval %ld\n", us(&v.it_value), us(&v.it_interval));
    return 0;
}
