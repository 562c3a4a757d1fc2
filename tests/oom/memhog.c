/* Touch memory until the kernel runs out.  With an argument "child" the hog runs in a
 * forked child and the parent (small) reports how the child ended, then exits 0: the OOM
 * killer must pick the child (the larger process) and leave the parent alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define CHUNK (1L << 20)

static void hog(void)
{
    for (long mib = 0;; mib++) {
        char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            printf("memhog: mmap failed after %ld MiB\n", mib);
            exit(3);
        }
        memset(p, 0x5a, CHUNK);
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0)
            hog();
        int status = 0;
        if (waitpid(pid, &status, 0) != pid) {
            perror("waitpid");
            return 2;
        }
        if (WIFSIGNALED(status))
            printf("memhog: child killed by signal %d\n", WTERMSIG(status));
        else
            printf("memhog: child exited %d\n", WEXITSTATUS(status));
        return 0;
    }
    hog();
    return 1;
}
