/* Blocking pipes, eventfd and AF_UNIX socket pairs, woken by another thread: blocked
 * reads woken by data and by EOF, blocked writes woken by a reader and by EPIPE, eventfd
 * overflow waits, MSG_WAITALL, SCM_RIGHTS passing (a pipe handed to a "forker" thread, as
 * ERTS does with erl_child_setup), ECONNRESET, shutdown while blocked. */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

enum { W_WRITE, W_CLOSE, W_READ, W_SEND, W_EFD_WRITE, W_EFD_READ, W_SHUT };
struct job { int kind, fd; long n; long delay; long result; const char *data; };

static void *worker(void *arg)
{
    struct job *j = arg;
    static char buf[1 << 16];
    sleep_ms(j->delay);
    switch (j->kind) {
    case W_WRITE: j->result = write(j->fd, j->data, j->n); break;
    case W_CLOSE: j->result = close(j->fd); break;
    case W_READ: j->result = read(j->fd, buf, j->n < (long)sizeof buf ? j->n : (long)sizeof buf); break;
    case W_SEND: j->result = send(j->fd, j->data, j->n, 0); break;
    case W_EFD_WRITE: { uint64_t v = j->n; j->result = write(j->fd, &v, 8); break; }
    case W_EFD_READ: { uint64_t v; j->result = read(j->fd, &v, 8); if (j->result == 8) j->result = v; break; }
    case W_SHUT: j->result = shutdown(j->fd, (int)j->n); break;
    }
    return NULL;
}

static pthread_t later(struct job *j)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, j);
    return t;
}

/* A reader thread that drains a pipe and sums what it read. */
struct drain { int fd; long total; unsigned long sum; };
static void *drainer(void *arg)
{
    struct drain *d = arg;
    unsigned char buf[3000];
    long r;
    while ((r = read(d->fd, buf, sizeof buf)) > 0) {
        for (long i = 0; i < r; i++)
            d->sum = d->sum * 31 + buf[i];
        d->total += r;
    }
    return NULL;
}

/* The "forker": receives a pipe's write end with SCM_RIGHTS and answers through it. */
static int forker_sock;
static long forker_result;
static void *forker(void *arg)
{
    char data[16], ctl[CMSG_SPACE(3 * sizeof(int))];
    struct iovec iov = {data, sizeof data};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    long r = recvmsg(forker_sock, &m, 0);           /* blocks until the request */
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (r <= 0 || !c || c->cmsg_type != SCM_RIGHTS) {
        forker_result = -1;
        return NULL;
    }
    int fds[3];
    memcpy(fds, CMSG_DATA(c), sizeof fds);
    char reply[32];
    int n = snprintf(reply, sizeof reply, "go %.*s", (int)r, data);
    forker_result = write(fds[1], reply, n);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    send(forker_sock, "A", 1, 0);                   /* ack on the socket */
    return NULL;
}

