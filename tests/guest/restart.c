/* Interrupted system calls: a handled signal (sent by a helper thread once the main thread
 * is asleep) restarts read on a pipe, read on a socket, futex wait without a timeout and
 * wait4 when the handler has SA_RESTART, and makes them fail with EINTR without it;
 * poll, select, epoll_wait and nanosleep fail with EINTR either way (nanosleep writes the
 * time left).  ppoll, pselect6 and epoll_pwait apply their signal mask for the wait: a
 * signal it unblocks interrupts them (EINTR, also when it was pending before the call),
 * the handler runs under the temporary mask, and the old mask is back afterwards; so
 * does sigsuspend, which sleeps until such a signal. */
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

static pthread_t main_thread;
static atomic_int handled;
static atomic_int usr2_blocked_in_handler = -1;
static int wfd = -1;                    /* the helper writes here after the handler ran */
static atomic_int futex_word;

static void on_usr1(int sig)
{
    sigset_t now;
    (void)sig;
    sigprocmask(SIG_BLOCK, NULL, &now);
    usr2_blocked_in_handler = sigismember(&now, SIGUSR2);
    atomic_fetch_add(&handled, 1);
}

static void handle(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, NULL);
    handled = 0;
}

static void msleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

enum { AFTER_NOTHING, AFTER_WRITE, AFTER_FUTEX_WAKE };

