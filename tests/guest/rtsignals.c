/* Real-time signals queue (every instance delivered once, with its own siginfo, lowest
 * signal first), standard signals do not; sigqueue/rt_sigqueueinfo/rt_tgsigqueueinfo with
 * si_value and Linux's EPERM rule; sigwaitinfo; RLIMIT_SIGPENDING bounds the queue (EAGAIN
 * for sigqueue and tgkill, a kill() past it stays pending without its siginfo); SIG_IGN
 * discards queued instances; rt_sigpending. */
#include "common.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_SEEN 16
static volatile int seen_sig[MAX_SEEN], seen_value[MAX_SEEN], seen_code[MAX_SEEN], seen_pid_me[MAX_SEEN];
static volatile int seen;

static void record(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (seen < MAX_SEEN) {
        seen_sig[seen] = sig;
        seen_value[seen] = si->si_value.sival_int;
        seen_code[seen] = si->si_code;
        seen_pid_me[seen] = si->si_pid == getpid();
    }
    seen++;
}

static const char *code_name(int code)
{
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TKILL: return "SI_TKILL";
    default: return "other";
    }
}

static const char *sig_name(int sig)
{
    static char buf[32];
    if (sig == SIGUSR1) return "SIGUSR1";
    if (sig == SIGUSR2) return "SIGUSR2";
    snprintf(buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
    return buf;
}

static void handle(int sig, const sigset_t *during)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = record;
    sa.sa_flags = SA_SIGINFO;
    if (during)
        sa.sa_mask = *during;
    sigaction(sig, &sa, NULL);
}

static int queue(pid_t pid, int sig, int value)
{
    union sigval v = {.sival_int = value};
    return sigqueue(pid, sig, v);
}

static long raw_queueinfo(pid_t pid, int sig, int code, int value)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = code;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = value;
    return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
}

static void take(const char *what, const sigset_t *set)
{
    siginfo_t si;
    struct timespec zero = {0, 0};
    errno = 0;
    int sig = sigtimedwait(set, &si, &zero);
    if (sig < 0)
        printf("%s: -1 %s\n", what, errname(errno));
    else
        printf("%s: %s code %s value %d pid_is_me %d pid_zero %d\n", what, sig_name(sig),
               code_name(si.si_code), si.si_value.sival_int, si.si_pid == getpid(), si.si_pid == 0);
}

static void limit_section(void)
{
    sigset_t set;
    struct rlimit rl, small = {4, 4};
    R("getrlimit", getrlimit(RLIMIT_SIGPENDING, &rl));
    printf("cur > 0 %d, cur == max %d\n", rl.rlim_cur > 0, rl.rlim_cur == rl.rlim_max);
    R("setrlimit 4", setrlimit(RLIMIT_SIGPENDING, &small));
    struct rlimit back;
    R("getrlimit again", getrlimit(RLIMIT_SIGPENDING, &back));
    printf("cur %ld max %ld\n", (long)back.rlim_cur, (long)back.rlim_max);
    struct rlimit inverted = {5, 4};
    R("cur above max", setrlimit(RLIMIT_SIGPENDING, &inverted));
    int queued = 0;
    for (int i = 0; i < 8; i++) {
        errno = 0;
        if (queue(getpid(), SIGRTMIN + 5, 60 + i) == 0)
            queued++;
        else
            break;
    }
    printf("queued %d, then %s\n", queued, errname(errno));
    R("tgkill RTMIN+5 past the limit", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGRTMIN + 5));
    R("kill RTMIN+6 past the limit", kill(getpid(), SIGRTMIN + 6));
    R("sigqueue USR2 past the limit (standard)", queue(getpid(), SIGUSR2, 70));
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 5);
    sigaddset(&set, SIGRTMIN + 6);
    sigaddset(&set, SIGUSR2);
    for (int i = 0; i < 7; i++)
        take("drain", &set);

}

