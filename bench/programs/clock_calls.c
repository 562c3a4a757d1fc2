/* clock_gettime(CLOCK_MONOTONIC) calls per second: musl's (the vDSO when AT_SYSINFO_EHDR
 * offers one) and the raw system call.  One line per figure: "<name> <value>". */
#include <stdint.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CALLS 200000

static double seconds(void)
{
    struct timespec t;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
    struct timespec t;
    double start = seconds();
    for (int i = 0; i < CALLS; i++)
        clock_gettime(CLOCK_MONOTONIC, &t);
    double libc = seconds() - start;
    start = seconds();
    for (int i = 0; i < CALLS; i++)
        syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    double sys = seconds() - start;
    printf("vdso_present %d\n", getauxval(AT_SYSINFO_EHDR) != 0);
    printf("libc_clock_gettime_per_s %.0f\n", CALLS / libc);
    printf("syscall_clock_gettime_per_s %.0f\n", CALLS / sys);
    return 0;
}
