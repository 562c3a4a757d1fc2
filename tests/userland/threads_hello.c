#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
static void *worker(void *arg) { return (void *)((long)arg * 2); }
int main(int argc, char **argv) {
    printf("hello from musl on tyn: argc=%d argv0=%s\n", argc, argv[0]);
    char *p = malloc(1 << 20); memset(p, 7, 1 << 20); printf("malloc ok %d\n", p[12345]);
    pthread_t t[4]; void *r; long sum = 0;
    for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, worker, (void *)i);
    for (int i = 0; i < 4; i++) { pthread_join(t[i], &r); sum += (long)r; }
    printf("threads ok sum=%ld\n", sum);
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a); nanosleep(&(struct timespec){0, 20000000}, 0); clock_gettime(CLOCK_MONOTONIC, &b);
    printf("slept >=20ms: %d\n", (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) >= 20000000);
    return 3;
}
