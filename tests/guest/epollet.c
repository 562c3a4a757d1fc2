/* Edge-triggered epoll (EPOLLET) as Linux defines it: an item is reported when its file
 * had a wakeup matching the item's interest since the item was last reported (or since
 * EPOLL_CTL_ADD/MOD, which arm it once with the current readiness), and the file is ready
 * at that moment.  Per file kind: pipes (each write, EAGAIN writes, reads that free space
 * of a full pipe, hangups), eventfd (each write, zero included; each read wakes writers),
 * socketpair (send, recv freeing space when a send is read whole, shutdown, close),
 * timerfd (each expiry; a periodic timer stops waking until read), EPOLLET|EPOLLONESHOT,
 * EPOLL_CTL_MOD re-arming, an ET item seen through a nested epoll.  Linux 6.18 is the reference (pipe writes wake epoll
 * readers on every write since 5.16's poll_usage). */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>

static const char *bits(uint32_t e)
{
    static char buf[96];
    static const struct { uint32_t bit; const char *name; } names[] = {
        {EPOLLIN, "IN"}, {EPOLLPRI, "PRI"}, {EPOLLOUT, "OUT"}, {EPOLLERR, "ERR"}, {EPOLLHUP, "HUP"},
        {EPOLLRDNORM, "RDNORM"}, {EPOLLRDBAND, "RDBAND"}, {EPOLLWRNORM, "WRNORM"},
        {EPOLLWRBAND, "WRBAND"}, {EPOLLRDHUP, "RDHUP"},
    };
    buf[0] = 0;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (e & names[i].bit) {
            if (buf[0])
                strcat(buf, "|");
            strcat(buf, names[i].name);
        }
    return buf[0] ? buf : "0";
}

/* One epoll_wait; prints the count and each event (sorted by data: the order of several
 * ready items is not what is under test). */
static void W(const char *label, int ep, int timeout)
{
    struct epoll_event out[8];
    errno = 0;
    int n = epoll_wait(ep, out, 8, timeout);
    if (n < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j - 1].data.u64 > out[j].data.u64; j--) {
            struct epoll_event t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    printf("%s: %d", label, n);
    for (int i = 0; i < n; i++)
        printf(" [%llu %s]", (unsigned long long)out[i].data.u64, bits(out[i].events));
    printf("\n");
}

static int add(int ep, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, op, fd, &ev);
}

static char big[65536];

