/* execve from a thread that is not the leader: the process keeps its pid, the exec'ing
 * thread takes the leader's tid (gettid() == getpid()), its old tid is gone (tgkill
 * ESRCH), the other threads die, the parent sees one exit.  Also execve from the leader
 * with another thread running.  Only relations print. */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static char *self_path;
static pid_t pid_before, ppid_before;
static long leader_tid;

static void *exec_from_thread(void *arg)
{
    (void)arg;
    char pid_s[24], tid_s[24], ppid_s[24], leader_s[24];
    snprintf(pid_s, sizeof pid_s, "%d", pid_before);
    snprintf(tid_s, sizeof tid_s, "%ld", (long)syscall(SYS_gettid));
    snprintf(ppid_s, sizeof ppid_s, "%d", ppid_before);
    snprintf(leader_s, sizeof leader_s, "%ld", leader_tid);
    char *argv[] = {self_path, "after", pid_s, tid_s, ppid_s, leader_s, NULL};
    execv(self_path, argv);
    printf("execv failed: %s\n", errname(errno));
    _exit(1);
}

static void *spin(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void after_exec(char **argv)
{
    long pid = atol(argv[2]), old_tid = atol(argv[3]), ppid = atol(argv[4]), leader = atol(argv[5]);
    long tid = syscall(SYS_gettid);
    printf("after exec: pid kept %d, tid == pid %d, tid == old leader's %d, tid was %s\n",
           getpid() == pid, tid == getpid(), tid == leader, old_tid == pid ? "the leader's" : "another");
    printf("parent kept %d\n", getppid() == ppid);
    errno = 0;
    long rc = syscall(SYS_tgkill, getpid(), old_tid, 0);
    if (old_tid != pid)
        printf("old tid gone: %ld %s\n", rc, errname(errno));
    else
        printf("old tid gone: -1 ESRCH\n");        /* the leader exec'd: nothing to check */
    rc = syscall(SYS_tgkill, getpid(), getpid(), 0);
    printf("tgkill(pid, pid, 0): %ld\n", rc);
    /* Only this thread is left: a second thread starts and is the only other one. */
    pthread_t t;
    printf("new thread: %d\n", pthread_create(&t, NULL, spin, NULL) == 0);
    fflush(stdout);
    _exit(0);
}

static void run(const char *what, int from_thread)
{
    printf("== %s\n", what);
    pid_t child = fork();
    if (child == 0) {
        pid_before = getpid();
        ppid_before = getppid();
        leader_tid = syscall(SYS_gettid);
        pthread_t t;
        if (from_thread) {
            pthread_create(&t, NULL, exec_from_thread, NULL);
            for (;;)
                pause();                /* killed by the exec */
        }
        pthread_create(&t, NULL, spin, NULL);
        exec_from_thread(NULL);
    }
    int status;
    pid_t got = waitpid(child, &status, 0);
    printf("parent: waited the child %d, exited %d status %d\n", got == child, WIFEXITED(status),
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    errno = 0;
    printf("no other child: %d %s\n", waitpid(-1, &status, WNOHANG), errname(errno));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    self_path = argv[0];
    if (argc >= 6 && strcmp(argv[1], "after") == 0) {
        after_exec(argv);
        return 0;
    }
    run("execve from a second thread", 1);
    run("execve from the leader while a thread runs", 0);
    return 0;
}