int main(void)
{
    sigset_t set, all_test, none, pending;
    setvbuf(stdout, NULL, _IONBF, 0);
    sigemptyset(&none);
    sigemptyset(&all_test);
    sigaddset(&all_test, SIGUSR1);
    sigaddset(&all_test, SIGUSR2);
    for (int i = 0; i <= 6; i++)
        sigaddset(&all_test, SIGRTMIN + i);

    SECTION("queued delivery through handlers");
    /* Each handler blocks every test signal, so Linux and Tyn both run one at a time. */
    handle(SIGUSR1, &all_test);
    handle(SIGRTMIN, &all_test);
    handle(SIGRTMIN + 1, &all_test);
    sigprocmask(SIG_BLOCK, &all_test, NULL);
    R("sigqueue RTMIN+1 value 1", queue(getpid(), SIGRTMIN + 1, 1));
    R("sigqueue RTMIN+1 value 2", queue(getpid(), SIGRTMIN + 1, 2));
    R("sigqueue RTMIN+1 value 3", queue(getpid(), SIGRTMIN + 1, 3));
    R("sigqueue RTMIN value 10", queue(getpid(), SIGRTMIN, 10));
    R("sigqueue RTMIN value 11", queue(getpid(), SIGRTMIN, 11));
    R("sigqueue USR1 value 20", queue(getpid(), SIGUSR1, 20));
    R("sigqueue USR1 value 21 (merged)", queue(getpid(), SIGUSR1, 21));
    R("rt_sigpending", syscall(SYS_rt_sigpending, &pending, 8));
    printf("pending: USR1 %d RTMIN %d RTMIN+1 %d RTMIN+2 %d\n", sigismember(&pending, SIGUSR1),
           sigismember(&pending, SIGRTMIN), sigismember(&pending, SIGRTMIN + 1),
           sigismember(&pending, SIGRTMIN + 2));
    R("rt_sigpending size 9", syscall(SYS_rt_sigpending, &pending, 9));
    R("rt_sigpending bad address", syscall(SYS_rt_sigpending, (void *)8, 8));
    seen = 0;
    sigprocmask(SIG_UNBLOCK, &all_test, NULL);
    sigprocmask(SIG_BLOCK, &all_test, NULL);
    printf("delivered %d\n", seen);
    for (int i = 0; i < seen && i < MAX_SEEN; i++)
        printf("  %s value %d code %s pid_is_me %d\n", sig_name(seen_sig[i]), seen_value[i],
               code_name(seen_code[i]), seen_pid_me[i]);

    SECTION("several handlers at once (frames stack: the last set up runs first)");
    handle(SIGUSR1, NULL);
    handle(SIGRTMIN, NULL);
    handle(SIGRTMIN + 1, NULL);
    queue(getpid(), SIGRTMIN + 1, 1);
    queue(getpid(), SIGRTMIN + 1, 2);
    queue(getpid(), SIGRTMIN, 10);
    queue(getpid(), SIGRTMIN, 11);
    queue(getpid(), SIGUSR1, 20);
    seen = 0;
    sigprocmask(SIG_UNBLOCK, &all_test, NULL);
    sigprocmask(SIG_BLOCK, &all_test, NULL);
    printf("delivered %d\n", seen);
    for (int i = 0; i < seen && i < MAX_SEEN; i++)
        printf("  %s value %d\n", sig_name(seen_sig[i]), seen_value[i]);

    SECTION("sigwaitinfo takes instances in order");
    R("sigqueue RTMIN+2 value 5", queue(getpid(), SIGRTMIN + 2, 5));
    R("kill RTMIN+2", kill(getpid(), SIGRTMIN + 2));
    R("sigqueue RTMIN+2 value 6", queue(getpid(), SIGRTMIN + 2, 6));
    R("tgkill RTMIN+2", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGRTMIN + 2));
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 2);
    take("1st", &set);
    take("2nd", &set);
    take("3rd", &set);
    take("4th", &set);
    take("5th", &set);
    siginfo_t si;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 3);
    R("sigqueue RTMIN+3 value 8", queue(getpid(), SIGRTMIN + 3, 8));
    errno = 0;
    int s = sigwaitinfo(&set, &si);
    printf("sigwaitinfo: %s value %d code %s\n", s > 0 ? sig_name(s) : errname(errno),
           si.si_value.sival_int, code_name(si.si_code));

    SECTION("rt_sigqueueinfo rules");
    R("to self, SI_QUEUE", raw_queueinfo(getpid(), SIGRTMIN + 4, SI_QUEUE, 30));
    R("to self, SI_USER", raw_queueinfo(getpid(), SIGRTMIN + 4, SI_USER, 31));
    R("to self, SI_TKILL", raw_queueinfo(getpid(), SIGRTMIN + 4, SI_TKILL, 32));
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 4);
    take("queued as given", &set);
    take("queued as given", &set);
    take("queued as given", &set);
    R("signal 0", raw_queueinfo(getpid(), 0, SI_QUEUE, 0));
    R("signal 65", raw_queueinfo(getpid(), 65, SI_QUEUE, 0));
    R("no such process", raw_queueinfo(999999, SIGRTMIN, SI_QUEUE, 0));
    R("no such process, signal 65", raw_queueinfo(999999, 65, SI_QUEUE, 0));
    R("bad siginfo address", syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, (void *)8));
    siginfo_t tsi;
    memset(&tsi, 0, sizeof tsi);
    tsi.si_code = SI_QUEUE;
    tsi.si_value.sival_int = 40;
    R("rt_tgsigqueueinfo self", syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGRTMIN + 4, &tsi));
    take("thread-directed", &set);
    R("rt_tgsigqueueinfo tid 0", syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, SIGRTMIN + 4, &tsi));
    R("rt_tgsigqueueinfo wrong tgid", syscall(SYS_rt_tgsigqueueinfo, 999999, syscall(SYS_gettid),
                                              SIGRTMIN + 4, &tsi));
    R("rt_tgsigqueueinfo signal 65", syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), 65, &tsi));

    SECTION("to another process");
    pid_t child = fork();
    if (child == 0) {
        sigemptyset(&set);
        sigaddset(&set, SIGRTMIN);
        for (int i = 0; i < 3; i++) {
            int got = sigwaitinfo(&set, &si);
            printf("child got %s value %d code %s from_parent %d\n", sig_name(got), si.si_value.sival_int,
                   code_name(si.si_code), si.si_pid == getppid());
        }
        _exit(0);
    }
    /* The child prints as it receives: the parent's results print after it exited. */
    long sent[5];
    int sent_errno[5];
    errno = 0; sent[0] = raw_queueinfo(child, SIGRTMIN, SI_USER, 1); sent_errno[0] = errno;
    errno = 0; sent[1] = raw_queueinfo(child, SIGRTMIN, SI_TKILL, 1); sent_errno[1] = errno;
    errno = 0; sent[2] = raw_queueinfo(child, SIGRTMIN, SI_QUEUE, 50); sent_errno[2] = errno;
    errno = 0; sent[3] = queue(child, SIGRTMIN, 51); sent_errno[3] = errno;
    errno = 0; sent[4] = queue(child, SIGRTMIN, 52); sent_errno[4] = errno;
    int status;
    waitpid(child, &status, 0);
    static const char *const sent_what[5] = {"SI_USER to another process", "SI_TKILL to another process",
                                             "SI_QUEUE to another process", "sigqueue value 51",
                                             "sigqueue value 52"};
    for (int i = 0; i < 5; i++)
        printf("%s: %s\n", sent_what[i], sent[i] == 0 ? "0" : errname(sent_errno[i]));
    printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    SECTION("RLIMIT_SIGPENDING");
    /* Linux counts pending siginfos per user: on the host, root's count includes every
     * other root process's, so the child moves to a uid of its own first (on Tyn, where
     * everything is uid 0 and setuid is not implemented, it stays root: the count is
     * then this program's alone, which is the same situation). */
    child = fork();
    if (child == 0) {
        if (setuid(54321) != 0) { /* Tyn: ENOSYS, as explained above */ }
        limit_section();
        _exit(0);
    }
    waitpid(child, &status, 0);
    printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    SECTION("SIG_IGN discards queued instances");
    R("sigqueue RTMIN+5", queue(getpid(), SIGRTMIN + 5, 80));
    R("sigqueue RTMIN+5", queue(getpid(), SIGRTMIN + 5, 81));
    signal(SIGRTMIN + 5, SIG_IGN);
    sigpending(&pending);
    printf("still pending after SIG_IGN: %d\n", sigismember(&pending, SIGRTMIN + 5));
    R("sigqueue to an ignored signal", queue(getpid(), SIGRTMIN + 5, 82));
    sigpending(&pending);
    printf("pending: %d\n", sigismember(&pending, SIGRTMIN + 5));
    handle(SIGRTMIN + 5, NULL);
    seen = 0;
    sigprocmask(SIG_SETMASK, &none, NULL);
    printf("delivered after unblocking: %d\n", seen);
    return 0;
}
