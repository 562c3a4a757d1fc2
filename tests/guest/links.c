/* Hard links: link/linkat (st_nlink, one st_ino for every name, writes through one name seen
 * through the other, unlink of one name, open files outliving the last name, rename between
 * names of one file), the order of their errors, AT_SYMLINK_FOLLOW and AT_EMPTY_PATH, links
 * across filesystems (memfd included). */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <sys/stat.h>

static char base[] = "/tmp/tyn-links-XXXXXX";

static const char *at(const char *name)
{
    static char bufs[4][256];
    static int next;
    char *b = bufs[next++ & 3];
    snprintf(b, sizeof bufs[0], "%s/%s", base, name);
    return b;
}

static long lnk(const char *a, const char *b)
{
    return syscall(SYS_link, a, b);
}

static long lnkat(int od, const char *a, int nd, const char *b, int flags)
{
    return syscall(SYS_linkat, od, a, nd, b, flags);
}

static long nlink_of(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return -errno;
    return (long)st.st_nlink;
}

static long same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (lstat(a, &sa) < 0 || lstat(b, &sb) < 0)
        return -1;
    return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static void put(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, strlen(data)) < 0)
        printf("put %s failed: %s\n", path, errname(errno));
    if (fd >= 0)
        close(fd);
}

static void show(const char *label, const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    printf("%s: \"%s\"\n", label, buf);
}

/* How many entries of dir are called name, and whether they all carry ino. */
static void dirent_check(const char *label, const char *dir, const char *n1, const char *n2, ino_t ino)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int seen = 0, match = 0;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, n1) || !strcmp(e->d_name, n2)) {
            seen++;
            match += e->d_ino == ino && e->d_type == DT_REG;
        }
    }
    if (d)
        closedir(d);
    printf("%s: seen %d, same ino and DT_REG %d\n", label, seen, match);
}

static void sleep_ms(long ms)
{
    struct timespec d = {0, ms * 1000000L};
    nanosleep(&d, NULL);
}

