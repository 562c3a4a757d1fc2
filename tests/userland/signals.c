#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static volatile int got;
static void on_usr1(int s, siginfo_t *si, void *uc) { got = s * 100 + (si->si_signo == s); double d = 1.5; d *= s; if (d < 0) got = -1; }
int main(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = on_usr1; sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    double before = 3.25;
    raise(SIGUSR1);
    printf("handler ran: %d, fp kept: %d\n", got, before == 3.25);
    sigset_t set; sigemptyset(&set); sigaddset(&set, SIGUSR1); sigprocmask(SIG_BLOCK, &set, 0);
    got = 0; raise(SIGUSR1); printf("blocked: %d\n", got);
    sigprocmask(SIG_UNBLOCK, &set, 0); printf("unblocked: %d\n", got);
    signal(SIGPIPE, SIG_IGN); raise(SIGPIPE); printf("ignored ok\n");
    fflush(stdout);
    abort();
}
