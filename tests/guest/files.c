/* Files: open/read/write/lseek/pread/pwrite/readv/writev/stat/fstat/fstatat/getdents64/
 * readlink/symlink/access/dup/dup2/dup3/fcntl/ftruncate/openat, and /tmp create, rename,
 * unlink, mkdir, rmdir, with their error paths (ENOENT EEXIST EBADF EFAULT EINVAL ESPIPE
 * ENOTDIR EISDIR ENOTEMPTY). */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_dir(const char *label, const char *path)
{
    char buf[4096], *names[64];
    int n = 0, fd = open(path, O_RDONLY | O_DIRECTORY);
    long got;
    while ((got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < got;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            if (n < 64) {
                char *s = malloc(300);
                snprintf(s, 300, "%s/%s", d->d_name,
                         d->d_type == DT_DIR ? "d" : d->d_type == DT_REG ? "f" : d->d_type == DT_LNK ? "l" : "?");
                names[n++] = s;
            }
            off += d->d_reclen;
        }
    }
    V("getdents64 end", got);
    qsort(names, n, sizeof names[0], cmp);
    printf("%s:", label);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    close(fd);
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/tyn-abi-XXXXXX", path[256], path2[256], buf[256];
    struct stat st;
    int fd, fd2;

    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(022);
    SECTION("self");
    fd = open(argv[0], O_RDONLY);
    OK("open self", fd);
    R("read magic", read(fd, buf, 4));
    V("magic ok", memcmp(buf, "\177ELF", 4) == 0);
    R("lseek cur", lseek(fd, 0, SEEK_CUR));
    V("size = lseek end", fstat(fd, &st) == 0 && lseek(fd, 0, SEEK_END) == st.st_size);
    V("regular", S_ISREG(st.st_mode));
    R("read at eof", read(fd, buf, 10));
    close(fd);

    SECTION("create");
    if (!mkdtemp(dir)) {
        printf("mkdtemp failed: %s\n", errname(errno));
        return 1;
    }
    snprintf(path, sizeof path, "%s/a.txt", dir);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
    R("open creat", fd);
    R("open excl again", open(path, O_RDWR | O_CREAT | O_EXCL, 0644));
    R("write", write(fd, "hello, world\n", 13));
    R("lseek set", lseek(fd, 7, SEEK_SET));
    R("read", read(fd, buf, sizeof buf));
    buf[5] = 0;
    printf("read data: %s\n", buf);
    R("pwrite", pwrite(fd, "WORLD", 5, 7));
    memset(buf, 0, sizeof buf);
    R("pread", pread(fd, buf, 20, 0));
    printf("pread data: %.12s\n", buf);
    R("lseek cur unchanged", lseek(fd, 0, SEEK_CUR));
    R("lseek end+5", lseek(fd, 5, SEEK_END));
    R("write past end", write(fd, "!", 1));
    R("fstat ok", fstat(fd, &st));
    V("size", st.st_size);
    V("mode", st.st_mode & 07777);
    V("isreg", S_ISREG(st.st_mode));
    V("nlink", st.st_nlink);
    R("pread hole", pread(fd, buf, 5, 13));
    V("hole zero", buf[0] == 0 && buf[4] == 0);
    R("lseek negative", lseek(fd, -100, SEEK_SET));
    R("lseek bad whence", lseek(fd, 0, 42));
    R("ftruncate 4", ftruncate(fd, 4));
    R("fstat after truncate", fstat(fd, &st));
    V("size after truncate", st.st_size);
    struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
    R("lseek 0", lseek(fd, 0, SEEK_SET));
    R("writev", writev(fd, iov, 2));
    char r1[2], r2[3];
    struct iovec riov[2] = {{r1, 2}, {r2, 3}};
    R("lseek 0 again", lseek(fd, 0, SEEK_SET));
    R("readv", readv(fd, riov, 2));
    V("readv data", memcmp(r1, "ab", 2) == 0 && memcmp(r2, "cde", 3) == 0);

    SECTION("errors");
    R("read bad fd", read(99, buf, 1));
    R("write bad fd", write(-1, buf, 1));
    R("close bad fd", close(99));
    R("read efault at eof", read(fd, (void *)8, 4));     /* nothing to copy: 0 */
    R("lseek 0 (3)", lseek(fd, 0, SEEK_SET));
    R("read efault", read(fd, (void *)8, 4));
    R("write efault", write(fd, (void *)8, 4));
    R("open efault path", syscall(SYS_open, (void *)8, O_RDONLY));
    R("open enoent", open("/tmp/tyn-abi-does-not-exist/x", O_RDONLY));
    R("open enotdir", open(path, O_RDONLY | O_DIRECTORY));
    snprintf(path2, sizeof path2, "%s/a.txt/b", dir);
    R("open under file", open(path2, O_RDONLY));
    R("open dir for write", open(dir, O_WRONLY));
    R("stat enoent", stat("/tmp/tyn-abi-does-not-exist", &st));
    R("stat efault", syscall(SYS_stat, path, (void *)8));    /* musl's stat() would copy in user space */
    R("stat efault path", syscall(SYS_stat, (void *)8, &st));
    R("open empty path", open("", O_RDONLY));
    int p[2];
    R("pipe", pipe(p));
    R("lseek pipe", lseek(p[0], 0, SEEK_SET));
    close(p[0]);
    close(p[1]);

    SECTION("dup and fcntl");
    R("dup", dup(fd));           /* lowest free descriptor */
    R("dup2 to 10", dup2(fd, 10));
    R("dup2 same", dup2(fd, fd));
    R("dup3 same", dup3(fd, fd, 0));
    R("dup3 cloexec", dup3(fd, 11, O_CLOEXEC));
    R("getfd 11", fcntl(11, F_GETFD));
    R("getfd 10", fcntl(10, F_GETFD));
    R("setfd", fcntl(10, F_SETFD, FD_CLOEXEC));
    R("getfd 10 after", fcntl(10, F_GETFD));
    R("dupfd >= 20", fcntl(fd, F_DUPFD, 20));
    R("dupfd_cloexec >= 20", fcntl(fd, F_DUPFD_CLOEXEC, 20));
    R("getfd 21", fcntl(21, F_GETFD));
    V("getfl accmode", fcntl(fd, F_GETFL) & O_ACCMODE);
    R("setfl append|nonblock", fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
    V("getfl append", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    V("getfl nonblock", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    V("dup shares flags", (fcntl(10, F_GETFL) & O_APPEND) != 0);
    R("lseek 0 (append)", lseek(fd, 0, SEEK_SET));
    R("append write", write(fd, "Z", 1));
    R("append pos", lseek(fd, 0, SEEK_CUR));
    V("dup shares offset", lseek(10, 0, SEEK_CUR));
    R("fcntl bad cmd", fcntl(fd, 9999));
    R("fcntl bad fd", fcntl(99, F_GETFD));
    for (int i = 10; i <= 21; i++)
        close(i);
    close(fd + 1);
    close(fd);

    SECTION("names");
    R("access exists", access(path, R_OK | W_OK));
    R("access enoent", access("/tmp/tyn-abi-does-not-exist", F_OK));
    R("access bad mode", access(path, 0x100));
    snprintf(path2, sizeof path2, "%s/b.txt", dir);
    R("rename", rename(path, path2));
    R("stat old", stat(path, &st));
    R("stat new", stat(path2, &st));
    V("new size", st.st_size);
    R("rename enoent", rename(path, path2));
    snprintf(path, sizeof path, "%s/sub", dir);
    R("mkdir", mkdir(path, 0755));
    R("mkdir again", mkdir(path, 0755));
    R("stat dir", stat(path, &st));
    V("isdir", S_ISDIR(st.st_mode));
    V("dir mode", st.st_mode & 07777);
    char inner[300];
    snprintf(inner, sizeof inner, "%s/inner", path);
    R("create inner", fd2 = open(inner, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    close(fd2);
    R("rmdir nonempty", rmdir(path));
    R("unlink dir", unlink(path));
    R("rmdir file", rmdir(path2));
    R("mkdir over file", mkdir(path2, 0755));
    snprintf(inner + strlen(inner), 40, "/x");
    R("mkdir enotdir", mkdir(inner, 0755));
    char link[300];
    snprintf(link, sizeof link, "%s/lnk", dir);
    R("symlink", symlink("b.txt", link));
    memset(buf, 0, sizeof buf);
    R("readlink", readlink(link, buf, sizeof buf));
    printf("readlink data: %s\n", buf);
    R("readlink short", readlink(link, buf, 2));
    R("readlink not a link", readlink(path2, buf, sizeof buf));
    R("readlink enoent", readlink("/tmp/tyn-abi-does-not-exist", buf, sizeof buf));
    R("readlink efault", readlink(link, (char *)8, 10));
    R("lstat link", lstat(link, &st));
    V("islnk", S_ISLNK(st.st_mode));
    V("link size", st.st_size);
    R("stat through link", stat(link, &st));
    V("target isreg", S_ISREG(st.st_mode));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    OK("open dir", dfd);
    R("fstatat", fstatat(dfd, "b.txt", &st, 0));
    V("fstatat size", st.st_size);
    R("fstatat nofollow", fstatat(dfd, "lnk", &st, AT_SYMLINK_NOFOLLOW));
    V("fstatat nofollow islnk", S_ISLNK(st.st_mode));
    fd2 = openat(dfd, "c.txt", O_WRONLY | O_CREAT, 0644);
    OK("openat", fd2);
    close(fd2);
    R("openat bad dirfd", openat(99, "c.txt", O_RDONLY));
    R("read dir", read(dfd, buf, 10));
    list_dir("listing", dir);
    close(dfd);

    SECTION("cleanup");
    R("unlink link", unlink(link));
    snprintf(path2, sizeof path2, "%s/sub/inner", dir);
    R("unlink inner", unlink(path2));
    R("unlink again", unlink(path2));
    R("rmdir sub", rmdir(path));
    snprintf(path2, sizeof path2, "%s/b.txt", dir);
    R("unlink b", unlink(path2));
    snprintf(path2, sizeof path2, "%s/c.txt", dir);
    R("unlink c", unlink(path2));
    list_dir("listing after", dir);
    R("rmdir tmp", rmdir(dir));
    R("rmdir gone", rmdir(dir));
    return 0;
}
