/* Timer precision: how long nanosleep(1 ms) and a 2 ms timerfd period really take.
 * One line per figure: "<name> <milliseconds>". */
#include <stdint.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 20

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(void)
{
    struct timespec one_ms = {0, 1000000};
    double start = now_ms(), worst = 0;
    for (int i = 0; i < ROUNDS; i++) {
        double a = now_ms();
        nanosleep(&one_ms, 0);
        double took = now_ms() - a;
        if (took > worst)
            worst = took;
    }
    printf("nanosleep_1ms_avg %.3f\n", (now_ms() - start) / ROUNDS);
    printf("nanosleep_1ms_worst %.3f\n", worst);
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec period = {{0, 2000000}, {0, 2000000}};
    timerfd_settime(fd, 0, &period, 0);
    uint64_t expiries = 0, n;
    start = now_ms();
    while (expiries < ROUNDS && read(fd, &n, sizeof n) == sizeof n)
        expiries += n;
    printf("timerfd_2ms_x20 %.3f\n", now_ms() - start);
    return 0;
}
