/* Pipes, eventfd, epoll, poll, select, timerfd: data flow, readiness, EAGAIN on empty
 * non-blocking reads, EPIPE with SIGPIPE ignored, EOF/POLLHUP, EPOLLONESHOT re-arming,
 * epoll_ctl errors (EEXIST, ENOENT, EBADF, EINVAL, EPERM), timeouts returning 0. */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(void)
{
    int p[2], q[2];
    char buf[256];
    struct timespec t0;
    setvbuf(stdout, NULL, _IOLBF, 0);

    SECTION("pipe");
    R("pipe", pipe(p));
    V("fds", p[0] == 3 && p[1] == 4);
    R("write", write(p[1], "abcdef", 6));
    R("read partial", read(p[0], buf, 4));
    R("read rest", read(p[0], buf, sizeof buf));
    R("read end cannot write", write(p[0], "x", 1));
    R("write end cannot read", read(p[1], buf, 1));
    R("fcntl nonblock", fcntl(p[0], F_SETFL, O_NONBLOCK));
    R("read empty nonblock", read(p[0], buf, 1));
    R("close write end", close(p[1]));
    R("read eof", read(p[0], buf, 1));
    close(p[0]);
    R("pipe2", pipe2(q, O_CLOEXEC | O_NONBLOCK));
    R("cloexec", fcntl(q[0], F_GETFD));
    V("nonblock", (fcntl(q[1], F_GETFL) & O_NONBLOCK) != 0);
    R("pipe2 bad flags", pipe2(p, 0x12345678));
    R("pipe efault", syscall(SYS_pipe2, (void *)8, 0));
    /* fill the pipe: non-blocking write eventually says EAGAIN */
    long total = 0, r;
    memset(buf, 'x', sizeof buf);
    while ((r = write(q[1], buf, sizeof buf)) > 0)
        total += r;
    V("filled >= 4096", total >= 4096);
    printf("full write: %s\n", errname(errno));
    signal(SIGPIPE, SIG_IGN);
    close(q[0]);
    R("write no reader", write(q[1], "x", 1));
    close(q[1]);

    SECTION("eventfd");
    int efd = eventfd(0, EFD_NONBLOCK);
    OK("eventfd", efd);
    uint64_t v = 3;
    R("write 3", write(efd, &v, 8));
    v = 4;
    R("write 4", write(efd, &v, 8));
    v = 0;
    R("read", read(efd, &v, 8));
    V("value", v);
    R("read empty", read(efd, &v, 8));
    R("short write", write(efd, &v, 4));
    R("short read", read(efd, &v, 4));
    v = UINT64_MAX;
    R("write max", write(efd, &v, 8));
    close(efd);
    int sfd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    R("sem read", read(sfd, &v, 8));
    V("sem value", v);
    R("sem read 2", read(sfd, &v, 8));
    R("sem read empty", read(sfd, &v, 8));
    close(sfd);
    R("eventfd bad flags", eventfd(0, 0x12345678));

    SECTION("epoll");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    OK("epoll_create1", ep);
    R("epoll_create1 bad flags", epoll_create1(0x1234));
    R("epoll_create 0", syscall(SYS_epoll_create, 0));   /* some musl versions skip the check */
    pipe(p);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL}, out[4];
    R("ctl add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    R("ctl add again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    R("ctl mod missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
    R("ctl del missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], &ev));
    R("ctl bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev));
    R("ctl bad op", epoll_ctl(ep, 42, p[0], &ev));
    R("ctl self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    R("ctl not epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
    R("wait nothing", epoll_wait(ep, out, 4, 0));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    R("wait timeout 30ms", epoll_wait(ep, out, 4, 30));
    V("waited >= 30ms", ms_since(&t0) >= 29);
    write(p[1], "x", 1);
    R("wait ready", epoll_wait(ep, out, 4, 1000));
    V("event in", out[0].events == EPOLLIN);
    V("cookie", out[0].data.u64 == 0x1122334455667788ULL);
    R("level triggered again", epoll_wait(ep, out, 4, 0));
    ev.events = EPOLLIN | EPOLLONESHOT;
    R("ctl mod oneshot", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    R("oneshot fires", epoll_wait(ep, out, 4, 0));
    R("oneshot disarmed", epoll_wait(ep, out, 4, 0));
    R("ctl mod rearm", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    R("rearmed fires", epoll_wait(ep, out, 4, 0));
    read(p[0], buf, 1);
    ev.events = EPOLLOUT;
    ev.data.u64 = 7;
    R("ctl add write end", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
    R("writable", epoll_wait(ep, out, 4, 0));
    V("writable cookie", out[0].data.u64 == 7 && out[0].events == EPOLLOUT);
    R("ctl del", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    close(p[1]);
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 1;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    R("hangup", epoll_wait(ep, out, 4, 0));
    V("hangup events", out[0].events & (EPOLLIN | EPOLLHUP));
    R("wait bad maxevents", epoll_wait(ep, out, 0, 0));
    R("wait efault, no events", epoll_wait(ep, (void *)8, 4, 0));
    R("wait not epoll", epoll_wait(p[0], out, 4, 0));
    close(p[0]);
    close(ep);

    SECTION("poll");
    pipe(p);
    struct pollfd pf[3] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {99, POLLIN, 0}};
    R("poll", poll(pf, 3, 0));
    V("read end idle", pf[0].revents);
    V("write end writable", pf[1].revents == POLLOUT);
    V("bad fd nval", pf[2].revents == POLLNVAL);
    write(p[1], "y", 1);
    R("poll readable", poll(pf, 1, 1000));
    V("pollin", pf[0].revents == POLLIN);
    read(p[0], buf, 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    R("poll timeout 30ms", poll(pf, 1, 30));
    V("waited >= 30ms", ms_since(&t0) >= 29);
    pf[0].fd = -1;
    R("negative fd ignored", poll(pf, 1, 0));
    V("revents 0", pf[0].revents);
    pf[0].fd = p[0];
    close(p[1]);
    R("poll hup", poll(pf, 1, 0));
    V("pollhup", pf[0].revents == POLLHUP);
    R("poll efault", poll((void *)8, 1, 0));
    close(p[0]);

    SECTION("select");
    pipe(p);
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(p[0], &rd);
    FD_SET(p[1], &wr);
    struct timeval tv = {0, 0};
    R("select", select(p[1] + 1, &rd, &wr, NULL, &tv));
    V("rd clear", FD_ISSET(p[0], &rd));
    V("wr set", FD_ISSET(p[1], &wr));
    write(p[1], "z", 1);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    tv.tv_sec = 1;
    R("select readable", select(p[0] + 1, &rd, NULL, NULL, &tv));
    V("rd set", FD_ISSET(p[0], &rd));
    read(p[0], buf, 1);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    tv.tv_sec = 0;
    tv.tv_usec = 30000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    R("select timeout", select(p[0] + 1, &rd, NULL, NULL, &tv));
    V("waited >= 30ms", ms_since(&t0) >= 29);
    FD_ZERO(&rd);
    FD_SET(50, &rd);
    tv.tv_usec = 0;
    R("select bad fd", select(51, &rd, NULL, NULL, &tv));
    R("select negative nfds", select(-1, NULL, NULL, NULL, &tv));
    close(p[0]);
    close(p[1]);

    SECTION("timerfd");
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    OK("timerfd_create", tfd);
    R("timerfd bad clock", timerfd_create(99, 0));
    struct itimerspec its = {{0, 0}, {0, 20 * 1000000}}, cur;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    R("settime 20ms", timerfd_settime(tfd, 0, &its, NULL));
    R("gettime", timerfd_gettime(tfd, &cur));
    V("remaining <= 20ms", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 20 * 1000000);
    uint64_t exp = 0;
    R("read blocks until expiry", read(tfd, &exp, 8));
    V("expirations", exp);
    V("after >= 20ms", ms_since(&t0) >= 19);
    R("read short buffer", read(tfd, &exp, 4));
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.u64 = 42;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    its.it_value.tv_nsec = 10 * 1000000;
    timerfd_settime(tfd, 0, &its, NULL);
    R("epoll on timerfd", epoll_wait(ep, out, 4, 2000));
    V("timer cookie", out[0].data.u64);
    its.it_value.tv_nsec = 0;
    R("disarm", timerfd_settime(tfd, 0, &its, NULL));
    R("disarmed idle", epoll_wait(ep, out, 4, 30));
    its.it_value.tv_nsec = 1000000000;
    R("settime bad nsec", timerfd_settime(tfd, 0, &its, NULL));
    close(ep);
    close(tfd);
    return 0;
}
