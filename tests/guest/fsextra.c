/* statfs/fstatfs (per kind of file: pseudo filesystems by magic, the root and /tmp by
 * relation; error paths), flock (shared/exclusive locks per open file description, dup
 * shares, close releases, LOCK_NB, blocking until released, EINTR, Linux's non-atomic
 * conversion) and msync (flags, alignment, wrap-around, unmapped ranges, MS_SYNC of a
 * shared file mapping). */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/vfs.h>
#include <time.h>

#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534F434B
#define ANON_INODE_FS_MAGIC 0x09041934
#define ST_VALID 0x0020
#define LOCKFILE "/tmp/fsextra.lock"

static void pseudo(const char *what, int fd, long magic)
{
    struct statfs s;
    char label[64];
    snprintf(label, sizeof label, "fstatfs %s", what);
    R(label, fstatfs(fd, &s));
    printf("%s: magic %d bsize %ld namelen %ld valid %d\n", what, s.f_type == magic, (long)s.f_bsize,
           (long)s.f_namelen, (s.f_flags & ST_VALID) != 0);
}

static volatile int got_lock;
static void *lock_waiter(void *arg)
{
    int fd = open(LOCKFILE, O_RDWR);
    flock(fd, LOCK_EX);
    got_lock = 1;
    close(fd);
    return arg;
}

static pthread_t main_thread;
static void *interrupter(void *arg)
{
    struct timespec t = {0, 100000000};
    nanosleep(&t, NULL);
    pthread_kill(main_thread, SIGUSR1);
    return arg;
}
static void on_usr1(int sig) { (void)sig; }

