/* Threads: pthread_create/join x8 with a mutex-protected counter, per-thread TLS, return
 * values, condition variables (signal/broadcast, timedwait -> ETIMEDOUT), detached threads,
 * raw futex(2) WAIT/WAKE/BITSET with their error paths (EAGAIN, ETIMEDOUT, EINVAL, EFAULT,
 * ENOSYS) and exact wake counts, gettid, sched_yield. */
#include "common.h"
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* <linux/futex.h> (musl-gcc has no kernel headers) */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_BITSET_PRIVATE (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu

#define NTHREADS 8
#define ITERS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread long tls_value = 42;
static atomic_int tids_distinct = 1;
static pid_t main_tid;

static long futex(void *addr, int op, unsigned val, const struct timespec *ts, void *addr2, unsigned val3)
{
    return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    if (tls_value != 42)
        return (void *)-1;
    tls_value = id;
    if (gettid() == main_tid || gettid() == getpid())
        tids_distinct = 0;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        if (i % 5000 == 0)
            sched_yield();
    }
    return (void *)(tls_value * 100);
}

/* condition variables */
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage, arrived;

static void *cond_waiter(void *arg)
{
    pthread_mutex_lock(&cm);
    arrived++;
    pthread_cond_broadcast(&cv);
    while (stage == 0)
        pthread_cond_wait(&cv, &cm);
    pthread_mutex_unlock(&cm);
    return NULL;
}

/* raw futex waiters */
static atomic_uint fword;
static atomic_int fready, fwoken_ok;

static void *futex_waiter(void *arg)
{
    atomic_fetch_add(&fready, 1);
    for (;;) {
        long r = futex(&fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        if (r == 0 || atomic_load(&fword) != 0)
            break;
        if (errno != EAGAIN && errno != EINTR)
            return (void *)1;
    }
    atomic_fetch_add(&fwoken_ok, 1);
    return NULL;
}

static atomic_int detached_done;
static void *detached(void *arg)
{
    atomic_fetch_add(&detached_done, 1);
    return NULL;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(void)
{
    pthread_t th[NTHREADS];
    setvbuf(stdout, NULL, _IOLBF, 0);
    main_tid = gettid();
    V("main tid == pid", main_tid == getpid());

    SECTION("create/join");
    int created = 0;
    for (long i = 0; i < NTHREADS; i++)
        created += pthread_create(&th[i], NULL, worker, (void *)(i + 1)) == 0;
    V("created", created);
    long sum = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        if (pthread_join(th[i], &ret) == 0)
            sum += (long)ret;
    }
    V("counter", counter);
    V("return values", sum);             /* 100 * (1 + ... + 8) */
    V("main tls untouched", tls_value);
    V("thread tids distinct", tids_distinct);

    SECTION("condvar");
    pthread_t cw[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&cw[i], NULL, cond_waiter, NULL);
    pthread_mutex_lock(&cm);
    while (arrived < 3)
        pthread_cond_wait(&cv, &cm);
    stage = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&cm);
    int joined = 0;
    for (int i = 0; i < 3; i++)
        joined += pthread_join(cw[i], NULL) == 0;
    V("broadcast woke all", joined);

    struct timespec deadline, t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 50 * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&cm);
    P("cond_timedwait", pthread_cond_timedwait(&cv, &cm, &deadline));
    pthread_mutex_unlock(&cm);
    V("waited >= 50ms", ms_since(&t0) >= 49);
    V("waited < 5s", ms_since(&t0) < 5000);
    pthread_mutex_lock(&lock);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 0;
    deadline.tv_nsec = (deadline.tv_nsec + 20000000) % 1000000000;
    if (deadline.tv_nsec < 20000000)
        deadline.tv_sec++;
    /* a mutex held by ourselves (normal type): timedlock times out */
    P("mutex_timedlock", pthread_mutex_timedlock(&lock, &deadline));
    P("mutex_trylock busy", pthread_mutex_trylock(&lock));
    pthread_mutex_unlock(&lock);
    P("mutex_trylock free", pthread_mutex_trylock(&lock));
    pthread_mutex_unlock(&lock);

    SECTION("futex");
    unsigned w = 1;
    R("wait value mismatch", futex(&w, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0));
    struct timespec ts = {0, 20 * 1000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    R("wait timeout", futex(&w, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0));
    V("timeout >= 20ms", ms_since(&t0) >= 19);
    R("wait shared timeout", futex(&w, FUTEX_WAIT, 1, &ts, NULL, 0));
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 10 * 1000000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    R("wait_bitset absolute timeout", futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 1, &abs, NULL, FUTEX_BITSET_MATCH_ANY));
    struct timespec past = {0, 0};
    R("wait_bitset past deadline", futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 1, &past, NULL, FUTEX_BITSET_MATCH_ANY));
    R("wait_bitset realtime past", futex(&w, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &past, NULL, ~0u));
    R("wait_bitset zero bitset", futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 1, &ts, NULL, 0));
    R("wake_bitset zero bitset", futex(&w, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0));
    R("wake nobody", futex(&w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    R("wake nobody all", futex(&w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
    R("wait unaligned", futex((char *)&w + 1, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0));
    R("wake unaligned", futex((char *)&w + 1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    R("wait efault", futex((void *)8, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0));
    R("wait bad timeout ptr", futex(&w, FUTEX_WAIT_PRIVATE, 1, (void *)8, NULL, 0));
    struct timespec badts = {0, 1000000000};
    R("wait bad timeout nsec", futex(&w, FUTEX_WAIT_PRIVATE, 1, &badts, NULL, 0));
    R("realtime flag on wait", futex(&w, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &ts, NULL, 0));
    R("unknown op", futex(&w, 99, 0, NULL, NULL, 0));

    /* three waiters; wake them one at a time until all three were woken */
    pthread_t fw[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&fw[i], NULL, futex_waiter, NULL);
    while (atomic_load(&fready) < 3)
        sched_yield();
    long woken = 0;
    struct timespec nap = {0, 1000000};
    for (int tries = 0; woken < 2 && tries < 5000; tries++) {
        long n = futex(&fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        if (n > 1)
            woken += 100;      /* never more than asked for */
        woken += n > 0 ? n : 0;
        if (n == 0)
            nanosleep(&nap, NULL);
    }
    V("woken one by one", woken);
    atomic_store(&fword, 1);       /* the last one: change the word, then wake all */
    long last = futex(&fword, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    V("last wake <= 1", last <= 1);
    long ret_ok = 0;
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(fw[i], &r);
        ret_ok += r == NULL;
    }
    V("futex waiters finished", ret_ok);
    V("futex waiters woken", atomic_load(&fwoken_ok));

    SECTION("detached");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int dcreated = 0;
    for (int i = 0; i < 16; i++) {
        pthread_t d;
        dcreated += pthread_create(&d, &attr, detached, NULL) == 0;
    }
    V("detached created", dcreated);
    for (int i = 0; i < 5000 && atomic_load(&detached_done) < 16; i++)
        nanosleep(&nap, NULL);
    V("detached ran", atomic_load(&detached_done));
    /* creating after detached exits must not deadlock (clear-tid wake of the thread-list lock) */
    pthread_t again;
    P("create after detached", pthread_create(&again, NULL, detached, NULL));
    P("join it", pthread_join(again, NULL));
    R("sched_yield", sched_yield());
    return 0;
}
