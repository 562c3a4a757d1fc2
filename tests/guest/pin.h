/* Pinning the calling thread for the cross-CPU programs (wakeups.c, teardown.c): pin_init()
 * counts the CPUs the program may use; pin(cpu) moves the caller to CPU (cpu mod that count),
 * and does nothing on one CPU, so the same program runs at any --smp and on any host. */
#ifndef TYN_GUEST_PIN_H
#define TYN_GUEST_PIN_H
#include <sched.h>

static int ncpus;

static void pin_init(void)
{
    cpu_set_t set;
    sched_getaffinity(0, sizeof set, &set);
    ncpus = CPU_COUNT(&set);
}

static void pin(int cpu)
{
    cpu_set_t set;
    if (ncpus < 2)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu % ncpus, &set);
    sched_setaffinity(0, sizeof set, &set);
}
#endif
