/* memfd_create and the JIT's dual mapping (what asmjit does for BeamAsm): an anonymous
 * file, ftruncate'd, mapped MAP_SHARED twice -- read/write and read/execute (W^X) --
 * code written through the first runs through the second.  Also the file's shape
 * (fstat, flags, cloexec), read/write/lseek on it, fork sharing the pages, and the
 * error paths of Linux 6.1 (unknown flags, bad and over-long names).  Whether a page is
 * writable is probed with read(pipe) into it (EFAULT or 1): no signal handling. */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PG 4096L
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

static int probe_pipe[2];

static long memfd(const char *name, unsigned flags)
{
    return syscall(SYS_memfd_create, name, flags);
}

/* 1 if the kernel can write the byte at p on our behalf, 0 if EFAULT. */
static int writable(void *p)
{
    char c = 'w';
    if (write(probe_pipe[1], &c, 1) != 1)
        return -2;
    long r = read(probe_pipe[0], p, 1);
    if (r == 1)
        return 1;
    if (errno == EFAULT) {
        if (read(probe_pipe[0], &c, 1) != 1)
            return -3;
        return 0;
    }
    return -1;
}

/* mov eax, imm32; ret */
static void emit_return(unsigned char *code, uint32_t value)
{
    code[0] = 0xb8;
    memcpy(code + 1, &value, 4);
    code[5] = 0xc3;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pipe(probe_pipe))
        return 1;

    SECTION("create");
    int fd = (int)memfd("vmem", MFD_CLOEXEC);
    V("fd ok", fd >= 0);
    V("cloexec", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    V("read-write", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    struct stat st;
    R("fstat", fstat(fd, &st));
    V("regular", S_ISREG(st.st_mode));
    V("mode", st.st_mode & 07777);
    V("size", st.st_size);
    V("nlink", st.st_nlink);
    int plain = (int)memfd("plain", 0);
    V("no cloexec", plain >= 0 && (fcntl(plain, F_GETFD) & FD_CLOEXEC) == 0);
    R("close plain", close(plain));
    R("empty name", close((int)memfd("", 0)));

    SECTION("file");
    R("write", write(fd, "hello", 5));
    R("lseek", lseek(fd, 0, SEEK_CUR));
    char buf[8] = {0};
    R("pread", pread(fd, buf, sizeof buf, 0));
    V("content", strcmp(buf, "hello") == 0);
    R("ftruncate 4 pages", ftruncate(fd, 4 * PG));
    R("fstat", fstat(fd, &st));
    V("size", st.st_size);
    R("pread hole", pread(fd, buf, 4, 2 * PG));
    V("hole zero", buf[0] == 0 && buf[3] == 0);

    SECTION("dual mapping");
    unsigned char *rw = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *rx = mmap(NULL, 4 * PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    V("rw mapped", rw != MAP_FAILED);
    V("rx mapped", rx != MAP_FAILED);
    V("distinct addresses", rw != rx);
    V("file bytes in rx", memcmp(rx, "hello", 5) == 0);
    emit_return(rw + PG, 42);
    V("written through rw, seen in rx", rx[PG] == 0xb8);
    V("run through rx", ((int (*)(void))(rx + PG))());
    emit_return(rw + PG, 7);                 /* rewrite: the executable view follows */
    V("rewritten code runs", ((int (*)(void))(rx + PG))());
    V("rx not writable", writable(rx + 2 * PG));
    V("rw writable", writable(rw + 2 * PG));
    R("pread sees code", pread(fd, buf, 1, PG));
    V("code byte", (unsigned char)buf[0]);
    R("mprotect rx writable", mprotect(rx, PG, PROT_READ | PROT_WRITE | PROT_EXEC));
    V("now writable", writable(rx));
    R("mprotect back", mprotect(rx, PG, PROT_READ | PROT_EXEC));

    SECTION("fork");
    pid_t pid = fork();
    if (pid == 0) {
        emit_return(rw + 3 * PG, 99);
        _exit(0);
    }
    int status = 0;
    V("waited", waitpid(pid, &status, 0) == pid);
    V("child exit", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    V("child's code runs here", ((int (*)(void))(rx + 3 * PG))());

    SECTION("after close");
    R("close", close(fd));
    emit_return(rw, 5);
    V("mapping outlives the fd", ((int (*)(void))rx)());
    R("munmap rw", munmap(rw, 4 * PG));
    R("munmap rx", munmap(rx, 4 * PG));

    SECTION("errors");
    R("unknown flag", memfd("x", 0x100));
    R("bad name pointer", memfd((const char *)8, 0));
    char name[300];
    memset(name, 'n', sizeof name);
    name[249] = 0;
    int longest = (int)memfd(name, 0);
    V("249-byte name", longest >= 0);
    close(longest);
    name[249] = 'n';
    name[250] = 0;
    R("250-byte name", memfd(name, 0));
    R("mmap shared exec of a fresh memfd beyond its size",
      (long)mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_SHARED, (fd = (int)memfd("e", 0)), 0) == -1 ? -1 : 0);
    close(fd);
    return 0;
}
