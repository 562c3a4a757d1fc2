/* Process and system information: getrandom, uname (the stable fields), getpid/gettid/
 * getppid, getuid family, umask, prlimit64 / getrlimit / setrlimit, sched_getaffinity,
 * sysconf, arch_prctl, set_tid_address, ioctl on a non-tty, and ENOSYS for syscall
 * numbers that do not exist. */
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    SECTION("getrandom");
    unsigned char a[64], b[64];
    R("getrandom 64", getrandom(a, sizeof a, 0));
    R("getrandom again", getrandom(b, sizeof b, 0));
    V("differ", memcmp(a, b, sizeof a) != 0);
    int zeros = 0;
    for (unsigned i = 0; i < sizeof a; i++)
        zeros += a[i] == 0;
    V("not all zero", zeros < 16);
    R("getrandom nonblock", getrandom(a, 16, GRND_NONBLOCK));
    R("getrandom 0 bytes", getrandom(a, 0, 0));
    R("getrandom bad flags", getrandom(a, 16, 0x1000));
    R("getrandom efault", getrandom((void *)8, 16, 0));
    static unsigned char big[1 << 20];
    long got = getrandom(big, sizeof big, 0);
    V("getrandom large > 0", got > 0);

    SECTION("uname");
    struct utsname u;
    R("uname", uname(&u));
    printf("sysname: %s\n", u.sysname);
    printf("machine: %s\n", u.machine);
    int major = 0, minor = 0;
    sscanf(u.release, "%d.%d", &major, &minor);
    V("release >= 4.0", major >= 4);      /* ERTS trusts CLOCK_MONOTONIC from 2.6.33 on */
    V("nodename set", u.nodename[0] != 0);
    R("uname efault", syscall(SYS_uname, (void *)8));

    SECTION("ids");
    pid_t pid = getpid();
    V("pid > 0", pid > 0);
    V("tid == pid", syscall(SYS_gettid) == pid);
    V("ppid >= 0", getppid() >= 0);
    V("uid == euid", getuid() == geteuid());
    V("gid == egid", getgid() == getegid());
    uid_t r, e, s;
    R("getresuid", getresuid(&r, &e, &s));
    V("resuid consistent", r == getuid() && e == geteuid() && s == e);
    V("set_tid_address = tid", syscall(SYS_set_tid_address, NULL) == pid);
    R("umask set", umask(077) >= 0 ? 0 : -1);
    V("umask previous", umask(022));
    V("getpgid == getpgrp", getpgid(0) == getpgrp());
    R("getpgid no such", getpgid(0x3ffffff0));
    R("kill 0 self", kill(pid, 0));

    SECTION("rlimits");
    struct rlimit rl, rl2;
    R("getrlimit nofile", getrlimit(RLIMIT_NOFILE, &rl));
    V("nofile cur > 0", rl.rlim_cur > 0);
    V("nofile cur <= max", rl.rlim_cur <= rl.rlim_max);
    rl2 = rl;
    rl2.rlim_cur = 64;
    R("setrlimit nofile 64", setrlimit(RLIMIT_NOFILE, &rl2));
    R("prlimit64 get", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl2));
    V("nofile now", rl2.rlim_cur);
    rl2.rlim_cur = rl.rlim_max + 1;
    R("soft above hard", rl.rlim_max == RLIM_INFINITY ? (errno = EINVAL, -1L) : setrlimit(RLIMIT_NOFILE, &rl2));
    R("prlimit64 restore", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &rl, NULL));
    R("getrlimit stack", getrlimit(RLIMIT_STACK, &rl));
    V("stack >= 1 MiB", rl.rlim_cur >= (1 << 20));
    R("getrlimit as", getrlimit(RLIMIT_AS, &rl));
    R("getrlimit bad resource", syscall(SYS_prlimit64, 0, 99, NULL, &rl));
    R("prlimit64 efault", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)8));
    R("prlimit64 no such pid", syscall(SYS_prlimit64, 0x3ffffff0, RLIMIT_NOFILE, NULL, &rl));

    SECTION("cpus");
    cpu_set_t set;
    CPU_ZERO(&set);
    long bytes = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
    V("affinity bytes > 0", bytes > 0);
    V("affinity bytes multiple of 8", bytes % 8 == 0);
    V("cpus >= 1", CPU_COUNT(&set) >= 1);
    V("sysconf nprocs = affinity", sysconf(_SC_NPROCESSORS_ONLN) >= 1);
    R("affinity tiny buffer", syscall(SYS_sched_getaffinity, 0, 1, &set));
    R("affinity efault", syscall(SYS_sched_getaffinity, 0, sizeof set, (void *)8));
    R("affinity no such pid", syscall(SYS_sched_getaffinity, 0x3ffffff0, sizeof set, &set));
    V("pagesize", sysconf(_SC_PAGESIZE));
    V("clk_tck", sysconf(_SC_CLK_TCK));

    SECTION("arch_prctl");
    unsigned long fs = 0;
    R("get fs", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
    V("fs set (TLS)", fs != 0);
    R("set fs same", syscall(SYS_arch_prctl, ARCH_SET_FS, fs));
    R("bad code", syscall(SYS_arch_prctl, 0x9999, 0));
    R("get fs efault", syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)8));

    SECTION("misc");
    int p[2];
    pipe(p);
    struct winsize ws;
    R("TIOCGWINSZ on pipe", ioctl(p[0], TIOCGWINSZ, &ws));
    V("isatty pipe", isatty(p[0]));
    R("ioctl bad fd", ioctl(99, TIOCGWINSZ, &ws));
    R("syscall 1000", syscall(1000));
    R("syscall 4095", syscall(4095));
    R("syscall -1", syscall(-1));
    R("sched_yield", syscall(SYS_sched_yield));
    return 0;
}