/* Signal the main thread once it sleeps; then, once the handler ran, the follow-up. */
static void *helper(void *arg)
{
    int after = (int)(long)arg;
    msleep(100);
    pthread_kill(main_thread, SIGUSR1);
    while (!handled)
        msleep(5);
    msleep(50);
    if (after == AFTER_WRITE)
        (void)!write(wfd, "x", 1);
    if (after == AFTER_FUTEX_WAKE) {
        futex_word = 1;
        syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

static pthread_t start(int after)
{
    pthread_t t;
    pthread_create(&t, NULL, helper, (void *)(long)after);
    return t;
}

static void read_case(const char *what, int rfd, int w, int restart)
{
    char label[64], c = 0;
    pthread_t t;
    handle(restart);
    wfd = w;
    t = start(AFTER_WRITE);
    snprintf(label, sizeof label, "%s read, SA_RESTART %d", what, restart);
    R(label, read(rfd, &c, 1));
    pthread_join(t, NULL);
    V("  handler ran", handled);
    if (!restart)
        R("  then read", read(rfd, &c, 1));
    V("  byte is x", c == 'x');
}

static void futex_case(int restart)
{
    pthread_t t;
    long r;
    handle(restart);
    futex_word = 0;
    t = start(AFTER_FUTEX_WAKE);
    errno = 0;
    r = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    /* restarted: woken (0), or EAGAIN if the word changed before it slept again */
    printf("futex wait, SA_RESTART %d: %s\n", restart,
           r == 0 || errno == EAGAIN ? "restarted" : errname(errno));
    pthread_join(t, NULL);
    V("  handler ran", handled);
}

static void wait4_case(int restart)
{
    int status = 0;
    pid_t child, r;
    handle(restart);
    child = fork();
    if (child == 0) {
        msleep(100);
        kill(getppid(), SIGUSR1);
        msleep(100);
        _exit(7);
    }
    r = wait4(child, &status, 0, NULL);
    printf("wait4, SA_RESTART %d: %s\n", restart, r == child ? "child" : errname(errno));
    if (r != child)
        r = wait4(child, &status, 0, NULL);
    V("  then child", r == child);
    V("  exit status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    V("  handler ran", handled);
}

static void never_restarted(void)
{
    int p[2], ep;
    struct pollfd pfd;
    fd_set rs;
    struct epoll_event ev;
    struct timespec ts = { 5, 0 }, rem = { 0, 0 };
    pthread_t t;
    SECTION("never restarted (SA_RESTART)");
    (void)!pipe(p);
    pfd.fd = p[0];
    pfd.events = POLLIN;
    handle(1);
    t = start(AFTER_NOTHING);
    R("poll", poll(&pfd, 1, -1));
    pthread_join(t, NULL);
    V("  handler ran", handled);
    handle(1);
    t = start(AFTER_NOTHING);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    R("select", select(p[0] + 1, &rs, NULL, NULL, NULL));
    pthread_join(t, NULL);
    V("  set untouched", FD_ISSET(p[0], &rs));
    handle(1);
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.u64 = 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    t = start(AFTER_NOTHING);
    R("epoll_wait", epoll_wait(ep, &ev, 1, -1));
    pthread_join(t, NULL);
    handle(1);
    t = start(AFTER_NOTHING);
    R("nanosleep", nanosleep(&ts, &rem));
    pthread_join(t, NULL);
    V("  time left written", rem.tv_sec > 0 && rem.tv_sec <= 5);
    close(ep);
    close(p[0]);
    close(p[1]);
}

static void show_mask(const char *label)
{
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("%s: USR1 %d USR2 %d\n", label, sigismember(&now, SIGUSR1), sigismember(&now, SIGUSR2));
}

static void temporary_masks(void)
{
    int p[2], ep;
    sigset_t both, none;
    struct pollfd pfd;
    struct epoll_event ev;
    struct timespec ts = { 5, 0 };
    fd_set rs;
    pthread_t t;
    SECTION("temporary signal masks");
    (void)!pipe(p);
    sigemptyset(&none);
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);
    sigprocmask(SIG_SETMASK, &both, NULL);
    pfd.fd = p[0];
    pfd.events = POLLIN;

    handle(1);
    t = start(AFTER_NOTHING);
    R("ppoll, USR1 unblocked for the wait", ppoll(&pfd, 1, NULL, &none));
    pthread_join(t, NULL);
    V("  handler ran", handled);
    V("  USR2 blocked in the handler", usr2_blocked_in_handler);
    show_mask("  mask after");

    handle(1);
    raise(SIGUSR1);                     /* blocked: stays pending */
    V("raised while blocked, handler ran", handled);
    R("ppoll keeping it blocked", ppoll(&pfd, 1, &(struct timespec){ 0, 50000000 }, &both));
    V("  handler ran", handled);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    R("pselect6 unblocking it", pselect(p[0] + 1, &rs, NULL, NULL, &ts, &none));
    V("  handler ran", handled);
    show_mask("  mask after");

    handle(1);
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.u64 = 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    t = start(AFTER_NOTHING);
    R("epoll_pwait, USR1 unblocked for the wait", epoll_pwait(ep, &ev, 1, -1, &none));
    pthread_join(t, NULL);
    V("  handler ran", handled);
    V("  USR2 blocked in the handler", usr2_blocked_in_handler);
    show_mask("  mask after");

    (void)!write(p[1], "x", 1);
    R("ppoll ready, mask restored at once", ppoll(&pfd, 1, NULL, &none));
    show_mask("  mask after");
    sigprocmask(SIG_SETMASK, &none, NULL);
    close(ep);
    close(p[0]);
    close(p[1]);
}

/* sigsuspend: sleeps with its mask until a handled signal; EINTR, the old mask back. */
static void suspend_cases(void)
{
    sigset_t none, both;
    pthread_t t;
    SECTION("sigsuspend");
    sigemptyset(&none);
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);
    sigprocmask(SIG_SETMASK, &both, NULL);
    handle(1);
    t = start(AFTER_NOTHING);
    R("sigsuspend until USR1", sigsuspend(&none));
    pthread_join(t, NULL);
    V("  handler ran", handled);
    V("  USR2 blocked in the handler", usr2_blocked_in_handler);
    show_mask("  mask after");
    handle(1);
    raise(SIGUSR1);
    R("sigsuspend with USR1 already pending", sigsuspend(&none));
    V("  handler ran", handled);
    show_mask("  mask after");
    R("rt_sigsuspend bad size", syscall(SYS_rt_sigsuspend, &none, 4));
    R("rt_sigsuspend bad pointer", syscall(SYS_rt_sigsuspend, (void *)8, 8));
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int main(void)
{
    int p[2], sv[2];
    setvbuf(stdout, NULL, _IONBF, 0);
    main_thread = pthread_self();

    SECTION("restarted under SA_RESTART");
    for (int restart = 1; restart >= 0; restart--) {
        (void)!pipe(p);
        read_case("pipe", p[0], p[1], restart);
        close(p[0]);
        close(p[1]);
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        read_case("socket", sv[0], sv[1], restart);
        close(sv[0]);
        close(sv[1]);
        futex_case(restart);
        wait4_case(restart);
    }
    never_restarted();
    temporary_masks();
    suspend_cases();
    return 0;
}
