#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
    if (argc > 1) { printf("child: exec ok, arg=%s pid>1:%d ppid=%d\n", argv[1], getpid() > 1, getppid()); fflush(stdout); return 7; }
    int fds[2]; pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        pid_t again = fork();
        printf("grandchild fork: %d errno=%s\n", (int)again, again < 0 ? strerror(errno) : "-"); fflush(stdout);
        dup2(fds[1], 5);
        execl(argv[0], argv[0], "hello", (char *)0);
        _exit(99);
    }
    int status = 0;
    pid_t w = waitpid(pid, &status, 0);
    printf("parent: waited %d, exited=%d code=%d\n", w == pid, WIFEXITED(status), WEXITSTATUS(status));
    printf("no more children: %d %s\n", (int)waitpid(-1, &status, WNOHANG), strerror(errno));
    return 0;
}
