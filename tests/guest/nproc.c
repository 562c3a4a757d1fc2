/* RLIMIT_NPROC as root.  Linux exempts the root user (INIT_USER) from RLIMIT_NPROC in
 * copy_process, and every Tyn process is uid 0 (getuid says so, and Tyn has no other
 * users): so on both kernels the limit can be lowered, read back, inherited and raised
 * again by root, and forks go on past it; what stops forks on Tyn is the process table
 * (nproc=, default 64: Linux's threads-max, which root meets too), tested by
 * tests/test_userland.py.  The reference run is root on the host as well, so the
 * comparison is like for like; enforcement for a non-root user has no Tyn counterpart
 * (no setuid), which is why no line here depends on it.  Raising the hard limit needs
 * CAP_SYS_RESOURCE, which Tyn's root has and a container's root often lacks: not
 * compared either. */
#include "common.h"
#include <sys/resource.h>
#include <sys/wait.h>

#define CHILDREN 4

int main(void)
{
    struct rlimit rl, original;
    setvbuf(stdout, NULL, _IONBF, 0);
    V("uid", getuid());

    SECTION("limits");
    R("getrlimit", getrlimit(RLIMIT_NPROC, &original));
    printf("cur > %d: %d, cur == max: %d\n", CHILDREN, original.rlim_cur > CHILDREN,
           original.rlim_cur == original.rlim_max);
    struct rlimit two = {2, 2};
    R("lower to 2", setrlimit(RLIMIT_NPROC, &two));
    R("getrlimit", getrlimit(RLIMIT_NPROC, &rl));
    printf("cur %ld max %ld\n", (long)rl.rlim_cur, (long)rl.rlim_max);
    struct rlimit inverted = {3, 2};
    R("cur above max", setrlimit(RLIMIT_NPROC, &inverted));
    R("bad address", setrlimit(RLIMIT_NPROC, (void *)8));
    R("prlimit64 of another pid", syscall(SYS_prlimit64, 999999, RLIMIT_NPROC, NULL, &rl));

    SECTION("forks past the limit (root is exempt)");
    int pipefd[2];
    pipe(pipefd);
    pid_t kids[CHILDREN];
    int forked = 0;
    for (int i = 0; i < CHILDREN; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            struct rlimit inherited;
            char c;
            getrlimit(RLIMIT_NPROC, &inherited);
            close(pipefd[1]);
            read(pipefd[0], &c, 1);     /* stay alive until the parent closes the pipe */
            _exit(inherited.rlim_cur == 2 ? 0 : 1);
        }
        if (kids[i] > 0)
            forked++;
        else
            printf("fork %d: %s\n", i, errname(errno));
    }
    printf("forked %d of %d with the limit at 2\n", forked, CHILDREN);
    close(pipefd[1]);
    int inherited = 0;
    for (int i = 0; i < forked; i++) {
        int status;
        if (waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            inherited++;
    }
    printf("children that saw the limit at 2: %d\n", inherited);

    SECTION("the soft limit moves below the hard one");
    struct rlimit soft_one = {1, 2};
    R("soft 1", setrlimit(RLIMIT_NPROC, &soft_one));
    R("soft back to 2", setrlimit(RLIMIT_NPROC, &two));
    R("getrlimit", getrlimit(RLIMIT_NPROC, &rl));
    printf("cur %ld max %ld\n", (long)rl.rlim_cur, (long)rl.rlim_max);
    return 0;
}
