/* Process groups and sessions: setsid/setpgid/getpgid/getsid and their errors, wait4 by
 * group (0 and -pgid), waitid (P_ALL/P_PID/P_PGID, WNOHANG, WNOWAIT, siginfo), kill of a
 * group.  Everything runs in a child that starts its own session, so the result does not
 * depend on where the program itself runs (init in the guest, a shell's job on Linux). */
#include "common.h"
#include <signal.h>
#include <sys/wait.h>

static void show_waitid(const char *what, siginfo_t *si, pid_t expect)
{
    printf("%s: signo %d code %d pid_ok %d status %d\n", what, si->si_signo, si->si_code,
           si->si_pid == expect, si->si_status);
}

/* A child that waits until the pipe closes, then exits with `code`. */
static pid_t child_until_closed(int rfd, int wfd, int code, int own_group)
{
    pid_t c = fork();
    if (c == 0) {
        char b;
        close(wfd);
        if (own_group)
            setpgid(0, 0);
        while (read(rfd, &b, 1) > 0)
            ;
        _exit(code);
    }
    return c;
}

static void leader(void)
{
    pid_t me = getpid();
    int p[2];
    siginfo_t si;
    int st;

    SECTION("session");
    V("setsid is my pid", setsid() == me);
    V("getsid(0) is me", getsid(0) == me);
    V("getpgrp is me", getpgrp() == me);
    V("getpgid(0) is me", getpgid(0) == me);
    R("setsid again", setsid());
    R("setpgid of a session leader", setpgid(0, 0));
    R("setpgid negative", setpgid(0, -1));
    R("setpgid no such process", setpgid(999999, 0));
    R("getpgid no such process", getpgid(999999));
    R("getsid no such process", getsid(999999));

    SECTION("groups");
    if (pipe(p) != 0)
        return;
    pid_t b = child_until_closed(p[0], p[1], 2, 1);
    pid_t c = child_until_closed(p[0], p[1], 3, 0);
    R("setpgid child to own group", setpgid(b, b));       /* the race-free pattern: both sides */
    V("getpgid(b) is b", getpgid(b) == b);
    V("getpgid(c) is mine", getpgid(c) == me);
    V("getsid(b) is mine", getsid(b) == me);
    R("setpgid to a group that does not exist", setpgid(c, 999999));
    R("kill group of b, signal 0", kill(-b, 0));
    R("kill no such group", kill(-999999, 0));
    R("wait4 WNOHANG, running", waitpid(-b, &st, WNOHANG));
    memset(&si, 0x55, sizeof si);
    R("waitid WNOHANG, running", waitid(P_ALL, 0, &si, WEXITED | WNOHANG));
    printf("waitid WNOHANG info: signo %d pid %d\n", si.si_signo, si.si_pid);
    R("waitid no options", waitid(P_ALL, 0, &si, 0));
    R("waitid bad option", waitid(P_ALL, 0, &si, WEXITED | 0x100));
    R("waitid P_PID 0", waitid(P_PID, 0, &si, WEXITED));
    R("waitid bad idtype", waitid((idtype_t)7, 0, &si, WEXITED));
    R("wait4 not a child", waitpid(1, &st, WNOHANG));
    close(p[0]);
    close(p[1]);                        /* both children may end now */

    memset(&si, 0, sizeof si);
    R("waitid P_PGID 0, WNOWAIT", waitid(P_PGID, 0, &si, WEXITED | WNOWAIT));
    show_waitid("  peeked", &si, c);
    memset(&si, 0, sizeof si);
    R("waitid P_PID c", waitid(P_PID, c, &si, WEXITED));
    show_waitid("  reaped", &si, c);
    R("wait4(0): none left in my group", waitpid(0, &st, 0));
    R("wait4(-b)", waitpid(-b, &st, 0) == b);
    printf("  status: exited %d code %d\n", WIFEXITED(st), WEXITSTATUS(st));
    R("wait4(-1): none left", waitpid(-1, &st, 0));
    memset(&si, 0, sizeof si);
    R("waitid P_ALL: none left", waitid(P_ALL, 0, &si, WEXITED));

    SECTION("group signals");
    if (pipe(p) != 0)
        return;
    pid_t d = child_until_closed(p[0], p[1], 0, 0);
    pid_t e = child_until_closed(p[0], p[1], 0, 1);
    setpgid(e, e);
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old);        /* kill(0) reaches us too: kept pending */
    R("kill(0, SIGUSR1)", kill(0, SIGUSR1));  /* d dies of it, e is in another group */
    R("d reaped", waitpid(d, &st, 0) == d);
    printf("  d: signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
    R("e still running", waitpid(e, &st, WNOHANG));
    R("kill(-e, SIGTERM)", kill(-e, SIGTERM));
    R("e reaped", waitpid(e, &st, 0) == e);
    printf("  e: signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
    siginfo_t pending;
    struct timespec zero = {0, 0};
    R("SIGUSR1 pending here too", sigtimedwait(&usr1, &pending, &zero));
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t a = fork();
    if (a == 0) {
        leader();
        _exit(0);
    }
    int st;
    R("leader reaped", waitpid(a, &st, 0) == a);
    printf("leader: exited %d code %d\n", WIFEXITED(st), WEXITSTATUS(st));
    return 0;
}
