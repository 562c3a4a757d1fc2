/* Files that are not on a filesystem: fstat, fstatat(fd, "", AT_EMPTY_PATH) and statx on
 * pipes, sockets, eventfd, epoll and timerfd (file type and permission bits; the anon
 * inodes share one inode), and their lifetime: a read blocked in one thread keeps its
 * file alive when another thread closes the descriptor (close returns 0, the reader gets
 * the data written afterwards, a pipe's writer sees a reader, not EPIPE). */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

static void msleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void show(const char *what, int fd)
{
    struct stat a, b;
    unsigned char x[256];             /* struct statx; stx_mode (u16) at 0x1c */
    unsigned short xmode = 0;
    char label[64];
    snprintf(label, sizeof label, "%s fstat", what);
    R(label, fstat(fd, &a));
    printf("  type %o perms %o nlink %ld\n", a.st_mode & S_IFMT, a.st_mode & 07777, (long)a.st_nlink);
    snprintf(label, sizeof label, "%s fstatat AT_EMPTY_PATH", what);
    R(label, syscall(SYS_newfstatat, fd, "", &b, AT_EMPTY_PATH));     /* musl would fstat */
    V("  same object", a.st_mode == b.st_mode && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    snprintf(label, sizeof label, "%s statx AT_EMPTY_PATH", what);
    R(label, syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ff /* STATX_BASIC_STATS */, x));
    memcpy(&xmode, x + 0x1c, 2);
    V("  statx mode", xmode == a.st_mode);
    snprintf(label, sizeof label, "%s faccessat2 AT_EMPTY_PATH", what);
    R(label, syscall(SYS_faccessat2, fd, "", F_OK, AT_EMPTY_PATH));
}

struct reader {
    int fd;
    int vector;                         /* readv instead of read */
    long got;
    char c;
};

static void *read_one(void *arg)
{
    struct reader *r = arg;
    struct iovec iov = { &r->c, 1 };
    r->got = r->vector ? readv(r->fd, &iov, 1) : read(r->fd, &r->c, 1);
    return NULL;
}

static void close_under_reader(const char *what, int rfd, int wfd, int vector)
{
    struct reader r = { rfd, vector, -2, 0 };
    pthread_t t;
    char label[80];
    pthread_create(&t, NULL, read_one, &r);
    msleep(100);                        /* the reader is asleep in read */
    snprintf(label, sizeof label, "%s: close the fd a %s sleeps on", what, vector ? "readv" : "read");
    R(label, close(rfd));
    R("  fd is gone", fcntl(rfd, F_GETFD));
    R("  write to the other end", write(wfd, "y", 1));
    pthread_join(t, NULL);
    V("  the reader got", r.got);
    V("  byte is y", r.c == 'y');
}

int main(void)
{
    int p[2], sv[2], ep, efd, tfd;
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);

    SECTION("stat of nameless files");
    (void)!pipe(p);
    show("pipe read end", p[0]);
    show("pipe write end", p[1]);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    show("socket", sv[0]);
    efd = eventfd(0, 0);
    ep = epoll_create1(0);
    tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    show("eventfd", efd);
    show("epoll", ep);
    show("timerfd", tfd);
    {
        struct stat a, b, c;
        fstat(efd, &a);
        fstat(ep, &b);
        fstat(tfd, &c);
        V("anon inodes share one inode", a.st_ino == b.st_ino && b.st_ino == c.st_ino && a.st_dev == c.st_dev);
    }
    R("fstatat bad fd AT_EMPTY_PATH", syscall(SYS_newfstatat, 999, "", &(struct stat){0}, AT_EMPTY_PATH));
    R("fstatat pipe, empty path without AT_EMPTY_PATH", syscall(SYS_newfstatat, p[0], "", &(struct stat){0}, 0));
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
    close(efd);
    close(ep);
    close(tfd);

    SECTION("a blocked reader keeps its file");
    for (int vector = 0; vector <= 1; vector++) {
        (void)!pipe(p);
        close_under_reader("pipe", p[0], p[1], vector);
        R("  write after the reader left", write(p[1], "z", 1));
        close(p[1]);
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        close_under_reader("socket", sv[0], sv[1], vector);
        close(sv[1]);
    }
    return 0;
}