int main(void)
{
    int p[2], s[2];
    char buf[512];
    struct timespec t0;
    struct job j;
    pthread_t t;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    SECTION("pipe: blocked read woken by data");
    pipe(p);
    j = (struct job){W_WRITE, p[1], 5, 30, 0, "hello"};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    t = later(&j);
    R("read", read(p[0], buf, sizeof buf));
    V("waited", ms_since(&t0) >= 25);
    pthread_join(t, NULL);
    V("writer", j.result);

    SECTION("pipe: blocked read woken by EOF");
    j = (struct job){W_CLOSE, p[1], 0, 30, 0, NULL};
    t = later(&j);
    R("read eof", read(p[0], buf, sizeof buf));
    pthread_join(t, NULL);
    close(p[0]);

    SECTION("pipe: blocked write woken by a reader");
    pipe(p);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    long total = 0, r;
    memset(buf, 'x', sizeof buf);
    while ((r = write(p[1], buf, sizeof buf)) > 0)
        total += r;
    printf("filled: %ld %s\n", total, errname(errno));
    fcntl(p[1], F_SETFL, 0);
    j = (struct job){W_READ, p[0], 8192, 30, 0, NULL};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    t = later(&j);
    R("write blocks", write(p[1], buf, 512));
    V("waited", ms_since(&t0) >= 25);
    pthread_join(t, NULL);
    V("reader", j.result);

    SECTION("pipe: blocked write gets EPIPE");
    j = (struct job){W_CLOSE, p[0], 0, 30, 0, NULL};
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    while (write(p[1], buf, sizeof buf) > 0)
        ;
    fcntl(p[1], F_SETFL, 0);
    t = later(&j);
    R("write", write(p[1], buf, 512));
    pthread_join(t, NULL);
    close(p[1]);

    SECTION("pipe: a large write through a reader thread");
    pipe(p);
    static unsigned char big[300000];
    unsigned long sum = 0;
    for (long i = 0; i < (long)sizeof big; i++) {
        big[i] = (unsigned char)(i * 7 + i / 1000);
        sum = sum * 31 + big[i];
    }
    struct drain d = {p[0], 0, 0};
    pthread_create(&t, NULL, drainer, &d);
    R("write 300000", write(p[1], big, sizeof big));
    close(p[1]);
    pthread_join(t, NULL);
    V("read total", d.total);
    V("checksum", d.sum == sum);
    close(p[0]);

    SECTION("eventfd");
    int efd = eventfd(0, 0);
    uint64_t v = 0;
    j = (struct job){W_EFD_WRITE, efd, 7, 30, 0, NULL};
    t = later(&j);
    R("blocked read", read(efd, &v, 8));
    V("value", v);
    pthread_join(t, NULL);
    v = UINT64_MAX - 1;
    R("fill", write(efd, &v, 8));
    j = (struct job){W_EFD_READ, efd, 0, 30, 0, NULL};
    t = later(&j);
    v = 5;
    R("blocked write", write(efd, &v, 8));
    pthread_join(t, NULL);
    V("reader got max-1", (uint64_t)j.result == UINT64_MAX - 1);
    R("read", read(efd, &v, 8));
    V("value", v);
    close(efd);
    efd = eventfd(0, EFD_SEMAPHORE);
    j = (struct job){W_EFD_WRITE, efd, 3, 30, 0, NULL};
    t = later(&j);
    R("sem blocked read", read(efd, &v, 8));
    V("sem value", v);
    pthread_join(t, NULL);
    close(efd);

    SECTION("socketpair: blocking recv, send, EOF");
    R("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, s));
    j = (struct job){W_SEND, s[1], 4, 30, 0, "ping"};
    t = later(&j);
    R("recv", recv(s[0], buf, sizeof buf, 0));
    pthread_join(t, NULL);
    j = (struct job){W_SEND, s[1], 3, 30, 0, "abc"};
    t = later(&j);
    R("waitall (short)", recv(s[0], buf, 3, MSG_WAITALL));
    pthread_join(t, NULL);
    R("dontwait", recv(s[0], buf, 1, MSG_DONTWAIT));
    j = (struct job){W_SHUT, s[1], SHUT_WR, 30, 0, NULL};
    t = later(&j);
    R("recv after peer SHUT_WR", recv(s[0], buf, sizeof buf, 0));
    pthread_join(t, NULL);
    R("send to half-closed peer", send(s[0], "x", 1, 0));
    R("peer reads it", recv(s[1], buf, sizeof buf, 0));
    j = (struct job){W_CLOSE, s[1], 0, 30, 0, NULL};
    t = later(&j);
    R("recv eof", recv(s[0], buf, sizeof buf, 0));
    pthread_join(t, NULL);
    R("send to closed", send(s[0], "x", 1, MSG_NOSIGNAL));
    close(s[0]);

    SECTION("socketpair: blocked send woken by a reader");
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    fcntl(s[0], F_SETFL, O_NONBLOCK);
    total = 0;
    while ((r = send(s[0], buf, sizeof buf, 0)) > 0)
        total += r;
    printf("filled: %s\n", errname(errno));
    fcntl(s[0], F_SETFL, 0);
    struct drain d2 = {s[1], 0, 0};
    pthread_create(&t, NULL, drainer, &d2);
    R("blocked send", send(s[0], big, 100000, 0));
    shutdown(s[0], SHUT_WR);
    pthread_join(t, NULL);
    V("drained", d2.total == total + 100000);
    close(s[0]);
    close(s[1]);

    SECTION("socketpair: unread data resets the peer");
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    send(s[1], "unread", 6, 0);
    j = (struct job){W_CLOSE, s[0], 0, 0, 0, NULL};
    t = later(&j);
    pthread_join(t, NULL);
    R("recv", recv(s[1], buf, sizeof buf, 0));
    R("recv again", recv(s[1], buf, sizeof buf, 0));
    close(s[1]);

    SECTION("SCM_RIGHTS: the forker pattern");
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s);
    int reply[2], in[2];
    pipe(reply);
    pipe(in);
    forker_sock = s[1];
    pthread_create(&t, NULL, forker, NULL);
    sleep_ms(20);                                   /* the forker is blocked in recvmsg */
    int fds[3] = {in[0], reply[1], in[1]};
    char ctl[CMSG_SPACE(sizeof fds)];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov = {"start", 5};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    R("sendmsg", sendmsg(s[0], &m, 0));
    close(reply[1]);
    close(in[0]);
    close(in[1]);
    memset(buf, 0, sizeof buf);
    R("reply", read(reply[0], buf, sizeof buf));
    printf("reply text: %s\n", buf);
    R("ack", recv(s[0], buf, 1, 0));
    pthread_join(t, NULL);
    V("forker wrote", forker_result);
    R("reply eof (all write ends closed)", read(reply[0], buf, sizeof buf));
    close(reply[0]);
    close(s[0]);
    close(s[1]);
    return 0;
}
