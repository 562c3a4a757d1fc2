/* siginfo as Linux fills it: si_code of kill/tkill/tgkill, the sender's pid, si_addr and
 * the code of faults (SEGV_MAPERR/ACCERR, BUS_ADRERR, FPE_INTDIV, ILL_ILLOPN, int3),
 * SIGCHLD's CLD_EXITED/CLD_KILLED with si_pid and si_status, rt_sigtimedwait. */
#include "common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static volatile siginfo_t got;
static volatile int got_count;
static sigjmp_buf recover;

static void record(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    got = *si;
    got_count++;
}

static void record_and_jump(int sig, siginfo_t *si, void *uc)
{
    record(sig, si, uc);
    siglongjmp(recover, 1);
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

static void show(const char *what)
{
    printf("%s: signo %d code %d pid_is_me %d uid %d\n", what, got.si_signo, got.si_code,
           got.si_pid == getpid(), (int)got.si_uid);
}

static const char *code_name(int sig, int code)
{
    if (code == SI_USER) return "SI_USER";
    if (code == SI_TKILL) return "SI_TKILL";
    if (code == SI_KERNEL) return "SI_KERNEL";
    if (code == SI_QUEUE) return "SI_QUEUE";
    if (sig == SIGSEGV && code == SEGV_MAPERR) return "SEGV_MAPERR";
    if (sig == SIGSEGV && code == SEGV_ACCERR) return "SEGV_ACCERR";
    if (sig == SIGBUS && code == BUS_ADRERR) return "BUS_ADRERR";
    if (sig == SIGFPE && code == FPE_INTDIV) return "FPE_INTDIV";
    if (sig == SIGILL && code == ILL_ILLOPN) return "ILL_ILLOPN";
    if (sig == SIGCHLD && code == CLD_EXITED) return "CLD_EXITED";
    if (sig == SIGCHLD && code == CLD_KILLED) return "CLD_KILLED";
    if (sig == SIGCHLD && code == CLD_DUMPED) return "CLD_DUMPED";
    return "other";
}

static void sender_codes(void)
{
    SECTION("senders");
    on(SIGUSR1, record);
    R("kill self", kill(getpid(), SIGUSR1));
    show("kill");
    printf("kill code: %s\n", code_name(SIGUSR1, got.si_code));
    R("tgkill self", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1));
    printf("tgkill code: %s pid_is_me %d\n", code_name(SIGUSR1, got.si_code), got.si_pid == getpid());
    R("tkill self", syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR1));
    printf("tkill code: %s\n", code_name(SIGUSR1, got.si_code));
    R("raise", raise(SIGUSR1));
    printf("raise code: %s\n", code_name(SIGUSR1, got.si_code));
    R("kill group", kill(0, 0));
}

static void faults(void)
{
    static volatile int zero = 0;
    static volatile int *volatile null_page = (volatile int *)0x10;
    volatile int sink;
    char path[] = "/tmp/siginfo-bus-XXXXXX";
    SECTION("faults");
    on(SIGSEGV, record_and_jump);
    on(SIGBUS, record_and_jump);
    on(SIGFPE, record_and_jump);
    on(SIGILL, record_and_jump);
    on(SIGTRAP, record_and_jump);

    if (!sigsetjmp(recover, 1))
        sink = *null_page;
    printf("null read: signo %d %s addr_ok %d\n", got.si_signo, code_name(got.si_signo, got.si_code),
           got.si_addr == (void *)0x10);

    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!sigsetjmp(recover, 1))
        ro[100] = 1;
    printf("read-only write: signo %d %s addr_ok %d\n", got.si_signo, code_name(got.si_signo, got.si_code),
           got.si_addr == ro + 100);

    int fd = mkstemp(path);
    R("ftruncate 100", ftruncate(fd, 100));
    char *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    if (!sigsetjmp(recover, 1))
        sink = m[4096 + 8];
    printf("beyond file: signo %d %s addr_ok %d\n", got.si_signo, code_name(got.si_signo, got.si_code),
           got.si_addr == m + 4096 + 8);
    close(fd);
    unlink(path);

    if (!sigsetjmp(recover, 1))
        sink = 7 / zero;
    printf("divide: signo %d %s addr_set %d\n", got.si_signo, code_name(got.si_signo, got.si_code),
           got.si_addr != NULL);

    extern char ud2_here[];
    if (!sigsetjmp(recover, 1))
        __asm__ volatile(".globl ud2_here\nud2_here: ud2");
    printf("ud2: signo %d %s addr_ok %d\n", got.si_signo, code_name(got.si_signo, got.si_code),
           got.si_addr == (void *)ud2_here);

    if (!sigsetjmp(recover, 1))
        __asm__ volatile("int3");
    printf("int3: signo %d %s\n", got.si_signo, code_name(got.si_signo, got.si_code));
    (void)sink;
}

