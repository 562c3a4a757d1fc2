/* Orphans (Tyn only: on Linux the test runner is not pid 1).  Booted with nproc=3:
 * init forks a child, the child forks a grandchild and exits; init adopts the
 * grandchild (getppid says 1), can wait for it, and gets SIGCHLD for it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld;
static void on_chld(int s) { (void)s; chld++; }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGCHLD, on_chld);
    int ready[2];
    if (pipe(ready) != 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        pid_t grandchild = fork();
        if (grandchild == 0) {
            char c;
            if (read(ready[0], &c, 1) != 1)      /* until its parent has exited */
                _exit(2);
            printf("grandchild: ppid after parent exit %d\n", (int)getppid());
            _exit(5);
        }
        printf("child: forked grandchild %d\n", grandchild > 0);
        _exit(0);
    }
    int status = 0;
    pid_t w;
    do { w = waitpid(child, &status, 0); } while (w < 0 && errno == EINTR);
    printf("init: child reaped %d code=%d\n", w == child, WEXITSTATUS(status));
    if (write(ready[1], "g", 1) != 1)
        return 1;
    do { w = waitpid(-1, &status, 0); } while (w < 0 && errno == EINTR);
    printf("init: adopted grandchild reaped %d code=%d\n", w > 0 && w != child, WEXITSTATUS(status));
    do { w = waitpid(-1, &status, 0); } while (w < 0 && errno == EINTR);
    printf("init: no more children %d\n", w == -1 && errno == ECHILD);
    printf("init: sigchld seen %d\n", chld >= 2);
    return 0;
}
