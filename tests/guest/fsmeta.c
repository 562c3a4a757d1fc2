/* File metadata: timestamps of new and written files, utimensat (UTIME_NOW/UTIME_OMIT,
 * futimens, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, the order of its error checks), chmod and
 * fchmodat/fchmod, chown/lchown/fchown/fchownat, fsync/fdatasync on files, directories and files without fsync. */
#include "common.h"
#include <fcntl.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/eventfd.h>

#define RECENT(t) (labs((long)(t) - (long)time(NULL)) <= 5)

static long utimens(int dfd, const char *path, const struct timespec *ts, int flags)
{
    return syscall(SYS_utimensat, dfd, path, ts, flags);   /* no musl fallbacks */
}

static void sleep_ms(long ms)
{
    struct timespec d = {0, ms * 1000000L};
    nanosleep(&d, NULL);
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/tyn-meta-XXXXXX", path[256], link[256], sub[256];
    struct stat st, st2;
    int fd, dfd, p[2];
    (void)argc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(022);
    if (!mkdtemp(dir)) {
        printf("mkdtemp failed: %s\n", errname(errno));
        return 1;
    }
    snprintf(path, sizeof path, "%s/f", dir);
    snprintf(link, sizeof link, "%s/l", dir);
    snprintf(sub, sizeof sub, "%s/f/x", dir);

    SECTION("timestamps");
    R("stat dir", stat(dir, &st2));
    sleep_ms(20);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
    OK("create", fd);
    R("fstat", fstat(fd, &st));
    V("mtime recent", RECENT(st.st_mtime));
    V("atime = mtime = ctime", st.st_atim.tv_sec == st.st_mtim.tv_sec && st.st_mtim.tv_sec == st.st_ctim.tv_sec &&
      st.st_atim.tv_nsec == st.st_mtim.tv_nsec && st.st_mtim.tv_nsec == st.st_ctim.tv_nsec);
    struct stat before = st2;
    R("stat dir again", stat(dir, &st2));
    V("create advances dir mtime", st2.st_mtim.tv_sec > before.st_mtim.tv_sec ||
      (st2.st_mtim.tv_sec == before.st_mtim.tv_sec && st2.st_mtim.tv_nsec > before.st_mtim.tv_nsec));
    sleep_ms(20);
    R("write", write(fd, "data", 4));
    R("fstat after write", fstat(fd, &st2));
    V("write advances mtime", st2.st_mtim.tv_sec > st.st_mtim.tv_sec ||
      (st2.st_mtim.tv_sec == st.st_mtim.tv_sec && st2.st_mtim.tv_nsec > st.st_mtim.tv_nsec));

    SECTION("utimensat");
    struct timespec ts[2] = {{1000, 5}, {2000, 7}};
    R("explicit", utimens(AT_FDCWD, path, ts, 0));
    R("stat", stat(path, &st));
    V("atime", st.st_atime); V("atime ns", st.st_atim.tv_nsec);
    V("mtime", st.st_mtime); V("mtime ns", st.st_mtim.tv_nsec);
    V("ctime recent", RECENT(st.st_ctime));
    ts[0].tv_nsec = UTIME_OMIT; ts[1].tv_sec = 3000; ts[1].tv_nsec = 0;
    R("omit atime", utimens(AT_FDCWD, path, ts, 0));
    R("stat", stat(path, &st));
    V("atime kept", st.st_atime); V("mtime set", st.st_mtime);
    ts[0].tv_nsec = UTIME_NOW; ts[1].tv_nsec = UTIME_OMIT;
    R("now atime, omit mtime", utimens(AT_FDCWD, path, ts, 0));
    R("stat", stat(path, &st));
    V("atime now", RECENT(st.st_atime)); V("mtime kept", st.st_mtime);
    R("null times", utimens(AT_FDCWD, path, NULL, 0));
    R("stat", stat(path, &st));
    V("both now", RECENT(st.st_atime) && RECENT(st.st_mtime));
    ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
    R("both omit, no such path", utimens(AT_FDCWD, "/tmp/tyn-meta-does-not-exist", ts, 0));
    ts[0].tv_sec = 1; ts[0].tv_nsec = 1000000000; ts[1].tv_nsec = 0;
    R("nsec too big", utimens(AT_FDCWD, path, ts, 0));
    R("nsec too big, no such path", utimens(AT_FDCWD, "/tmp/tyn-meta-does-not-exist", ts, 0));
    ts[0].tv_nsec = -1;
    R("nsec negative", utimens(AT_FDCWD, path, ts, 0));
    ts[0].tv_nsec = 0;
    R("bad flags", utimens(AT_FDCWD, path, ts, 1));
    R("efault times", utimens(AT_FDCWD, path, (void *)8, 0));
    R("efault path", utimens(AT_FDCWD, (void *)8, ts, 0));
    R("null path at cwd", utimens(AT_FDCWD, NULL, ts, 0));
    R("enoent", utimens(AT_FDCWD, "/tmp/tyn-meta-does-not-exist", ts, 0));
    R("enotdir", utimens(AT_FDCWD, sub, ts, 0));
    ts[0].tv_sec = 4000; ts[1].tv_sec = 5000;
    R("futimens", utimens(fd, NULL, ts, 0));
    R("fstat", fstat(fd, &st));
    V("futimens atime", st.st_atime); V("futimens mtime", st.st_mtime);
    R("futimens flags", utimens(fd, NULL, ts, AT_SYMLINK_NOFOLLOW));
    R("futimens bad fd", utimens(99, NULL, ts, 0));
    R("symlink", symlink("f", link));
    ts[0].tv_sec = 6000; ts[1].tv_sec = 7000;
    R("nofollow", utimens(AT_FDCWD, link, ts, AT_SYMLINK_NOFOLLOW));
    R("lstat", lstat(link, &st));
    V("link mtime", st.st_mtime);
    R("stat target", stat(link, &st));
    V("target mtime", st.st_mtime);
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    OK("open dir", dfd);
    ts[1].tv_sec = 8000;
    R("relative to dirfd", utimens(dfd, "f", ts, 0));
    R("empty path", utimens(fd, "", ts, AT_EMPTY_PATH));
    R("empty path without flag", utimens(fd, "", ts, 0));
    R("fstat", fstat(fd, &st));
    V("mtime", st.st_mtime);

    SECTION("chmod");
    R("chmod 600", chmod(path, 0600));
    R("stat", stat(path, &st));
    V("mode", st.st_mode & 07777); V("still regular", S_ISREG(st.st_mode));
    V("ctime recent", RECENT(st.st_ctime));
    R("chmod type bits ignored", chmod(path, S_IFDIR | 0640));
    R("stat", stat(path, &st));
    V("mode", st.st_mode & 07777); V("still regular", S_ISREG(st.st_mode));
    R("chmod through link", chmod(link, 0604));
    R("lstat link", lstat(link, &st));
    V("link mode", st.st_mode & 07777);
    R("stat target", stat(path, &st));
    V("target mode", st.st_mode & 07777);
    R("fchmodat", fchmodat(dfd, "f", 0444, 0));
    R("fstat", fstat(fd, &st));
    V("mode", st.st_mode & 07777);
    R("chmod dir", chmod(dir, 0700));
    R("stat dir", stat(dir, &st));
    V("dir mode", st.st_mode & 07777);
    R("fchmodat bad dirfd", fchmodat(99, "f", 0644, 0));
    R("fchmodat dirfd not a dir", fchmodat(fd, "f", 0644, 0));
    R("chmod enoent", chmod("/tmp/tyn-meta-does-not-exist", 0644));
    R("chmod enotdir", chmod(sub, 0644));
    R("chmod efault", syscall(SYS_chmod, (void *)8, 0644));
    R("chmod empty", chmod("", 0644));
    R("chmod 644", chmod(path, 0644));

    SECTION("chown");
    R("chmod 6755", chmod(path, 06755));
    R("chown unchanged ids", chown(path, -1, -1));
    R("stat", stat(path, &st));
    V("setuid/setgid dropped", st.st_mode & 07777);
    R("chmod 2745", chmod(path, 02745));
    R("chown unchanged ids", chown(path, -1, -1));
    R("stat", stat(path, &st));
    V("setgid without group x kept", st.st_mode & 07777);
    R("chown 1000:2000", chown(path, 1000, 2000));
    R("stat", stat(path, &st));
    V("uid", st.st_uid); V("gid", st.st_gid);
    R("chown gid only", chown(path, -1, 3000));
    R("stat", stat(path, &st));
    V("uid", st.st_uid); V("gid", st.st_gid);
    R("lchown link", lchown(link, 5, 6));
    R("lstat link", lstat(link, &st));
    V("link uid", st.st_uid); V("link gid", st.st_gid);
    R("stat target", stat(path, &st));
    V("target uid", st.st_uid);
    R("chown through link", chown(link, 7, -1));
    R("stat target", stat(path, &st));
    V("target uid", st.st_uid);
    R("fchown", fchown(fd, 0, 0));
    R("fstat", fstat(fd, &st));
    V("uid", st.st_uid); V("gid", st.st_gid);
    R("fchownat", fchownat(dfd, "f", 1, 1, 0));
    R("fchownat empty path", fchownat(fd, "", 2, 2, AT_EMPTY_PATH));
    R("fstat", fstat(fd, &st));
    V("uid", st.st_uid); V("gid", st.st_gid);
    R("fchownat bad flags", fchownat(dfd, "f", 1, 1, 1));
    R("fchownat nofollow", fchownat(dfd, "l", 8, 8, AT_SYMLINK_NOFOLLOW));
    R("lstat link", lstat(link, &st));
    V("link uid", st.st_uid);
    R("chmod dir 2755", chmod(dir, 02755));
    R("chown dir", chown(dir, -1, -1));
    R("stat dir", stat(dir, &st));
    V("dir keeps setgid", st.st_mode & 07777);
    R("chown enoent", chown("/tmp/tyn-meta-does-not-exist", 0, 0));
    R("chown efault", syscall(SYS_chown, (void *)8, 0, 0));
    R("fchown bad fd", fchown(99, 0, 0));
    int op = open(path, O_PATH);
    OK("open O_PATH", op);
    R("fchown O_PATH", syscall(SYS_fchown, op, 0, 0));      /* musl would retry via /proc */
    R("fchmod O_PATH", syscall(SYS_fchmod, op, 0600));
    R("futimens O_PATH", utimens(op, NULL, NULL, 0));
    close(op);
    R("fchmod", fchmod(fd, 0600));
    R("fstat", fstat(fd, &st));
    V("mode", st.st_mode & 07777);
    R("fchmod bad fd", fchmod(99, 0600));
    R("chown back", chown(path, 0, 0));
    R("chmod dir back", chmod(dir, 0700));

    SECTION("sync");
    R("fsync file", fsync(fd));
    R("fdatasync file", fdatasync(fd));
    R("fsync dir", fsync(dfd));
    int self = open(argv[0], O_RDONLY);
    OK("open self", self);
    R("fsync read-only file", fsync(self));
    close(self);
    R("pipe", pipe(p));
    R("fsync pipe", fsync(p[0]));
    R("fdatasync pipe", fdatasync(p[1]));
    close(p[0]);
    close(p[1]);
    int null = open("/dev/null", O_WRONLY);
    OK("open /dev/null", null);
    R("fsync /dev/null", fsync(null));
    close(null);
    int sv[2];
    R("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    R("fsync socket", fsync(sv[0]));
    close(sv[0]);
    close(sv[1]);
    int efd = eventfd(0, 0);
    OK("eventfd", efd);
    R("fsync eventfd", fsync(efd));
    close(efd);
    int opath = open(path, O_PATH);
    OK("open O_PATH", opath);
    R("fsync O_PATH", fsync(opath));
    close(opath);
    R("fsync bad fd", fsync(99));
    R("fdatasync bad fd", fdatasync(-1));

    SECTION("cleanup");
    close(fd);
    close(dfd);
    R("unlink link", unlink(link));
    R("unlink file", unlink(path));
    R("rmdir", rmdir(dir));
    return 0;
}