static void sleep_ms(long ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

int main(void)
{
    struct statfs a, b;
    setvbuf(stdout, NULL, _IOLBF, 0);

    SECTION("statfs pseudo filesystems");
    int p[2], sv[2];
    pipe(p);
    pseudo("pipe", p[0], PIPEFS_MAGIC);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pseudo("socket", sv[0], SOCKFS_MAGIC);
    int efd = eventfd(0, 0);
    pseudo("eventfd", efd, ANON_INODE_FS_MAGIC);

    SECTION("statfs paths");
    R("statfs /", statfs("/", &a));
    int root = open("/", O_RDONLY | O_DIRECTORY);
    R("fstatfs /", fstatfs(root, &b));
    V("same filesystem by path and fd", a.f_type == b.f_type && a.f_bsize == b.f_bsize);
    V("root namelen", a.f_namelen);
    V("root valid", (a.f_flags & ST_VALID) != 0);
    R("statfs /tmp", statfs("/tmp", &a));
    int tmp = open("/tmp", O_RDONLY | O_DIRECTORY);
    R("fstatfs /tmp", fstatfs(tmp, &b));
    V("/tmp same by path and fd", a.f_type == b.f_type);
    V("/tmp bsize > 0", a.f_bsize > 0);
    R("statfs missing", statfs("/no/such/dir", &a));
    R("statfs empty", statfs("", &a));
    R("statfs efault path", syscall(SYS_statfs, (void *)8, &a));
    R("statfs efault buf", syscall(SYS_statfs, "/", (void *)8));
    R("fstatfs efault buf", syscall(SYS_fstatfs, root, (void *)8));
    R("fstatfs bad fd", fstatfs(-1, &a));
    R("fstatfs closed fd", fstatfs(999, &a));
    char *longpath = malloc(5000);
    memset(longpath, 'a', 4999);
    longpath[0] = '/';
    longpath[4999] = 0;
    R("statfs long path", statfs(longpath, &a));

    SECTION("flock");
    int f1 = open(LOCKFILE, O_RDWR | O_CREAT | O_TRUNC, 0644);
    int f2 = open(LOCKFILE, O_RDWR);
    int f3 = dup(f1);
    R("ex f1", flock(f1, LOCK_EX));
    R("ex f1 again", flock(f1, LOCK_EX));
    R("ex f2 nb", flock(f2, LOCK_EX | LOCK_NB));
    R("sh f2 nb", flock(f2, LOCK_SH | LOCK_NB));
    R("ex f3 (dup of f1) nb", flock(f3, LOCK_EX | LOCK_NB));
    close(f1);
    R("f2 nb while the dup holds it", flock(f2, LOCK_EX | LOCK_NB));
    close(f3);
    R("f2 nb after the last close", flock(f2, LOCK_EX | LOCK_NB));
    R("un f2", flock(f2, LOCK_UN));
    R("un f2 again", flock(f2, LOCK_UN));
    f1 = open(LOCKFILE, O_RDWR);
    R("sh f1", flock(f1, LOCK_SH));
    R("sh f2", flock(f2, LOCK_SH | LOCK_NB));
    R("convert f1 to ex nb", flock(f1, LOCK_EX | LOCK_NB));
    R("f2 ex nb after the failed conversion", flock(f2, LOCK_EX | LOCK_NB));
    R("un f2", flock(f2, LOCK_UN));
    R("bad op 0", flock(f2, 0));
    R("bad op sh|ex", flock(f2, LOCK_SH | LOCK_EX));
    R("bad op nb only", flock(f2, LOCK_NB));
    R("bad fd", flock(-1, LOCK_SH));
    R("pipe ex", flock(p[0], LOCK_EX | LOCK_NB));
    R("pipe other end", flock(p[1], LOCK_EX | LOCK_NB));
    R("pipe un", flock(p[0], LOCK_UN));

    SECTION("flock blocking");
    R("ex f1", flock(f1, LOCK_EX));
    pthread_t th;
    P("create waiter", pthread_create(&th, NULL, lock_waiter, NULL));
    sleep_ms(150);
    V("waiter blocked while held", got_lock);
    R("un f1", flock(f1, LOCK_UN));
    P("join waiter", pthread_join(th, NULL));
    V("waiter got it after the release", got_lock);

    SECTION("flock interrupted");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    R("ex f2", flock(f2, LOCK_EX));
    main_thread = pthread_self();
    P("create interrupter", pthread_create(&th, NULL, interrupter, NULL));
    R("blocked ex f1 interrupted", flock(f1, LOCK_EX));
    P("join interrupter", pthread_join(th, NULL));
    R("un f2", flock(f2, LOCK_UN));
    R("ex f1 now", flock(f1, LOCK_EX | LOCK_NB));
    close(f1);
    close(f2);
    unlink(LOCKFILE);

    SECTION("msync");
    long pg = 4096;
    char *m = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    R("sync", msync(m, 3 * pg, MS_SYNC));
    R("async", msync(m, 3 * pg, MS_ASYNC));
    R("invalidate", msync(m, 3 * pg, MS_INVALIDATE));
    R("no flags", msync(m, 3 * pg, 0));
    R("partial page length", msync(m, pg + 1, MS_SYNC));
    R("zero length", msync(m, 0, MS_SYNC));
    R("sync|async", msync(m, pg, MS_SYNC | MS_ASYNC));
    R("unknown flag", msync(m, pg, 8));
    R("unaligned", msync(m + 1, pg, MS_SYNC));
    R("wraps", syscall(SYS_msync, m, (unsigned long)-pg, MS_SYNC));
    munmap(m + pg, pg);
    R("hole sync", msync(m, 3 * pg, MS_SYNC));
    R("hole async", msync(m, 3 * pg, MS_ASYNC));
    R("before the hole", msync(m, pg, MS_SYNC));
    munmap(m, 3 * pg);
    R("unmapped", msync(m, pg, MS_SYNC));
    R("unmapped zero length", msync(m, 0, MS_SYNC));
    int fd = open("/tmp/fsextra.map", O_RDWR | O_CREAT | O_TRUNC, 0644);
    ftruncate(fd, pg);
    char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memcpy(s, "synced", 6);
    R("shared file sync", msync(s, pg, MS_SYNC));
    char back[7] = {0};
    pread(fd, back, 6, 0);
    printf("read back: %s\n", back);
    munmap(s, pg);
    close(fd);
    unlink("/tmp/fsextra.map");
    return 0;
}
