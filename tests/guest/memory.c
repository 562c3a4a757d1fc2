/* Memory: mmap (anonymous, file-backed, PROT_NONE reservation + MAP_FIXED commit, the
 * ERTS literal-area pattern), munmap (partial), mprotect, mremap (grow in place, MAYMOVE,
 * shrink), brk, madvise (DONTNEED zero-fills, FREE), tmpfs files mapped private and shared,
 * fork's sharing (copy-on-write private pages, MAP_SHARED pages), and the error paths.  Whether a page
 * is accessible is probed with write(pipe, addr, 1) -- EFAULT or 1 -- so no signal
 * handling is needed. */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <signal.h>

#define PG 4096L
/* mmap/mremap: "label: ok" or "label: ERRNAME" */
#define MM(label, expr) do { \
        errno = 0; \
        void *p_ = (expr); \
        printf("%s: %s\n", (label), p_ == MAP_FAILED ? errname(errno) : "ok"); \
    } while (0)
static int probe_pipe[2];

/* 1 if the byte at p is readable by the kernel on our behalf, 0 if EFAULT. */
static int readable(const void *p)
{
    char c;
    long r = write(probe_pipe[1], p, 1);
    if (r == 1) {
        if (read(probe_pipe[0], &c, 1) != 1)
            return -2;
        return 1;
    }
    return errno == EFAULT ? 0 : -1;
}

/* 1 if the kernel can write the byte at p (read(pipe) into it), 0 if EFAULT. */
static int writable(void *p)
{
    char c = 'w';
    if (write(probe_pipe[1], &c, 1) != 1)
        return -2;
    long r = read(probe_pipe[0], p, 1);
    if (r == 1)
        return 1;
    if (errno == EFAULT) {   /* drain the byte */
        if (read(probe_pipe[0], &c, 1) != 1)
            return -3;
        return 0;
    }
    return -1;
}

/* The signal a read of p raises (0: none), caught with a handler and siglongjmp. */
static sigjmp_buf touch_env;
static void on_touch_fault(int sig) { siglongjmp(touch_env, sig); }
static int touch_signal(volatile char *p)
{
    struct sigaction sa, old_bus, old_segv;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_touch_fault;
    sigaction(SIGBUS, &sa, &old_bus);
    sigaction(SIGSEGV, &sa, &old_segv);
    int sig = sigsetjmp(touch_env, 1);
    if (sig == 0)
        (void)p[0];
    sigaction(SIGBUS, &old_bus, NULL);
    sigaction(SIGSEGV, &old_segv, NULL);
    return sig;
}

