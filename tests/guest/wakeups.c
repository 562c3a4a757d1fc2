/* Cross-CPU wake-ups: for each blocking primitive a producer and a consumer, pinned to
 * different CPUs when there are several, pass ROUNDS items one at a time so that nearly
 * every item is a sleep and a wake-up on another CPU.  A lost wake-up hangs the program
 * (the test's timeout catches it); every count printed is exact, so Linux prints the same.
 * Primitives: futex, pipe (blocking read), poll, select, epoll, AF_UNIX stream, TCP over
 * loopback, eventfd, timerfd (periodic; its state read from another CPU meanwhile),
 * signals (sigwaitinfo on one thread, tgkill from another), fork/exit/wait, setitimer. */
#include "common.h"
#include "pin.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#define ROUNDS 400
#define CHILDREN 40
#define TIMER_EXPIRIES 20
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

/* ------------------------------------------------------------------ futex ping-pong */

static atomic_int turn;

static void futex_wait(atomic_int *w, int v)
{
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void futex_wake(atomic_int *w)
{
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *futex_producer(void *arg)
{
    (void)arg;
    pin(1);
    for (int i = 0; i < ROUNDS; i++) {
        while (atomic_load(&turn) != 2 * i + 1)
            futex_wait(&turn, 2 * i);
        atomic_store(&turn, 2 * i + 2);
        futex_wake(&turn);
    }
    return NULL;
}

static void test_futex(void)
{
    pthread_t t;
    int done = 0;
    atomic_store(&turn, 0);
    pin(0);
    pthread_create(&t, NULL, futex_producer, NULL);
    for (int i = 0; i < ROUNDS; i++) {
        atomic_store(&turn, 2 * i + 1);
        futex_wake(&turn);
        while (atomic_load(&turn) != 2 * i + 2)
            futex_wait(&turn, 2 * i + 1);
        done++;
    }
    pthread_join(t, NULL);
    printf("futex: %d rounds\n", done);
}

/* ------------------------------------------- one-byte streams: pipes, unix, tcp */

struct stream { int wfd; int rfd_back; };

static void *byte_producer(void *arg)
{
    struct stream *s = arg;
    char c;
    pin(1);
    for (int i = 0; i < ROUNDS; i++) {
        c = (char)i;
        if (write(s->wfd, &c, 1) != 1)
            break;
        if (s->rfd_back >= 0 && read(s->rfd_back, &c, 1) != 1)   /* wait for the echo */
            break;
    }
    return NULL;
}

enum wait_kind { BLOCKING_READ, POLL, SELECT, EPOLL };

static int wait_readable(int fd, enum wait_kind how, int ep)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    fd_set set;
    struct epoll_event ev;
    switch (how) {
    case BLOCKING_READ:
        return 1;
    case POLL:
        return poll(&p, 1, -1) == 1 && (p.revents & POLLIN);
    case SELECT:
        FD_ZERO(&set);
        FD_SET(fd, &set);
        return select(fd + 1, &set, NULL, NULL, NULL) == 1 && FD_ISSET(fd, &set);
    case EPOLL:
        return epoll_wait(ep, &ev, 1, -1) == 1 && ev.data.fd == fd;
    }
    return 0;
}

/* Consume ROUNDS bytes from rfd (echoing each to wfd_back if >= 0); bytes in order. */
static int consume(int rfd, int wfd_back, enum wait_kind how)
{
    int got = 0, ep = -1;
    unsigned char c;
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = rfd };
    if (how == EPOLL) {
        ep = epoll_create1(0);
        epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev);
    }
    while (got < ROUNDS) {
        if (!wait_readable(rfd, how, ep))
            break;
        if (read(rfd, &c, 1) != 1 || c != (unsigned char)got)
            break;
        got++;
        if (wfd_back >= 0 && write(wfd_back, &c, 1) != 1)
            break;
    }
    if (ep >= 0)
        close(ep);
    return got;
}

static void stream_case(const char *name, int fwd[2], int back[2], enum wait_kind how)
{
    struct stream s = { .wfd = fwd[1], .rfd_back = back ? back[0] : -1 };
    pthread_t t;
    pin(0);
    pthread_create(&t, NULL, byte_producer, &s);
    int got = consume(fwd[0], back ? back[1] : -1, how);
    pthread_join(t, NULL);
    printf("%s: %d of %d\n", name, got, ROUNDS);
}

static void test_pipes(void)
{
    static const char *names[] = { "pipe read", "pipe poll", "pipe select", "pipe epoll" };
    for (int how = BLOCKING_READ; how <= EPOLL; how++) {
        int fwd[2], back[2];
        if (pipe(fwd) != 0 || pipe(back) != 0) {
            printf("%s: pipe %s\n", names[how], errname(errno));
            continue;
        }
        stream_case(names[how], fwd, back, (enum wait_kind)how);
        close(fwd[0]); close(fwd[1]); close(back[0]); close(back[1]);
    }
}

static void test_unix(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        printf("unix: socketpair %s\n", errname(errno));
        return;
    }
    /* One socket each way: the producer writes sv[1] and reads its echo there. */
    int fwd[2] = { sv[0], sv[1] }, back[2] = { sv[1], sv[0] };
    stream_case("unix stream", fwd, back, POLL);
    close(sv[0]); close(sv[1]);
}

