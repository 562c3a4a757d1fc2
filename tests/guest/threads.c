/* Threads: pthread_create/join x8 with a mutex-protected counter, per-thread TLS, return
 * values, condition variables (signal/broadcast, timedwait -> ETIMEDOUT), detached threads,
 * raw futex(2) WAIT/WAKE/BITSET with their error paths (EAGAIN, ETIMEDOUT, EINVAL, EFAULT,
 * ENOSYS) and exact wake counts, gettid, sched_yield; and what needs two CPUs to go wrong:
 * concurrent futex wait/wake ping-pong, a condition-variable broadcast to 6 sleepers (all
 * wake), FUTEX_REQUEUE/CMP_REQUEUE/WAKE_OP, munmap while another thread touches the page
 * (SIGSEGV in that thread), a signal to a thread spinning in user mode, affinity masks. */
#include "common.h"
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* <linux/futex.h> (musl-gcc has no kernel headers) */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_BITSET_PRIVATE (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_OP_ADD 1
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

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

/* ------------------------------------------------------------ two CPUs */

/* ping-pong: two threads hand a token back and forth through one futex word */
#define PINGPONG_ROUNDS 2000
static atomic_int token;
static void *pingpong(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < PINGPONG_ROUNDS; i++) {
        int t;
        while ((t = atomic_load(&token)) != me)
            futex(&token, FUTEX_WAIT_PRIVATE, (unsigned)t, NULL, NULL, 0);
        atomic_store(&token, 1 - me);
        futex(&token, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

/* broadcast: BCAST_WAITERS threads sleep on one condition variable */
#define BCAST_WAITERS 6
static pthread_mutex_t bm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bcv = PTHREAD_COND_INITIALIZER;
static int bsleeping, bgo, bwoke;
static void *bcast_waiter(void *arg)
{
    pthread_mutex_lock(&bm);
    bsleeping++;
    while (!bgo)
        pthread_cond_wait(&bcv, &bm);
    bwoke++;
    pthread_mutex_unlock(&bm);
    return NULL;
}

/* raw requeue / wake_op waiters on rq_a */
static atomic_int rq_a, rq_b, rq_waiting, rq_done;
static void *rq_waiter(void *arg)
{
    atomic_fetch_add(&rq_waiting, 1);
    while (atomic_load(&rq_a) == 0)
        futex(&rq_a, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    atomic_fetch_add(&rq_done, 1);
    return NULL;
}
static void *rq_b_waiter(void *arg)
{
    atomic_fetch_add(&rq_waiting, 1);
    while (atomic_load(&rq_b) == 0)
        futex(&rq_b, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    atomic_fetch_add(&rq_done, 1);
    return NULL;
}

/* munmap while another thread reads the page */
static volatile char *toucher_page;
static atomic_int toucher_started, toucher_segv;
static __thread sigjmp_buf toucher_jmp;
static void toucher_segv_handler(int sig, siginfo_t *si, void *uc)
{
    atomic_store(&toucher_segv, 1);     /* si_code: issue 11's siginfo work, checked elsewhere */
    siglongjmp(toucher_jmp, 1);
}
static void *toucher(void *arg)
{
    if (sigsetjmp(toucher_jmp, 1) == 0) {
        atomic_store(&toucher_started, 1);
        for (;;)
            (void)toucher_page[0];
    }
    return NULL;
}

/* a signal for a thread that never enters the kernel */
static atomic_int spinner_started, spinner_stop;
static void spinner_handler(int sig) { atomic_store(&spinner_stop, 1); }
static void *spinner(void *arg)
{
    atomic_store(&spinner_started, 1);
    while (!atomic_load(&spinner_stop))
        ;
    return NULL;
}

static void wait_for(atomic_int *flag, int value)
{
    struct timespec nap = {0, 1000000};
    for (int i = 0; i < 10000 && atomic_load(flag) < value; i++)
        nanosleep(&nap, NULL);
}

static void two_cpus(void)
{
    pthread_t a, b;
    struct timespec nap = {0, 1000000};

    SECTION("futex ping-pong");
    pthread_create(&a, NULL, pingpong, (void *)0L);
    pthread_create(&b, NULL, pingpong, (void *)1L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    V("rounds done, token back", atomic_load(&token));

    SECTION("condvar broadcast to 6");
    pthread_t bw[BCAST_WAITERS];
    for (int i = 0; i < BCAST_WAITERS; i++)
        pthread_create(&bw[i], NULL, bcast_waiter, NULL);
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&bm);
        int n = bsleeping;
        pthread_mutex_unlock(&bm);
        if (n == BCAST_WAITERS)
            break;
        nanosleep(&nap, NULL);
    }
    nanosleep(&nap, NULL);              /* let the last one reach its wait */
    pthread_mutex_lock(&bm);
    bgo = 1;
    pthread_cond_broadcast(&bcv);
    pthread_mutex_unlock(&bm);
    for (int i = 0; i < BCAST_WAITERS; i++)
        pthread_join(bw[i], NULL);
    V("woken by one broadcast", bwoke);

    SECTION("requeue");
    pthread_t rw[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&rw[i], NULL, rq_waiter, NULL);
    wait_for(&rq_waiting, 3);
    for (int i = 0; i < 200; i++)       /* all three asleep in FUTEX_WAIT */
        nanosleep(&nap, NULL);
    R("cmp_requeue value mismatch", futex(&rq_a, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0,
                                          (void *)(long)INT_MAX, &rq_b, 1));
    R("cmp_requeue negative count", futex(&rq_a, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0,
                                          (void *)-1L, &rq_b, 0));
    R("requeue unaligned target", futex(&rq_a, FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG, 0,
                                        (void *)1L, (char *)&rq_b + 1, 0));
    /* wake none, move all three to rq_b: the value 3 counts the moved */
    R("cmp_requeue 0 wake, all moved", futex(&rq_a, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0,
                                             (void *)(long)INT_MAX, &rq_b, 0));
    R("wake at old word", futex(&rq_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
    atomic_store(&rq_a, 1);
    R("requeue 1 wake, 1 moved back", futex(&rq_b, FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG, 1,
                                            (void *)1L, &rq_a, 0));
    R("wake the one moved back", futex(&rq_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
    R("wake the last at rq_b", futex(&rq_b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
    for (int i = 0; i < 3; i++)
        pthread_join(rw[i], NULL);
    V("requeued waiters finished", atomic_load(&rq_done));

    SECTION("wake_op");
    atomic_store(&rq_a, 0);
    atomic_store(&rq_b, 0);
    atomic_store(&rq_waiting, 0);
    atomic_store(&rq_done, 0);
    pthread_create(&rw[0], NULL, rq_waiter, NULL);
    pthread_create(&rw[1], NULL, rq_b_waiter, NULL);
    wait_for(&rq_waiting, 2);
    for (int i = 0; i < 200; i++)
        nanosleep(&nap, NULL);
    int word2 = 5;
    R("wake_op no waiters, cmp false", futex(&word2, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, (void *)1L,
                                            &word2, FUTEX_OP(FUTEX_OP_ADD, 2, FUTEX_OP_CMP_GT, 5)));
    V("word2 after add", word2);
    R("wake_op bad op", futex(&word2, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, (void *)1L,
                             &word2, FUTEX_OP(7, 0, FUTEX_OP_CMP_EQ, 0)));
    V("word2 untouched by a bad op", word2);
    atomic_store(&rq_a, 1);
    /* rq_b += 1 (it was 0: CMP_EQ 0 holds): wakes the waiter at rq_a and the one at rq_b */
    R("wake_op both", futex(&rq_a, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, (void *)1L,
                           &rq_b, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
    pthread_join(rw[0], NULL);
    pthread_join(rw[1], NULL);
    V("wake_op waiters finished", atomic_load(&rq_done));
    V("rq_b after op", atomic_load(&rq_b));

    SECTION("munmap under a reading thread");
    struct sigaction sa = {0};
    sa.sa_sigaction = toucher_segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    toucher_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    toucher_page[0] = 1;
    pthread_create(&a, NULL, toucher, NULL);
    wait_for(&toucher_started, 1);
    nanosleep(&nap, NULL);
    P("munmap", munmap((void *)toucher_page, 4096) == 0 ? 0 : errno);
    pthread_join(a, NULL);
    V("reader got SIGSEGV", atomic_load(&toucher_segv));
    signal(SIGSEGV, SIG_DFL);

    SECTION("signal to a spinning thread");
    signal(SIGUSR1, spinner_handler);
    pthread_create(&a, NULL, spinner, NULL);
    wait_for(&spinner_started, 1);
    nanosleep(&nap, NULL);
    P("pthread_kill", pthread_kill(a, SIGUSR1));
    pthread_join(a, NULL);
    V("spinner stopped by its handler", atomic_load(&spinner_stop));

    SECTION("affinity");
    cpu_set_t set, all;
    CPU_ZERO(&all);
    P("getaffinity", sched_getaffinity(0, sizeof all, &all) == 0 ? 0 : errno);
    V("cpus in mask == online", CPU_COUNT(&all) == sysconf(_SC_NPROCESSORS_ONLN));
    R("getaffinity short size", syscall(SYS_sched_getaffinity, 0, 4, &set));
    R("getaffinity no such tid", syscall(SYS_sched_getaffinity, INT_MAX, sizeof set, &set));
    CPU_ZERO(&set);
    P("setaffinity empty", sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno);
    CPU_ZERO(&set);
    CPU_SET(CPU_SETSIZE - 1, &set);
    P("setaffinity offline cpu only", sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno);
    int first = 0;
    while (!CPU_ISSET(first, &all))
        first++;
    CPU_ZERO(&set);
    CPU_SET(first, &set);
    P("setaffinity one cpu", sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno);
    cpu_set_t got;
    sched_getaffinity(0, sizeof got, &got);
    V("now only that cpu", CPU_COUNT(&got) == 1 && CPU_ISSET(first, &got));
    V("running there", sched_getcpu() == first);
    P("setaffinity back to all", sched_setaffinity(0, sizeof all, &all) == 0 ? 0 : errno);
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
    two_cpus();
    return 0;
}
