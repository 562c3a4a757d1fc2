/* Resource usage: sysinfo (and musl's sysconf(_SC_PHYS_PAGES) on it), getrusage
 * (RUSAGE_SELF/THREAD/CHILDREN), times, the CPU-time clocks agreeing with them -- user time
 * grows with a busy loop and stays put while sleeping, a thread's time shows in SELF but not
 * in another thread's THREAD, children's times arrive when they are waited for -- and
 * prctl's per-thread name and per-process dumpable flag. */
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

#define BUSY_NS 100000000LL              /* 100 ms of CPU */
#define MS(n) ((n) * 1000000LL)

static long long clock_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long tv_ns(struct timeval tv) { return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL; }

static volatile unsigned long sink;

/* Spin in user mode until this thread has used BUSY_NS of CPU. */
static void busy(void)
{
    long long start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    while (clock_ns(CLOCK_THREAD_CPUTIME_ID) - start < BUSY_NS)
        for (int i = 0; i < 100000; i++)
            sink += i;
}

static long long user_ns(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return tv_ns(ru.ru_utime);
}

static long long cpu_ns(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

static void *busy_thread(void *arg)
{
    char name[16];
    busy();
    prctl(PR_SET_NAME, "worker");
    prctl(PR_GET_NAME, name);
    printf("thread name: %s\n", name);
    return arg;
}

int main(int argc, char **argv)
{
    struct sysinfo si;
    struct rusage ru;
    struct tms tms;
    char name[32];
    setvbuf(stdout, NULL, _IOLBF, 0);
    (void)argc;

    SECTION("exec name");
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    R("get", prctl(PR_GET_NAME, name));
    V("the exec'd file's basename, 15 bytes at most", strlen(name) <= 15 && strncmp(name, base, 15) == 0);

    SECTION("sysinfo");
    R("sysinfo", sysinfo(&si));
    V("totalram > 16 MiB", (unsigned long long)si.totalram * si.mem_unit > (16ULL << 20));
    V("freeram <= totalram", si.freeram <= si.totalram);
    V("freeram > 0", si.freeram > 0);
    V("uptime > 0", si.uptime > 0);
    V("procs >= 1", si.procs >= 1);
    V("mem_unit", si.mem_unit);
    V("swap", si.totalswap + si.freeswap);
    V("phys pages match", sysconf(_SC_PHYS_PAGES) == (long)(si.totalram * si.mem_unit / 4096));
    V("avphys pages > 0", sysconf(_SC_AVPHYS_PAGES) > 0);
    R("sysinfo efault", syscall(SYS_sysinfo, (void *)8));

    SECTION("getrusage");
    R("self", getrusage(RUSAGE_SELF, &ru));
    V("self maxrss > 0", ru.ru_maxrss > 0);
    V("self minflt > 0", ru.ru_minflt > 0);
    V("self usec in range", ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
    R("thread", getrusage(RUSAGE_THREAD, &ru));
    V("thread minflt > 0", ru.ru_minflt > 0);
    V("thread maxrss > 0", ru.ru_maxrss > 0);
    R("children", getrusage(RUSAGE_CHILDREN, &ru));
    R("bad who", syscall(SYS_getrusage, 7, &ru));
    R("bad who -2", syscall(SYS_getrusage, -2, &ru));
    R("efault", syscall(SYS_getrusage, RUSAGE_SELF, (void *)8));

    SECTION("cpu time");
    long long u0 = user_ns(RUSAGE_SELF), p0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    clock_t t0 = times(&tms);
    clock_t tu0 = tms.tms_utime;
    busy();
    long long u1 = user_ns(RUSAGE_SELF), p1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    clock_t t1 = times(&tms);
    V("busy: user time grew >= 50 ms", u1 - u0 >= MS(50));
    V("busy: process clock grew >= 90 ms", p1 - p0 >= MS(90));
    V("busy: times utime grew >= 5 ticks", tms.tms_utime - tu0 >= 5);
    V("times counts forward", t1 >= t0);
    long long c0 = cpu_ns(RUSAGE_SELF);
    clock_t s0 = times(NULL);
    struct timespec nap = {0, MS(200)};
    nanosleep(&nap, NULL);
    long long c1 = cpu_ns(RUSAGE_SELF);
    clock_t s1 = times(NULL);
    V("sleep: cpu time grew < 50 ms", c1 - c0 < MS(50));
    V("sleep: times() grew >= 15 ticks", s1 - s0 >= 15);
    R("self after sleep", getrusage(RUSAGE_SELF, &ru));
    V("voluntary switches > 0", ru.ru_nvcsw > 0);
    R("times efault", syscall(SYS_times, (void *)8));

    SECTION("threads");
    pthread_t th;
    long long self0 = user_ns(RUSAGE_SELF), mine0 = user_ns(RUSAGE_THREAD);
    prctl(PR_SET_NAME, "main-thread");
    P("create", pthread_create(&th, NULL, busy_thread, NULL));
    P("join", pthread_join(th, NULL));
    long long self1 = user_ns(RUSAGE_SELF), mine1 = user_ns(RUSAGE_THREAD);
    V("thread's time in SELF >= 50 ms", self1 - self0 >= MS(50));
    V("not in the main thread's THREAD", mine1 - mine0 < MS(50));
    prctl(PR_GET_NAME, name);
    printf("main name after thread renamed itself: %s\n", name);

    SECTION("children");
    pid_t pid = fork();
    if (pid == 0) {
        busy();
        _exit(3);
    }
    int status = 0;
    R("children before wait", getrusage(RUSAGE_CHILDREN, &ru));
    long long cu0 = tv_ns(ru.ru_utime);
    times(&tms);
    clock_t cut0 = tms.tms_cutime;
    waitpid(pid, &status, 0);
    V("child exit", WEXITSTATUS(status));
    R("children after wait", getrusage(RUSAGE_CHILDREN, &ru));
    V("children utime grew >= 50 ms", tv_ns(ru.ru_utime) - cu0 >= MS(50));
    times(&tms);
    V("times cutime grew >= 5 ticks", tms.tms_cutime - cut0 >= 5);

    SECTION("wait4 and waitid rusage");
    int go[2];
    R("pipe", pipe(go));
    pid = fork();
    if (pid == 0) {
        char c;
        busy();
        read(go[0], &c, 1);     /* exits only once the parent has asked with WNOHANG */
        _exit(4);
    }
    siginfo_t child_info;
    memset(&ru, 0x5a, sizeof ru);
    /* libc's waitid passes no rusage: the raw call does. */
    R("waitid WNOHANG with a live child", syscall(SYS_waitid, P_PID, pid, &child_info, WEXITED | WNOHANG, &ru));
    V("rusage untouched while none exited", ru.ru_maxrss == 0x5a5a5a5a5a5a5a5aLL);
    R("release the child", write(go[1], "x", 1));
    memset(&ru, 0, sizeof ru);
    R("wait4 with rusage", wait4(pid, &status, 0, &ru) == pid);
    V("wait4 status", WEXITSTATUS(status));
    V("wait4 child utime >= 50 ms", tv_ns(ru.ru_utime) >= MS(50));

    SECTION("prctl name");
    pid = fork();
    if (pid == 0) {
        char n[16];
        prctl(PR_GET_NAME, n);
        printf("child inherits name: %s\n", n);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    R("set", prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz"));
    memset(name, 'x', sizeof name);
    R("get", prctl(PR_GET_NAME, name));
    printf("long name cut: %s (len %zu)\n", name, strlen(name));
    R("set efault", prctl(PR_SET_NAME, (void *)8));
    R("get efault", prctl(PR_GET_NAME, (void *)8));

    SECTION("getrandom");
    static unsigned char big[1 << 20];
    R("GRND_RANDOM", getrandom(big, 64, GRND_RANDOM));
    R("GRND_INSECURE", getrandom(big, 64, 0x0004));
    R("GRND_INSECURE|GRND_RANDOM", getrandom(big, 64, 0x0004 | GRND_RANDOM));
    R("GRND_RANDOM|GRND_NONBLOCK", getrandom(big, 64, GRND_RANDOM | GRND_NONBLOCK));
    R("1 MiB in one call", getrandom(big, sizeof big, 0));
    unsigned char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two + 4096, 4096);
    R("second page unmapped", getrandom(two, 8192, 0));
    R("last byte unmapped", getrandom(two + 4095, 2, 0));
    munmap(two, 4096);
    int ur = open("/dev/urandom", O_RDONLY), rr = open("/dev/random", O_RDONLY);
    R("read /dev/urandom", read(ur, big, 100));
    R("read /dev/random", read(rr, big, 100));
    close(ur);
    close(rr);

    SECTION("dumpable");
    R("get", prctl(PR_GET_DUMPABLE));
    R("set 0", prctl(PR_SET_DUMPABLE, 0));
    R("get after 0", prctl(PR_GET_DUMPABLE));
    R("set 2", prctl(PR_SET_DUMPABLE, 2));
    R("set 3", prctl(PR_SET_DUMPABLE, 3));
    pid = fork();
    if (pid == 0) {
        printf("child inherits dumpable: %d\n", prctl(PR_GET_DUMPABLE));
        _exit(0);
    }
    waitpid(pid, &status, 0);
    R("set 1", prctl(PR_SET_DUMPABLE, 1));
    R("get after 1", prctl(PR_GET_DUMPABLE));
    return 0;
}
