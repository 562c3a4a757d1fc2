/* Polling and timers beyond io.c: timerfd intervals and overruns under blocking reads,
 * the ERTS pattern (a timerfd carrying the timeout of an infinite epoll_wait), wake-ups
 * from another thread (epoll_wait, poll, select, blocking timerfd read), edge-triggered
 * epoll on a pipe, registrations that go with the file, ppoll/pselect6 timeouts and their
 * written-back remaining time, and the error paths. */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static int wfd;
static void *writer(void *arg)
{
    struct timespec d = {0, 30 * 1000000};
    nanosleep(&d, NULL);
    write(wfd, "w", 1);
    return arg;
}

static void spawn_writer(int fd, pthread_t *th)
{
    wfd = fd;
    pthread_create(th, NULL, writer, NULL);
}

int main(void)
{
    int p[2], ep, tfd;
    char buf[64];
    uint64_t n;
    long long t0;
    pthread_t th;
    struct epoll_event ev, out[8];
    setvbuf(stdout, NULL, _IOLBF, 0);

    SECTION("timerfd interval");
    tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec its = {{0, 20 * 1000000}, {0, 20 * 1000000}}, cur;
    t0 = now_ms();
    R("settime periodic", timerfd_settime(tfd, 0, &its, NULL));
    R("read 1", read(tfd, &n, 8));
    V("one expiration", n == 1);
    R("read 2", read(tfd, &n, 8));
    V("40ms passed", now_ms() - t0 >= 39);
    struct timespec d = {0, 70 * 1000000};
    nanosleep(&d, NULL);
    R("read overruns", read(tfd, &n, 8));
    V("at least 3", n >= 3);
    R("gettime", timerfd_gettime(tfd, &cur));
    V("interval kept", cur.it_interval.tv_nsec == 20 * 1000000 && cur.it_interval.tv_sec == 0);
    V("remaining <= interval", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 20 * 1000000);
    struct itimerspec old;
    its.it_value.tv_nsec = 0;
    its.it_interval.tv_nsec = 0;
    R("disarm with old", timerfd_settime(tfd, 0, &its, &old));
    V("old interval", old.it_interval.tv_nsec == 20 * 1000000);
    R("gettime disarmed", timerfd_gettime(tfd, &cur));
    V("disarmed value", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
    fcntl(tfd, F_SETFL, O_NONBLOCK);
    R("read disarmed nonblock", read(tfd, &n, 8));
    R("gettime bad fd", timerfd_gettime(99, &cur));
    R("gettime not timerfd", timerfd_gettime(1, &cur));
    R("settime bad flags", timerfd_settime(tfd, 4, &its, NULL));
    R("create bad flags", timerfd_create(CLOCK_MONOTONIC, 1));
    close(tfd);

    SECTION("timerfd absolute");
    int rt = timerfd_create(CLOCK_REALTIME, 0);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    wall.tv_nsec += 25 * 1000000;
    if (wall.tv_nsec >= 1000000000) { wall.tv_sec++; wall.tv_nsec -= 1000000000; }
    struct itimerspec abs_its = {{0, 0}, wall};
    R("settime realtime abstime", timerfd_settime(rt, TFD_TIMER_ABSTIME, &abs_its, NULL));
    R("read", read(rt, &n, 8));
    V("count", n);
    struct timespec w2;
    clock_gettime(CLOCK_REALTIME, &w2);
    V("reached", w2.tv_sec > wall.tv_sec || (w2.tv_sec == wall.tv_sec && w2.tv_nsec >= wall.tv_nsec));
    abs_its.it_value.tv_sec = 1;       /* long past */
    abs_its.it_value.tv_nsec = 0;
    R("settime past", timerfd_settime(rt, TFD_TIMER_ABSTIME, &abs_its, NULL));
    R("read past", read(rt, &n, 8));
    V("count past", n);
    close(rt);

    SECTION("erts pattern");
    ep = epoll_create(128);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 0xabcdef;
    R("add timerfd", epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev));
    for (int i = 0; i < 3; i++) {
        struct itimerspec once = {{0, 0}, {0, 15 * 1000000}};
        /* t0 before arming: a host that deschedules the vCPU between the two calls must
         * not make the wait look shorter than the timer (it did under load: "waited 0"). */
        t0 = now_ms();
        timerfd_settime(tfd, 0, &once, NULL);
        int r = epoll_wait(ep, out, 8, -1);
        printf("round %d: %d events, cookie ok %d, waited %d\n", i, r, out[0].data.u64 == 0xabcdef,
               now_ms() - t0 >= 14);
        read(tfd, &n, 8);
        epoll_ctl(ep, EPOLL_CTL_MOD, tfd, &ev);
    }
    close(tfd);
    close(ep);

    SECTION("wakeups from a thread");
    pipe(p);
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.u64 = 5;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    spawn_writer(p[1], &th);
    R("epoll_wait woken", epoll_wait(ep, out, 8, 5000));
    pthread_join(th, NULL);
    read(p[0], buf, 1);
    struct pollfd pf = {p[0], POLLIN, 0};
    spawn_writer(p[1], &th);
    R("poll woken", poll(&pf, 1, -1));
    V("revents", pf.revents);
    pthread_join(th, NULL);
    read(p[0], buf, 1);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    spawn_writer(p[1], &th);
    R("select woken", select(p[0] + 1, &rd, NULL, NULL, NULL));
    pthread_join(th, NULL);
    read(p[0], buf, 1);
    close(p[0]);
    close(p[1]);
    close(ep);

    SECTION("edge triggered");
    pipe(p);
    ep = epoll_create1(0);
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    R("idle", epoll_wait(ep, out, 8, 0));
    write(p[1], "ab", 2);
    R("edge", epoll_wait(ep, out, 8, 0));
    R("no second report", epoll_wait(ep, out, 8, 0));
    R("drain", read(p[0], buf, sizeof buf));
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    R("until EAGAIN", read(p[0], buf, sizeof buf));
    R("drained", epoll_wait(ep, out, 8, 0));
    write(p[1], "c", 1);
    R("refilled", epoll_wait(ep, out, 8, 0));
    R("once", epoll_wait(ep, out, 8, 0));
    close(p[0]);
    close(p[1]);
    close(ep);

    SECTION("registrations go with the file");
    pipe(p);
    ep = epoll_create1(0);
    ev.events = EPOLLOUT;
    ev.data.u64 = 2;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
    ev.events = EPOLLIN;
    ev.data.u64 = 3;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    R("write end ready", epoll_wait(ep, out, 8, 0));
    close(p[1]);                        /* not DELeted: the registration goes, reader sees HUP */
    R("after close", epoll_wait(ep, out, 8, 0));
    V("hup for the read end", out[0].data.u64 == 3 && (out[0].events & EPOLLHUP));
    R("del closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    int dupfd = dup(p[0]);
    R("add dup", epoll_ctl(ep, EPOLL_CTL_ADD, dupfd, &ev));
    R("both fds", epoll_wait(ep, out, 8, 0));
    close(p[0]);
    close(dupfd);
    close(ep);

    SECTION("ppoll pselect6");
    pipe(p);
    struct timespec ts = {0, 30 * 1000000};
    struct pollfd pp = {p[0], POLLIN, 0};
    t0 = now_ms();
    R("ppoll timeout", ppoll(&pp, 1, &ts, NULL));
    V("waited", now_ms() - t0 >= 29);
    V("ppoll remaining zeroed", ts.tv_sec == 0 && ts.tv_nsec == 0);
    sigset_t mask;
    sigemptyset(&mask);
    ts.tv_nsec = 20 * 1000000;
    R("ppoll with mask", ppoll(&pp, 1, &ts, &mask));
    ts.tv_nsec = 20 * 1000000;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    t0 = now_ms();
    R("pselect timeout", pselect(p[0] + 1, &rd, NULL, NULL, &ts, &mask));
    V("waited", now_ms() - t0 >= 19);
    V("set cleared", FD_ISSET(p[0], &rd));
    write(p[1], "x", 1);
    FD_SET(p[0], &rd);
    ts.tv_sec = 5;
    R("pselect ready", pselect(p[0] + 1, &rd, NULL, NULL, &ts, NULL));
    R("ppoll bad sigsetsize", syscall(SYS_ppoll, &pp, 1, NULL, &mask, 4));
    R("poll too many", poll(&pp, 100000, 0));
    struct timeval tv = {0, 20000};
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    R("select normal usec", select(p[0] + 1, &rd, NULL, NULL, &tv));
    tv.tv_sec = 0;
    tv.tv_usec = -1;
    R("select bad usec", select(p[0] + 1, &rd, NULL, NULL, &tv));
    close(p[0]);
    close(p[1]);

    SECTION("epoll misc");
    ep = epoll_create1(0);
    int ep2 = epoll_create1(0);
    pipe(p);
    ev.events = EPOLLIN;
    epoll_ctl(ep2, EPOLL_CTL_ADD, p[0], &ev);
    ev.data.u64 = 9;
    R("add epoll to epoll", epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev));
    R("nested idle", epoll_wait(ep, out, 8, 0));
    write(p[1], "n", 1);
    R("nested ready", epoll_wait(ep, out, 8, 0));
    int reg = open("/tmp/tyn-polling-reg", O_CREAT | O_RDWR, 0600);
    unlink("/tmp/tyn-polling-reg");
    R("regular file", epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev));
    R("exclusive mod", epoll_ctl(ep, EPOLL_CTL_MOD, ep2, &(struct epoll_event){.events = EPOLLIN | EPOLLEXCLUSIVE}));
    R("pwait bad sigsetsize", syscall(SYS_epoll_pwait, ep, out, 8, 0, &mask, 4));
    R("ctl efault", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], (void *)8));
    close(reg);
    close(p[0]);
    close(p[1]);
    close(ep2);
    close(ep);
    return 0;
}
