/* sendfile(2): from a file to a unix socket, a TCP socket over loopback, a pipe and a
 * tmpfs file; the file position (or *offset) after it; Linux's errors and their order. */
#include "common.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#define SRC "/tmp/tyn-sendfile.src"
#define DST "/tmp/tyn-sendfile.dst"
#define SIZE 200000

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + (i >> 9)); }

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, errname(errno));
    else
        printf("%s: %ld\n", what, r);
}

static long pos_of(int fd) { return lseek(fd, 0, SEEK_CUR); }

struct drain { int fd; long want; long got; int intact; long start; };

static void *drain(void *arg)
{
    struct drain *d = arg;
    static unsigned char buf[65536];
    d->intact = 1;
    while (d->got < d->want) {
        long n = read(d->fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long i = 0; i < n; i++)
            if (buf[i] != pattern(d->start + d->got + i))
                d->intact = 0;
        d->got += n;
    }
    return NULL;
}

static void to_socket(int in, int out, int rx, long count, off_t *off, const char *what)
{
    struct drain d = {rx, count, 0, 0, off ? *off : pos_of(in)};
    pthread_t t;
    pthread_create(&t, NULL, drain, &d);
    long total = 0, r;
    while (total < count) {          /* a blocking socket may still take less than asked */
        r = sendfile(out, in, off, count - total);
        if (r <= 0) {
            show(what, r);
            break;
        }
        total += r;
    }
    pthread_join(t, NULL);
    printf("%s: sent %ld received %ld intact %d\n", what, total, d.got, d.intact);
}

int main(void)
{
    static unsigned char buf[SIZE];
    for (long i = 0; i < SIZE; i++)
        buf[i] = pattern(i);
    int f = open(SRC, O_RDWR | O_CREAT | O_TRUNC, 0600);
    show("write source", write(f, buf, SIZE));
    lseek(f, 0, SEEK_SET);

    /* unix stream socket, file position */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    to_socket(f, sv[0], sv[1], SIZE, NULL, "unix, file position");
    printf("position after: %ld\n", pos_of(f));

    /* with an offset: the file position stays, the offset moves */
    lseek(f, 5, SEEK_SET);
    off_t off = 1000;
    to_socket(f, sv[0], sv[1], 50000, &off, "unix, offset 1000");
    printf("offset after: %ld position after: %ld\n", (long)off, pos_of(f));

    /* count 0, at and past the end */
    off = 0;
    show("count 0", sendfile(sv[0], f, &off, 0));
    off = SIZE;
    show("at the end", sendfile(sv[0], f, &off, 100));
    off = SIZE + 50;
    show("past the end", sendfile(sv[0], f, &off, 100));

    /* TCP over loopback */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    getsockname(l, (struct sockaddr *)&a, &alen);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    show("tcp connect", connect(c, (struct sockaddr *)&a, sizeof a));
    int s = accept(l, NULL, NULL);
    off = 0;
    to_socket(f, c, s, SIZE, &off, "tcp loopback");
    close(c);
    close(s);
    close(l);

    /* a non-blocking pipe takes what fits */
    int p[2];
    pipe(p);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    off = 0;
    long r = sendfile(p[1], f, &off, SIZE);
    printf("pipe: took %s, offset moved by the same: %d\n", r > 0 && r < SIZE ? "part" : "all/none",
           off == r);
    r = sendfile(p[1], f, &off, SIZE);
    show("full pipe", r);

    /* a tmpfs file */
    int d = open(DST, O_RDWR | O_CREAT | O_TRUNC, 0600);
    off = 100;
    show("to a file", sendfile(d, f, &off, SIZE));
    lseek(d, 0, SEEK_SET);
    static unsigned char back[SIZE];
    long n = read(d, back, SIZE);
    printf("file copy: %ld bytes, equal %d\n", n, n == SIZE - 100 && memcmp(back, buf + 100, n) == 0);

    /* errors, in Linux's order */
    show("bad in fd", sendfile(sv[0], 999, NULL, 10));
    show("bad out fd", sendfile(999, f, NULL, 10));
    int ro = open(SRC, O_RDONLY);
    int wo = open(SRC, O_WRONLY);
    show("in not readable", sendfile(sv[0], wo, NULL, 10));
    show("out not writable", sendfile(ro, f, NULL, 10));
    show("in a socket", sendfile(sv[0], sv[1], NULL, 10));
    show("in a pipe", sendfile(sv[0], p[0], NULL, 10));
    off = 0;
    show("in a pipe, with offset", sendfile(sv[0], p[0], &off, 10));
    int ap = open(DST, O_WRONLY | O_APPEND);
    show("out O_APPEND", sendfile(ap, f, NULL, 10));
    show("bad offset pointer", sendfile(sv[0], f, (off_t *)8, 10));
    off = -1;
    show("negative offset", sendfile(sv[0], f, &off, 10));
    unlink(SRC);
    unlink(DST);
    return 0;
}