int main(void)
{
    struct stat st, st2;
    char buf[64];
    int fd, fd2, p[2];

    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(022);
    if (!mkdtemp(base)) {
        printf("mkdtemp failed: %s\n", errname(errno));
        return 1;
    }

    SECTION("link");
    put(at("f"), "hello");
    R("link f g", lnk(at("f"), at("g")));
    V("nlink f", nlink_of(at("f")));
    V("nlink g", nlink_of(at("g")));
    V("same ino", same_file(at("f"), at("g")));
    fd = open(at("g"), O_WRONLY | O_APPEND);
    R("append via g", write(fd, " world", 6));
    close(fd);
    show("read via f", at("f"));
    R("truncate via f", truncate(at("f"), 4));
    show("read via g", at("g"));
    R("chmod via g", chmod(at("g"), 0600));
    R("stat f", stat(at("f"), &st));
    V("mode via f", st.st_mode & 07777);
    R("link f h", lnk(at("f"), at("h")));
    V("nlink 3", nlink_of(at("g")));
    R("mkdir d", mkdir(at("d"), 0755));
    R("stat d", stat(at("d"), &st));
    R("link into d", lnk(at("f"), at("d/f")));
    R("stat d again", stat(at("d"), &st2));
    V("dir nlink unchanged", st2.st_nlink == st.st_nlink);
    V("nlink 4", nlink_of(at("d/f")));
    R("stat g", stat(at("g"), &st));
    dirent_check("dirents", base, "f", "g", st.st_ino);

    SECTION("ctime");
    R("stat before", stat(at("f"), &st));
    sleep_ms(20);
    R("link f c", lnk(at("f"), at("c")));
    R("stat after", stat(at("f"), &st2));
    V("link advances ctime", st2.st_ctim.tv_sec > st.st_ctim.tv_sec ||
      (st2.st_ctim.tv_sec == st.st_ctim.tv_sec && st2.st_ctim.tv_nsec > st.st_ctim.tv_nsec));
    V("mtime kept", st2.st_mtim.tv_sec == st.st_mtim.tv_sec && st2.st_mtim.tv_nsec == st.st_mtim.tv_nsec);
    R("unlink c", unlink(at("c")));

    SECTION("errors");
    R("exists", lnk(at("f"), at("g")));
    R("missing old", lnk(at("nope"), at("x")));
    R("old trailing slash", lnk(at("f/"), at("x")));
    R("old through file", lnk(at("f/y"), at("x")));
    R("new parent missing", lnk(at("f"), at("nodir/x")));
    R("new through file", lnk(at("f"), at("f/x")));
    R("new trailing slash", lnk(at("f"), at("x/")));
    R("new trailing slash existing", lnk(at("f"), at("g/")));
    R("new is dot", lnk(at("f"), at("d/.")));
    R("new is dotdot", lnk(at("f"), at("d/..")));
    R("new is a directory", lnk(at("f"), at("d")));
    R("directory", lnk(at("d"), at("d2")));
    R("directory, trailing slash", lnk(at("d/"), at("d2")));
    R("missing old and new parent", lnk(at("nope"), at("nodir/x")));
    R("bad old pointer", lnk((const char *)1, at("x")));
    R("bad new pointer", lnk(at("f"), (const char *)1));
    R("bad new pointer, missing old", lnk(at("nope"), (const char *)1));
    R("empty old", lnk("", at("x")));
    R("empty new", lnk(at("f"), ""));
    R("bad flags", lnkat(AT_FDCWD, at("f"), AT_FDCWD, at("x"), 1));
    R("bad olddfd", lnkat(99, "f", AT_FDCWD, at("x"), 0));
    R("bad newdfd", lnkat(AT_FDCWD, at("f"), 99, "x", 0));
    R("bad newdfd, missing old", lnkat(AT_FDCWD, at("nope"), 99, "x", 0));
    fd = open(at("f"), O_RDONLY);
    R("olddfd not a directory", lnkat(fd, "f", AT_FDCWD, at("x"), 0));
    close(fd);
    R("across filesystems", lnk("/dev/null", at("x")));
    V("nothing created", nlink_of(at("x")) == -ENOENT);

    SECTION("linkat");
    fd = open(base, O_RDONLY | O_DIRECTORY);
    R("relative to dfd", lnkat(fd, "f", fd, "r", 0));
    V("same ino r", same_file(at("f"), at("r")));
    R("unlink r", unlinkat(fd, "r", 0));
    R("symlink s -> f", symlink("f", at("s")));
    R("link s (no follow)", lnkat(fd, "s", fd, "s2", 0));
    R("lstat s2", lstat(at("s2"), &st));
    V("s2 is a symlink", S_ISLNK(st.st_mode));
    V("symlink nlink", nlink_of(at("s")));
    V("s2 same as s", same_file(at("s"), at("s2")));
    R("link s (follow)", lnkat(fd, "s", fd, "s3", AT_SYMLINK_FOLLOW));
    V("s3 same as f", same_file(at("f"), at("s3")));
    R("symlink dangling", symlink("nope", at("dl")));
    R("link dangling (follow)", lnkat(fd, "dl", fd, "dl2", AT_SYMLINK_FOLLOW));
    R("link dangling (no follow)", lnkat(fd, "dl", fd, "dl2", 0));
    R("readlink dl2", readlink(at("dl2"), buf, sizeof buf));
    R("link() does not follow", lnk(at("s"), at("s4")));
    R("lstat s4", lstat(at("s4"), &st));
    V("s4 is a symlink", S_ISLNK(st.st_mode));
    R("empty path without AT_EMPTY_PATH", lnkat(fd, "", fd, "e", 0));
    close(fd);

    SECTION("AT_EMPTY_PATH");
    put(at("k"), "kept");
    fd = open(at("k"), O_RDONLY);
    R("fd's file", lnkat(fd, "", AT_FDCWD, at("k2"), AT_EMPTY_PATH));
    V("nlink k", nlink_of(at("k")));
    show("read k2", at("k2"));
    fd2 = open(at("k"), O_PATH);
    R("O_PATH fd", lnkat(fd2, "", AT_FDCWD, at("k3"), AT_EMPTY_PATH));
    close(fd2);
    R("non-empty path with AT_EMPTY_PATH", lnkat(AT_FDCWD, at("k"), AT_FDCWD, at("k4"), AT_EMPTY_PATH));
    V("nlink k", nlink_of(at("k")));
    fd2 = open(base, O_RDONLY | O_DIRECTORY);
    R("directory fd", lnkat(fd2, "", AT_FDCWD, at("k5"), AT_EMPTY_PATH));
    close(fd2);
    R("bad fd", lnkat(99, "", AT_FDCWD, at("k5"), AT_EMPTY_PATH));
    R("pipe(p)", pipe(p));
    R("pipe fd", lnkat(p[0], "", AT_FDCWD, at("k5"), AT_EMPTY_PATH));
    close(p[0]);
    close(p[1]);
    fd2 = (int)syscall(SYS_memfd_create, "m", 0);
    OK("memfd_create", fd2);
    R("memfd (another filesystem)", lnkat(fd2, "", AT_FDCWD, at("m"), AT_EMPTY_PATH));
    close(fd2);
    R("unlink k k2 k3 k4", unlink(at("k")) | unlink(at("k2")) | unlink(at("k3")) | unlink(at("k4")));
    R("fstat unlinked", fstat(fd, &st));
    V("nlink 0", st.st_nlink);
    R("relink an unlinked file", lnkat(fd, "", AT_FDCWD, at("k6"), AT_EMPTY_PATH));
    close(fd);

    SECTION("unlink");
    R("unlink f", unlink(at("f")));
    show("g after unlink f", at("g"));
    V("nlink g", nlink_of(at("g")));
    R("link g f again", lnk(at("g"), at("f")));
    V("nlink f", nlink_of(at("f")));
    fd = open(at("g"), O_RDWR);
    R("unlink every name", unlink(at("f")) | unlink(at("g")) | unlink(at("h")) | unlink(at("d/f")) | unlink(at("s3")));
    R("fstat open file", fstat(fd, &st));
    V("nlink 0", st.st_nlink);
    R("write to nameless file", pwrite(fd, "zz", 2, 0));
    memset(buf, 0, sizeof buf);
    R("read it back", pread(fd, buf, sizeof buf - 1, 0));
    printf("data: \"%s\"\n", buf);
    R("stat g", stat(at("g"), &st));
    close(fd);

    SECTION("rename");
    put(at("a"), "A");
    put(at("other"), "O");
    R("link a b", lnk(at("a"), at("b")));
    R("rename a b (same file)", rename(at("a"), at("b")));
    V("a still there", nlink_of(at("a")));
    V("b still there", nlink_of(at("b")));
    R("renameat2 NOREPLACE a b", syscall(SYS_renameat2, AT_FDCWD, at("a"), AT_FDCWD, at("b"), 1));
    R("rename b c", rename(at("b"), at("c")));
    V("b gone", nlink_of(at("b")) == -ENOENT);
    V("c same as a", same_file(at("a"), at("c")));
    V("nlink a", nlink_of(at("a")));
    fd = open(at("other"), O_RDONLY);
    R("rename c over other", rename(at("c"), at("other")));
    R("fstat old other", fstat(fd, &st));
    V("old other nlink", st.st_nlink);
    close(fd);
    V("other same as a", same_file(at("a"), at("other")));
    R("rename a into d", rename(at("a"), at("d/a")));
    show("read d/a", at("d/a"));
    V("nlink d/a", nlink_of(at("d/a")));
    R("rename d/a over other (same file)", rename(at("d/a"), at("other")));
    V("d/a kept", nlink_of(at("d/a")));

    SECTION("removed directory");
    put(at("z"), "Z");
    R("mkdir rm", mkdir(at("rm"), 0755));
    fd = open(at("rm"), O_RDONLY | O_DIRECTORY);
    R("rmdir rm", rmdir(at("rm")));
    R("link into removed dir", lnkat(AT_FDCWD, at("z"), fd, "z", 0));
    close(fd);

    SECTION("cleanup");
    R("unlink the rest", unlink(at("d/a")) | unlink(at("other")) | unlink(at("s")) | unlink(at("s2")) |
      unlink(at("s4")) | unlink(at("dl")) | unlink(at("dl2")) | unlink(at("z")));
    R("rmdir d", rmdir(at("d")));
    R("rmdir base", rmdir(base));
    return 0;
}