static void children(void)
{
    SECTION("SIGCHLD");
    on(SIGCHLD, record);
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);

    /* Block SIGCHLD around each child so the handler runs once we unblock it. */
    sigprocmask(SIG_BLOCK, &chld, &old);
    pid_t c = fork();
    if (c == 0)
        _exit(3);
    int st;
    R("exited child reaped", waitpid(c, &st, 0) == c);
    got_count = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("handler ran: %d %s pid_ok %d status %d\n", got_count, code_name(SIGCHLD, got.si_code),
           got.si_pid == c, got.si_status);
    V("WIFEXITED", WIFEXITED(st));
    V("WEXITSTATUS", WEXITSTATUS(st));

    sigprocmask(SIG_BLOCK, &chld, &old);
    c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    R("kill child", kill(c, SIGKILL));
    R("killed child reaped", waitpid(c, &st, 0) == c);
    got_count = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("handler ran: %d %s pid_ok %d status %d\n", got_count, code_name(SIGCHLD, got.si_code),
           got.si_pid == c, got.si_status);
    V("WIFSIGNALED", WIFSIGNALED(st));
    V("WTERMSIG", WTERMSIG(st));

    sigprocmask(SIG_BLOCK, &chld, &old);
    c = fork();
    if (c == 0)
        _exit(130);             /* an exit code above 128 is not a signal */
    R("exit 130 reaped", waitpid(c, &st, 0) == c);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("exit 130: exited %d status %d signaled %d siginfo %s %d\n", WIFEXITED(st), WEXITSTATUS(st),
           WIFSIGNALED(st), code_name(SIGCHLD, got.si_code), got.si_status);
    signal(SIGCHLD, SIG_DFL);
}

static void timed_wait(void)
{
    SECTION("rt_sigtimedwait");
    sigset_t set, old;
    siginfo_t si;
    struct timespec zero = {0, 0}, short_wait = {0, 20 * 1000 * 1000};
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);
    R("nothing pending, zero timeout", sigtimedwait(&set, &si, &zero));
    R("nothing pending, 20 ms", sigtimedwait(&set, &si, &short_wait));
    R("kill self", kill(getpid(), SIGUSR2));
    memset(&si, 0, sizeof si);
    R("pending", sigtimedwait(&set, &si, &zero));
    printf("info: signo %d %s pid_is_me %d\n", si.si_signo, code_name(SIGUSR2, si.si_code), si.si_pid == getpid());
    R("taken", sigtimedwait(&set, &si, &zero));
    R("tkill self", syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR2));
    R("sigwaitinfo", sigwaitinfo(&set, &si));
    printf("info: %s\n", code_name(SIGUSR2, si.si_code));
    /* A SIGCHLD left at SIG_DFL is discarded unless blocked: blocked, it waits for us. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    pid_t c = fork();
    if (c == 0)
        _exit(9);
    memset(&si, 0, sizeof si);
    R("SIGCHLD waited for", sigwaitinfo(&chld, &si));
    printf("info: %s pid_ok %d status %d\n", code_name(SIGCHLD, si.si_code), si.si_pid == c, si.si_status);
    int st;
    R("reaped", waitpid(c, &st, 0) == c);
    R("bad size", syscall(SYS_rt_sigtimedwait, &set, NULL, NULL, 4));
    struct timespec bad = {0, 1000000000};
    R("bad timeout", sigtimedwait(&set, &si, &bad));
    sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sender_codes();
    faults();
    children();
    timed_wait();
    return 0;
}