static void pipes(void)
{
    int p[2], ep;
    char buf[8192];

    SECTION("pipe read end");
    pipe2(p, O_NONBLOCK);
    ep = epoll_create1(0);
    R("add empty", add(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 1));
    W("idle", ep, 0);
    write(p[1], "a", 1);
    W("first write", ep, 0);
    W("again", ep, 0);
    write(p[1], "b", 1);
    W("second write while readable", ep, 0);
    write(p[1], "c", 1);
    write(p[1], "d", 1);
    W("two writes, one report", ep, 0);
    R("partial read", read(p[0], buf, 1));
    W("after partial read", ep, 0);
    R("drain", read(p[0], buf, sizeof buf));
    write(p[1], "e", 1);
    W("drained and refilled unobserved", ep, 0);
    R("drain", read(p[0], buf, sizeof buf));
    write(p[1], "f", 1);
    R("read it back", read(p[0], buf, sizeof buf));
    W("woken but empty again", ep, 0);
    R("write 0 bytes", write(p[1], "g", 0));
    W("after empty write", ep, 0);
    close(ep);

    ep = epoll_create1(0);
    write(p[1], "h", 1);
    R("add readable", add(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 2));
    W("armed by add", ep, 0);
    W("once", ep, 0);
    R("mod same", add(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 3));
    W("armed by mod", ep, 0);
    W("once", ep, 0);
    R("mod to out", add(ep, EPOLL_CTL_MOD, p[0], EPOLLOUT | EPOLLET, 4));
    W("read end never writable", ep, 0);
    write(p[1], "i", 1);
    W("write does not match OUT", ep, 0);
    R("mod back", add(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLRDNORM | EPOLLET, 5));
    W("rearmed", ep, 0);
    R("drain", read(p[0], buf, sizeof buf));
    close(ep);

    SECTION("pipe write end");
    ep = epoll_create1(0);
    R("add writable", add(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLET, 10));
    W("armed", ep, 0);
    write(p[1], "x", 1);
    W("writes do not wake writers", ep, 0);
    R("read", read(p[0], buf, sizeof buf));
    W("read of a non-full pipe", ep, 0);
    for (int i = 0; i < 16; i++)
        write(p[1], big, 4096);
    R("full: write", write(p[1], "y", 1));
    W("full", ep, 0);
    R("read 1 byte", read(p[0], buf, 1));
    W("read of a full pipe, still full", ep, 0);
    R("read the rest of a page", read(p[0], buf, 4095));
    W("a page freed", ep, 0);
    R("read a page", read(p[0], buf, 4096));
    W("not full before that read", ep, 0);
    close(ep);

    SECTION("pipe eagain write");
    ep = epoll_create1(0);
    R("add reader", add(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 20));
    W("armed", ep, 0);
    while (write(p[1], big, 4096) > 0)
        ;
    W("filled", ep, 0);
    R("write to full", write(p[1], "z", 1));
    W("after EAGAIN write", ep, 0);
    R("big write to full", write(p[1], big, 8192));
    W("after big EAGAIN write", ep, 0);
    while (read(p[0], buf, sizeof buf) > 0)
        ;
    close(ep);

    SECTION("pipe hangup");
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 30);
    W("idle", ep, 0);
    write(p[1], "q", 1);
    W("data", ep, 0);
    close(p[1]);
    W("writer closed", ep, 0);
    W("once", ep, 0);
    R("read", read(p[0], buf, sizeof buf));
    W("after read", ep, 0);
    close(p[0]);
    close(ep);

    pipe2(p, O_NONBLOCK);
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLET, 31);
    W("writer armed", ep, 0);
    close(p[0]);
    W("reader closed", ep, 0);
    W("once", ep, 0);
    close(p[1]);
    close(ep);

    SECTION("pipe oneshot");
    pipe2(p, O_NONBLOCK);
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET | EPOLLONESHOT, 40);
    write(p[1], "a", 1);
    W("first", ep, 0);
    write(p[1], "b", 1);
    W("disabled", ep, 0);
    R("mod rearm", add(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET | EPOLLONESHOT, 41));
    W("rearmed readable", ep, 0);
    write(p[1], "c", 1);
    W("disabled again", ep, 0);
    R("drain", read(p[0], buf, sizeof buf));
    R("mod rearm empty", add(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET | EPOLLONESHOT, 42));
    W("nothing", ep, 0);
    write(p[1], "d", 1);
    W("write after rearm", ep, 0);
    close(p[0]);
    close(p[1]);
    close(ep);

    SECTION("pipe both ends");
    pipe2(p, O_NONBLOCK);
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 50);
    add(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLET, 51);
    W("armed", ep, 0);
    write(p[1], "a", 1);
    W("write", ep, 0);
    read(p[0], buf, sizeof buf);
    W("read", ep, 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void eventfds(void)
{
    uint64_t v = 1;
    int ep = epoll_create1(0);
    int e = eventfd(0, EFD_NONBLOCK);

    SECTION("eventfd");
    add(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLET, 1);
    W("idle", ep, 0);
    write(e, &v, 8);
    W("write", ep, 0);
    W("again", ep, 0);
    write(e, &v, 8);
    W("write while readable", ep, 0);
    v = 0;
    R("write 0", write(e, &v, 8));
    W("zero write wakes", ep, 0);
    R("read", read(e, &v, 8));
    W("read wakes writers only", ep, 0);
    v = 0;
    write(e, &v, 8);
    W("zero write, not readable", ep, 0);
    v = 3;
    write(e, &v, 8);
    R("read", read(e, &v, 8));
    W("written and read unobserved", ep, 0);
    close(ep);

    SECTION("eventfd out");
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, e, EPOLLOUT | EPOLLET, 2);
    W("armed", ep, 0);
    v = 1;
    write(e, &v, 8);
    W("write", ep, 0);
    read(e, &v, 8);
    W("read", ep, 0);
    R("read empty", read(e, &v, 8));
    W("failed read", ep, 0);
    close(ep);

    SECTION("eventfd in and out");
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLOUT | EPOLLET, 3);
    W("armed", ep, 0);
    v = 2;
    write(e, &v, 8);
    W("write", ep, 0);
    read(e, &v, 8);
    W("read", ep, 0);
    W("quiet", ep, 0);
    close(ep);

    SECTION("eventfd semaphore");
    int s = eventfd(3, EFD_NONBLOCK | EFD_SEMAPHORE);
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, s, EPOLLIN | EPOLLET, 4);
    W("armed", ep, 0);
    read(s, &v, 8);
    W("read, still readable", ep, 0);
    close(ep);
    close(s);
    close(e);
}