static void test_tcp(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int one = 1;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) != 0) {
        printf("tcp: setup %s\n", errname(errno));
        return;
    }
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) {
        printf("tcp: connect %s\n", errname(errno));
        return;
    }
    int s = accept(l, NULL, NULL);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int fwd[2] = { s, c }, back[2] = { c, s };
    stream_case("tcp loopback", fwd, back, EPOLL);
    close(c); close(s); close(l);
}

/* ------------------------------------------------------------------ eventfd */

static void *eventfd_producer(void *arg)
{
    int fd = *(int *)arg;
    uint64_t one = 1;
    pin(1);
    for (int i = 0; i < ROUNDS; i++)
        if (write(fd, &one, 8) != 8)
            break;
    return NULL;
}

static void test_eventfd(void)
{
    int fd = eventfd(0, 0);
    uint64_t total = 0, v;
    pthread_t t;
    pin(0);
    pthread_create(&t, NULL, eventfd_producer, &fd);
    while (total < ROUNDS && read(fd, &v, 8) == 8)
        total += v;
    pthread_join(t, NULL);
    printf("eventfd: %llu of %d\n", (unsigned long long)total, ROUNDS);
    close(fd);
}

/* ------------------------------------------------------------------ timerfd */

static atomic_int timer_stop;

static void *timerfd_reader(void *arg)
{
    int fd = *(int *)arg;
    struct itimerspec cur;
    pin(1);
    /* timerfd state read on another CPU while the timer callback updates it. */
    while (!atomic_load(&timer_stop))
        timerfd_gettime(fd, &cur);
    return NULL;
}

static void test_timerfd(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec its = { .it_interval = { 0, 2000000 }, .it_value = { 0, 2000000 } };
    uint64_t total = 0, v;
    pthread_t t;
    atomic_store(&timer_stop, 0);
    pin(0);
    timerfd_settime(fd, 0, &its, NULL);
    pthread_create(&t, NULL, timerfd_reader, &fd);
    while (total < TIMER_EXPIRIES && read(fd, &v, 8) == 8)
        total += v;
    atomic_store(&timer_stop, 1);
    pthread_join(t, NULL);
    printf("timerfd: at least %d expiries: %d\n", TIMER_EXPIRIES, total >= TIMER_EXPIRIES);
    close(fd);
}

/* ------------------------------------------------------------------ signals */

static atomic_int sig_receiver_tid;
static atomic_int sig_acked;

static void *signal_sender(void *arg)
{
    (void)arg;
    pin(1);
    for (int i = 0; i < ROUNDS; i++) {
        syscall(SYS_tgkill, getpid(), atomic_load(&sig_receiver_tid), SIGUSR1);
        while (atomic_load(&sig_acked) != i + 1)
            futex_wait(&sig_acked, i);
    }
    return NULL;
}

static void test_signals(void)
{
    sigset_t set;
    siginfo_t info;
    pthread_t t;
    int got = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);       /* inherited by the sender: only we take it */
    atomic_store(&sig_acked, 0);
    atomic_store(&sig_receiver_tid, gettid());
    pin(0);
    pthread_create(&t, NULL, signal_sender, NULL);
    while (got < ROUNDS && sigwaitinfo(&set, &info) == SIGUSR1) {
        got++;
        atomic_store(&sig_acked, got);
        futex_wake(&sig_acked);
    }
    pthread_join(t, NULL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    printf("signals: %d of %d\n", got, ROUNDS);
}

/* ------------------------------------------------------------------ fork/exit/wait */

static void test_fork_wait(void)
{
    int status, sum = 0, reaped = 0, expect = 0;
    pin(0);
    for (int i = 0; i < CHILDREN; i++) {
        pid_t p = fork();
        if (p == 0) {
            pin(1);
            _exit(i & 0x7f);
        }
        if (p < 0) {
            printf("fork: %s\n", errname(errno));
            break;
        }
        expect += i & 0x7f;
    }
    while (wait(&status) > 0) {
        reaped++;
        if (WIFEXITED(status))
            sum += WEXITSTATUS(status);
    }
    printf("fork/wait: %d reaped, statuses sum ok: %d\n", reaped, sum == expect);
}

/* ---------------------------------------------------- setitimer (SIGALRM) */

static void test_itimer(void)
{
    sigset_t set;
    int sig, got = 0;
    struct itimerval it = { .it_interval = { 0, 2000 }, .it_value = { 0, 2000 } }, off = { 0 };
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    while (got < TIMER_EXPIRIES && sigwait(&set, &sig) == 0 && sig == SIGALRM)
        got++;
    setitimer(ITIMER_REAL, &off, NULL);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("itimer: %d SIGALRMs\n", got);
}

int main(void)
{
    pin_init();
    test_futex();
    test_pipes();
    test_unix();
    test_tcp();
    test_eventfd();
    test_timerfd();
    test_signals();
    test_fork_wait();
    test_itimer();
    printf("done\n");
    return 0;
}
