/* Thread- and process-directed signals and exits, compared with Linux. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>
#include <sys/prctl.h>

static volatile sig_atomic_t worker_got, chld, usr2;
static volatile int stop;
static void on_usr1(int s) { (void)s; worker_got = 1; }
static void on_chld(int s) { (void)s; chld++; }
static void on_usr2(int s) { (void)s; usr2 = 1; }

static void *spin(void *arg) { (void)arg; while (!worker_got && !stop) sched_yield(); return 0; }
static void *spin_forever(void *arg) { (void)arg; for (;;) sched_yield(); return 0; }

/* PR_SET_PDEATHSIG: the signal comes when the thread that forked the child exits. */
static int death_pipe[2];
static volatile int forker_may_exit;
static void on_parent_death(int s) { (void)s; if (write(death_pipe[1], "D", 1) != 1) _exit(3); }
static void *forker(void *arg)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGUSR1, on_parent_death);
        int sig = -1;
        prctl(PR_SET_PDEATHSIG, SIGUSR1);
        prctl(PR_GET_PDEATHSIG, &sig);
        if (write(death_pipe[1], sig == SIGUSR1 ? "R" : "?", 1) != 1)
            _exit(2);
        for (int i = 0; i < 2000 && getppid() != 0; i++)
            usleep(1000);               /* the handler ends it below */
        _exit(1);
    }
    *(pid_t *)arg = pid;
    while (!forker_may_exit)
        sched_yield();
    return 0;
}

int main(void) {
    signal(SIGUSR1, on_usr1);
    signal(SIGCHLD, on_chld);
    signal(SIGUSR2, on_usr2);
    pthread_t t;
    pthread_create(&t, 0, spin, 0);
    printf("pthread_kill: %d\n", pthread_kill(t, SIGUSR1));
    pthread_join(t, 0);
    printf("worker got it: %d\n", (int)worker_got);
    printf("kill self: %d, handled: %d\n", kill(getpid(), SIGUSR2), (int)usr2);
    printf("kill nobody: %d %s\n", kill(99999, 0), strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {             /* a child with a second thread that never ends by itself */
        pthread_t u;
        pthread_create(&u, 0, spin_forever, 0);
        exit(4);
    }
    int status = 0;
    pid_t w;
    do { w = waitpid(pid, &status, 0); } while (w < 0 && errno == EINTR);
    printf("child exited: %d code=%d sigchld=%d\n", w == pid, WEXITSTATUS(status), chld > 0);

    if (pipe(death_pipe) != 0)
        return 1;
    pthread_t f;
    pid_t orphan = 0;
    char got[2] = {0, 0};
    pthread_create(&f, 0, forker, &orphan);
    printf("pdeathsig armed: %d\n", read(death_pipe[0], got, 1) == 1 && got[0] == 'R');
    forker_may_exit = 1;
    pthread_join(f, 0);
    printf("pdeathsig on forker exit: %d\n", read(death_pipe[0], got + 1, 1) == 1 && got[1] == 'D');
    kill(orphan, SIGKILL);
    do { w = waitpid(orphan, &status, 0); } while (w < 0 && errno == EINTR);
    printf("pdeathsig child reaped: %d signaled=%d\n", w == orphan, WIFSIGNALED(status));
    int bad = prctl(PR_SET_PDEATHSIG, 65);
    printf("prctl bad signal: %d %s\n", bad, strerror(errno));
    return 0;
}