static void sockets(void)
{
    int sv[2], ep;
    char buf[256];

    SECTION("socketpair");
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, sv[0], EPOLLIN | EPOLLRDHUP | EPOLLET, 1);
    add(ep, EPOLL_CTL_ADD, sv[1], EPOLLOUT | EPOLLET, 2);
    W("armed", ep, 0);
    W("quiet", ep, 0);
    send(sv[1], "ab", 2, 0);
    W("send", ep, 0);
    send(sv[1], "cd", 2, 0);
    W("send while readable", ep, 0);
    R("recv all", recv(sv[0], buf, sizeof buf, 0));
    W("recv frees the sender's space", ep, 0);
    send(sv[1], "ef", 2, 0);
    R("recv", recv(sv[0], buf, sizeof buf, 0));
    W("sent and received unobserved", ep, 0);
    R("recv empty", recv(sv[0], buf, sizeof buf, 0));
    W("failed recv", ep, 0);
    R("peek", (send(sv[1], "g", 1, 0), recv(sv[0], buf, sizeof buf, MSG_PEEK)));
    W("peek frees nothing", ep, 0);
    recv(sv[0], buf, sizeof buf, 0);
    W("consumed", ep, 0);
    send(sv[1], "abcd", 4, 0);
    W("sent", ep, 0);
    R("recv part of a send", recv(sv[0], buf, 2, 0));
    W("nothing freed", ep, 0);
    R("recv its rest", recv(sv[0], buf, sizeof buf, 0));
    W("freed", ep, 0);
    send(sv[1], "ab", 2, 0);
    send(sv[1], "cd", 2, 0);
    W("two sends", ep, 0);
    R("recv the first and part of the second", recv(sv[0], buf, 3, 0));
    W("the first freed", ep, 0);
    R("recv the last byte", recv(sv[0], buf, sizeof buf, 0));
    W("the second freed", ep, 0);
    close(ep);

    SECTION("socketpair both directions");
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, sv[0], EPOLLIN | EPOLLOUT | EPOLLET, 3);
    add(ep, EPOLL_CTL_ADD, sv[1], EPOLLIN | EPOLLOUT | EPOLLET, 4);
    W("armed", ep, 0);
    send(sv[0], "x", 1, 0);
    W("0 sends", ep, 0);
    recv(sv[1], buf, sizeof buf, 0);
    W("1 receives", ep, 0);
    close(ep);

    SECTION("socketpair shutdown");
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, sv[0], EPOLLIN | EPOLLRDHUP | EPOLLET, 5);
    add(ep, EPOLL_CTL_ADD, sv[1], EPOLLOUT | EPOLLET, 6);
    W("armed", ep, 0);
    R("shutdown wr", shutdown(sv[1], SHUT_WR));
    W("after shutdown", ep, 0);
    W("once", ep, 0);
    R("shutdown rd", shutdown(sv[0], SHUT_RD));
    W("after second shutdown", ep, 0);
    close(ep);
    close(sv[0]);
    close(sv[1]);

    SECTION("socketpair close");
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, sv[0], EPOLLIN | EPOLLRDHUP | EPOLLET, 7);
    W("armed", ep, 0);
    send(sv[1], "z", 1, 0);
    W("data", ep, 0);
    close(sv[1]);
    W("peer closed", ep, 0);
    W("once", ep, 0);
    close(sv[0]);
    close(ep);
}

static void timerfds(void)
{
    uint64_t n;
    int ep = epoll_create1(0);
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec once = {{0, 0}, {0, 10 * 1000000}};
    struct itimerspec periodic = {{0, 10 * 1000000}, {0, 10 * 1000000}};
    struct timespec d = {0, 50 * 1000000};

    SECTION("timerfd");
    add(ep, EPOLL_CTL_ADD, t, EPOLLIN | EPOLLET, 1);
    W("idle", ep, 0);
    timerfd_settime(t, 0, &once, NULL);
    W("expiry", ep, 1000);
    W("once", ep, 0);
    R("read", read(t, &n, 8));
    timerfd_settime(t, 0, &once, NULL);
    W("second expiry", ep, 1000);
    timerfd_settime(t, 0, &once, NULL);
    W("rearmed while unread", ep, 1000);
    R("read", read(t, &n, 8));

    SECTION("timerfd periodic");
    timerfd_settime(t, 0, &periodic, NULL);
    W("first period", ep, 1000);
    nanosleep(&d, NULL);
    W("unread: no further wakeups", ep, 0);
    OK("read", read(t, &n, 8));
    V("overruns counted", n >= 5);
    W("next period after read", ep, 1000);
    OK("read", read(t, &n, 8));
    struct itimerspec off = {{0, 0}, {0, 0}};
    timerfd_settime(t, 0, &off, NULL);
    close(ep);

    SECTION("timerfd level");
    ep = epoll_create1(0);
    add(ep, EPOLL_CTL_ADD, t, EPOLLIN, 2);
    timerfd_settime(t, 0, &once, NULL);
    W("expiry", ep, 1000);
    W("level: still", ep, 0);
    read(t, &n, 8);
    W("read", ep, 0);
    close(ep);
    close(t);
}

static void nested(void)
{
    int p[2];
    char buf[16];
    int inner = epoll_create1(0), outer = epoll_create1(0);

    SECTION("nested");
    pipe2(p, O_NONBLOCK);
    add(inner, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 1);
    add(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 2);
    W("outer idle", outer, 0);
    write(p[1], "a", 1);
    W("outer sees inner", outer, 0);
    W("outer still", outer, 0);
    W("inner reports", inner, 0);
    W("outer after inner reported", outer, 0);
    write(p[1], "b", 1);
    W("outer again", outer, 0);
    read(p[0], buf, sizeof buf);
    W("outer after the data went", outer, 0);
    W("inner after the data went", inner, 0);
    close(p[0]);
    close(p[1]);
    close(inner);
    close(outer);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pipes();
    eventfds();
    sockets();
    timerfds();
    nested();
    return 0;
}