static int all_zero(const char *p, long n)
{
    for (long i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pipe(probe_pipe))
        return 1;

    SECTION("anonymous");
    char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    V("mmap ok", a != MAP_FAILED);
    V("page aligned", ((uintptr_t)a & (PG - 1)) == 0);
    V("zero filled", all_zero(a, 4 * PG));
    memset(a, 0x5a, 4 * PG);
    V("written", a[4 * PG - 1] == 0x5a);
    V("readable", readable(a + PG));
    R("munmap middle", munmap(a + PG, PG));
    V("hole readable", readable(a + PG));
    V("left kept", readable(a) == 1 && a[0] == 0x5a);
    V("right kept", readable(a + 2 * PG) == 1 && a[2 * PG] == 0x5a);
    R("munmap hole again", munmap(a + PG, PG));         /* unmapping nothing is fine */
    R("munmap rest", munmap(a, 4 * PG));
    V("gone", readable(a + 3 * PG));

    SECTION("reservation");
    /* ERTS: reserve PROT_NONE|MAP_NORESERVE, commit with MAP_FIXED RW, give back with PROT_NONE. */
    long big = 1L << 30;
    char *res = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    V("reserve 1 GiB", res != MAP_FAILED);
    V("reserved not readable", readable(res + 5 * PG));
    char *c = mmap(res + 16 * PG, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    V("commit fixed at address", c == res + 16 * PG);
    V("committed zero", all_zero(c, 8 * PG));
    memset(c, 1, 8 * PG);
    V("committed writable", writable(c + 7 * PG));
    V("below commit still none", readable(c - 1));
    V("above commit still none", readable(c + 8 * PG));
    char *d = mmap(c, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    V("decommit", d == c);
    V("decommitted not readable", readable(c));
    c = mmap(res + 16 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    V("recommit is zero", c == res + 16 * PG && all_zero(c, PG));
    MM("fixed_noreplace on mapped", mmap(res, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
    void *nr = mmap(res + 2 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    V("hint inside mapping not honoured", nr != res + 2 * PG);
    munmap(nr, PG);
    R("munmap reservation", munmap(res, big));

    SECTION("mprotect");
    char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(m, 7, 3 * PG);
    R("mprotect ro", mprotect(m + PG, PG, PROT_READ));
    V("ro readable", readable(m + PG));
    V("ro not writable", writable(m + PG));
    V("neighbour writable", writable(m + 2 * PG));
    R("mprotect none", mprotect(m, PG, PROT_NONE));
    V("none not readable", readable(m));
    R("mprotect rw", mprotect(m, 3 * PG, PROT_READ | PROT_WRITE));
    V("contents kept", m[0] == 7 && m[PG] == 7 && m[2 * PG] == 'w');   /* writable() stores 'w' */
    V("writable again", writable(m + PG));
    R("mprotect unaligned", syscall(SYS_mprotect, m + 1, PG, PROT_READ));   /* musl's mprotect rounds */
    R("mprotect bad prot", mprotect(m, PG, 0x100));
    char *gone = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, PG);
    R("mprotect unmapped", mprotect(gone, PG, PROT_READ));
    munmap(m, 3 * PG);

    SECTION("mremap");
    /* three pages: the first two are the region, the third blocks growth in place */
    char *r = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (long i = 0; i < 2 * PG; i++)
        r[i] = (char)(i * 7);
    char *blocker = r + 2 * PG;
    blocker[0] = 'b';
    MM("grow in place blocked", mremap(r, 2 * PG, 4 * PG, 0));
    char *moved = mremap(r, 2 * PG, 16 * PG, MREMAP_MAYMOVE);
    V("maymove ok", moved != MAP_FAILED);
    V("moved", moved != r);
    int same = 1;
    for (long i = 0; i < 2 * PG; i++)
        same &= moved[i] == (char)(i * 7);
    V("contents moved", same);
    V("new tail zero", all_zero(moved + 2 * PG, 14 * PG));
    V("old range gone", readable(r));
    V("blocker kept", readable(blocker) == 1 && blocker[0] == 'b');
    char *shrunk = mremap(moved, 16 * PG, 4 * PG, 0);
    V("shrink in place", shrunk == moved);
    V("shrunk tail gone", readable(moved + 4 * PG));
    MM("mremap zero size", mremap(moved, 4 * PG, 0, MREMAP_MAYMOVE));
    MM("mremap unaligned", mremap(moved + 1, PG, 2 * PG, MREMAP_MAYMOVE));
    MM("mremap bad flags", mremap(moved, PG, 2 * PG, 0x80));
    munmap(shrunk, 4 * PG);
    munmap(blocker, PG);

    SECTION("file mapping");
    char path[] = "/tmp/tyn-abi-mmap-XXXXXX";
    int fd = mkstemp(path);
    char block[2 * PG];
    for (long i = 0; i < 2 * PG; i++)
        block[i] = (char)(i % 251);
    R("write file", write(fd, block, sizeof block));
    char *f = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    V("file map ok", f != MAP_FAILED);
    V("file contents", memcmp(f, block, sizeof block) == 0);
    char *f2 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
    V("offset map", f2 != MAP_FAILED && f2[0] == block[PG]);
    f2[0] = 99;
    char one;
    R("pread after private write", pread(fd, &one, 1, PG));
    V("private write not in file", one == block[PG]);
    V("offset unaligned", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100));
    munmap(f, 2 * PG);
    munmap(f2, PG);

    SECTION("shared file mapping");
    char *sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    V("shared map ok", sh != MAP_FAILED);
    sh[10] = 'S';
    R("pread sees mapping write", pread(fd, &one, 1, 10));
    V("file has S", one == 'S');
    R("pwrite into file", pwrite(fd, "P", 1, PG + 5));
    V("mapping sees pwrite", sh[PG + 5] == 'P');
    char *pv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    V("private sees shared write", pv[10] == 'S');
    sh[11] = 'T';
    V("untouched private page follows the file", pv[11] == 'T');
    pv[12] = 'U';
    sh[13] = 'V';
    V("written private page is a copy", pv[13] != 'V' && sh[12] != 'U');
    munmap(pv, PG);
    int rdonly = open(path, O_RDONLY);
    MM("shared writable on O_RDONLY", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, rdonly, 0));
    MM("shared read-only on O_RDONLY", mmap(NULL, PG, PROT_READ, MAP_SHARED, rdonly, 0));
    close(rdonly);
    R("shrink the file to one page", ftruncate(fd, PG));
    V("mapped page past the new end", touch_signal(sh + PG));
    char *past = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
    V("touch past the end of the file", touch_signal(past + PG));
    V("touch inside the file", touch_signal(past));
    munmap(past, 2 * PG);
    R("unlink while mapped", unlink(path));
    sh[20] = 'W';
    V("mapping outlives the name", sh[20] == 'W' && sh[10] == 'S');
    munmap(sh, 2 * PG);
    close(fd);

    SECTION("fork sharing");
    char *priv = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *shan = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *ro = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    priv[0] = 'a';
    priv[PG] = 'b';
    shan[0] = 'c';                  /* shan[PG] untouched before the fork */
    ro[0] = 'r';
    R("mprotect read-only before fork", mprotect(ro, PG, PROT_READ));
    int sync_pipe[2];
    R("pipe", pipe(sync_pipe));
    pid_t child = fork();
    if (child == 0) {
        char verdict[8];
        verdict[0] = priv[0] == 'a' && priv[PG] == 'b' ? 'y' : 'n';   /* sees the parent's pages */
        priv[0] = 'A';                                               /* its own copy now */
        shan[0] = 'C';                                               /* the parent sees it */
        shan[PG] = 'D';                                              /* even in a page untouched at fork */
        verdict[1] = mprotect(ro, PG, PROT_READ | PROT_WRITE) == 0 ? 'y' : 'n';
        ro[0] = 'R';                                                 /* the parent keeps 'r' */
        verdict[2] = readable(priv) == 1 && writable(priv + PG) == 1 ? 'y' : 'n';
        if (write(sync_pipe[1], verdict, 3) != 3)
            _exit(2);
        _exit(0);
    }
    char got[3] = {0};
    R("child verdict", read(sync_pipe[0], got, 3));
    int status = 0;
    R("wait child", waitpid(child, &status, 0) == child ? 0 : -1);
    V("child exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    V("child saw the parent's pages", got[0] == 'y');
    V("child mprotect", got[1] == 'y');
    V("child kernel copies", got[2] == 'y');
    V("private page unchanged by the child", priv[0] == 'a' && priv[PG] == 'b');
    V("private page written after fork", (priv[0] = 'z') == 'z' && priv[PG] == 'b');
    V("shared page written by the child", shan[0] == 'C');
    V("shared page first touched by the child", shan[PG] == 'D');
    V("read-only page kept", ro[0] == 'r' && readable(ro) == 1 && writable(ro) == 0);
    munmap(priv, 2 * PG);
    munmap(shan, 2 * PG);
    munmap(ro, PG);
    close(sync_pipe[0]);
    close(sync_pipe[1]);

    SECTION("errors");
    MM("length 0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    MM("no private/shared", mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0));
    MM("fixed unaligned", mmap((void *)0x10000001, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    MM("bad fd", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 99, 0));
    MM("huge", mmap(NULL, 1L << 50, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    R("munmap unaligned", munmap((void *)0x10000001, PG));
    R("munmap zero length", munmap((void *)0x10000000, 0));

    SECTION("madvise");
    char *z = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(z, 3, 4 * PG);
    R("dontneed", madvise(z + PG, PG, MADV_DONTNEED));
    V("dontneed zeroed", all_zero(z + PG, PG));
    V("others kept", z[0] == 3 && z[2 * PG] == 3);
    R("free", madvise(z + 2 * PG, PG, MADV_FREE));
    R("willneed", madvise(z, 4 * PG, MADV_WILLNEED));
    R("normal", madvise(z, 4 * PG, MADV_NORMAL));
    R("bad advice", madvise(z, PG, 12345));
    R("unaligned", madvise(z + 1, PG, MADV_DONTNEED));
    munmap(z, 4 * PG);

    SECTION("brk");
    uintptr_t b0 = (uintptr_t)syscall(SYS_brk, 0);
    V("brk nonzero", b0 != 0);
    uintptr_t b1 = (uintptr_t)syscall(SYS_brk, b0 + 64 * 1024);
    V("brk grew", b1 == b0 + 64 * 1024);
    memset((void *)b0, 9, 64 * 1024);
    V("brk memory writable", ((char *)b0)[64 * 1024 - 1] == 9);
    uintptr_t b2 = (uintptr_t)syscall(SYS_brk, b0 + 4096);
    V("brk shrank", b2 == b0 + 4096);
    V("shrunk part gone", readable((void *)(b0 + 8 * 4096)));
    uintptr_t b3 = (uintptr_t)syscall(SYS_brk, b0 + 64 * 1024);
    V("regrown is zero", b3 == b0 + 64 * 1024 && all_zero((void *)(b0 + 4096), 60 * 1024));
    uintptr_t b4 = (uintptr_t)syscall(SYS_brk, 1);
    V("brk too low unchanged", b4 == b3);
    uintptr_t b5 = (uintptr_t)syscall(SYS_brk, (uintptr_t)1 << 62);
    V("brk absurd unchanged", b5 == b3);
    syscall(SYS_brk, b0);

    SECTION("malloc");
    /* mallocng: brk for small, mmap for large; realloc of large uses mremap */
    char *big1 = malloc(1 << 20);
    memset(big1, 1, 1 << 20);
    char *big2 = realloc(big1, 8 << 20);
    V("realloc big", big2 != NULL && big2[(1 << 20) - 1] == 1);
    free(big2);
    void *ptrs[1000];
    for (int i = 0; i < 1000; i++)
        memset(ptrs[i] = malloc(16 + i), i, 16 + i);
    int ok = 1;
    for (int i = 0; i < 1000; i++)
        ok &= ((unsigned char *)ptrs[i])[15 + i] == (unsigned char)i;
    V("small allocations", ok);
    for (int i = 0; i < 1000; i++)
        free(ptrs[i]);
    return 0;
}
