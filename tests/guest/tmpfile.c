/* O_TMPFILE in a directory of /tmp: an unnamed regular file (nlink 0, in no listing) that
 * linkat(fd, "", dir, name, AT_EMPTY_PATH) names, once, unless it was opened with O_EXCL;
 * Linux's EINVAL/ENOENT/ENOTDIR cases.  (Tyn has no /proc, so the /proc/self/fd/N route of
 * linkat(AT_SYMLINK_FOLLOW) is not offered; the read-only root's EROFS has no Linux
 * counterpart here: the host's root is writable.) */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#ifndef __O_TMPFILE
#define __O_TMPFILE 020000000
#endif

static char dir[64];

static int entries(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void show(const char *what, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        printf("%s: fstat %s\n", what, errname(errno));
        return;
    }
    printf("%s: regular %d nlink %ld size %ld mode %o\n", what, S_ISREG(st.st_mode), (long)st.st_nlink,
           (long)st.st_size, st.st_mode & 07777);
}

static char *at(const char *name)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    umask(022);
    strcpy(dir, "/tmp/otmpfileXXXXXX");
    if (!mkdtemp(dir)) {
        printf("mkdtemp: %s\n", errname(errno));
        return 1;
    }

    SECTION("an unnamed file");
    int fd = open(dir, O_TMPFILE | O_RDWR, 0640);
    printf("open O_TMPFILE|O_RDWR: %s\n", fd >= 0 ? "fd" : errname(errno));
    show("fstat", fd);
    V("entries in the directory", entries());
    V("write", write(fd, "hello", 5));
    V("lseek", lseek(fd, 0, SEEK_SET));
    char buf[8] = {0};
    V("read", read(fd, buf, sizeof buf - 1));
    printf("content %s\n", buf);

    SECTION("linkat gives it a name");
    R("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, at("named"), AT_EMPTY_PATH));
    show("fstat", fd);
    V("entries", entries());
    struct stat by_name, by_fd;
    stat(at("named"), &by_name);
    fstat(fd, &by_fd);
    printf("same inode %d\n", by_name.st_ino == by_fd.st_ino);
    R("linkat again (it has a name now)", linkat(fd, "", AT_FDCWD, at("second"), AT_EMPTY_PATH));
    show("fstat", fd);
    R("linkat onto an existing name", linkat(fd, "", AT_FDCWD, at("named"), AT_EMPTY_PATH));
    R("unlink named", unlink(at("named")));
    R("unlink second", unlink(at("second")));
    show("fstat", fd);
    R("linkat after its names went (not linkable any more)", linkat(fd, "", AT_FDCWD, at("third"), AT_EMPTY_PATH));
    R("linkat without AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, at("third"), 0));
    close(fd);

    SECTION("O_EXCL: never linkable");
    fd = open(dir, O_TMPFILE | O_WRONLY | O_EXCL, 0600);
    printf("open O_TMPFILE|O_WRONLY|O_EXCL: %s\n", fd >= 0 ? "fd" : errname(errno));
    show("fstat", fd);
    R("linkat", linkat(fd, "", AT_FDCWD, at("excl"), AT_EMPTY_PATH));
    errno = 0;
    printf("read on O_WRONLY: %ld %s\n", (long)read(fd, buf, 1), errname(errno));
    close(fd);
    V("entries", entries());

    SECTION("errors");
    errno = 0;
    printf("O_RDONLY: %d %s\n", open(dir, O_TMPFILE | O_RDONLY, 0600), errname(errno));
    errno = 0;
    printf("without O_DIRECTORY: %d %s\n", open(dir, __O_TMPFILE | O_RDWR, 0600), errname(errno));
    errno = 0;
    printf("with O_CREAT: %d %s\n", open(dir, O_TMPFILE | O_CREAT | O_RDWR, 0600), errname(errno));
    errno = 0;
    printf("missing directory: %d %s\n", open(at("missing"), O_TMPFILE | O_RDWR, 0600), errname(errno));
    int plain = open(at("plain"), O_CREAT | O_WRONLY, 0600);
    close(plain);
    errno = 0;
    printf("a regular file: %d %s\n", open(at("plain"), O_TMPFILE | O_RDWR, 0600), errname(errno));
    int path_fd = open(dir, O_TMPFILE | O_RDWR | O_PATH, 0600);
    printf("with O_PATH (which drops O_TMPFILE): %s\n", path_fd >= 0 ? "fd" : errname(errno));
    close(path_fd);
    unlink(at("plain"));
    R("rmdir (nothing left in it)", rmdir(dir));
    return 0;
}
