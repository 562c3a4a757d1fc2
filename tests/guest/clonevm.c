/* clone(CLONE_VM) without CLONE_VFORK or CLONE_THREAD: a child process that shares the
 * address space (its writes are the parent's), has its own pid, is waited for with
 * SIGCHLD; and neither side's exit or execve takes the other's memory: the sharer goes on
 * reading and writing after its lender exited, and after its lender exec'd a new image.
 * The sharing child makes raw system calls only (it runs on the parent's TLS).  Sharing
 * more (CLONE_SIGHAND, CLONE_FILES, CLONE_FS without CLONE_THREAD) is EINVAL on Tyn, so
 * it is not compared. */
#include "common.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#define STACK_SIZE (64 * 1024)

static volatile int shared_word;
static int report_fd;
static char *self_path;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    syscall(SYS_nanosleep, &ts, NULL);
}

static int writer(void *arg)
{
    shared_word = (int)(long)arg;
    return 0;
}

/* Runs in the lender's memory after the lender is gone or has a new image: proves the
 * memory is still there by reading what the lender left and writing a report. */
static int survivor(void *arg)
{
    (void)arg;
    sleep_ms(200);                          /* the lender exits or execs meanwhile */
    char msg[32];
    int v = shared_word;
    int n = 0;
    memcpy(msg, "survivor read ", 14);
    n = 14;
    msg[n++] = (char)('0' + v / 10);
    msg[n++] = (char)('0' + v % 10);
    msg[n++] = '\n';
    shared_word = 0;                        /* and writes are still fine */
    syscall(SYS_write, report_fd, msg, n);
    return 0;
}

static char *new_stack(void)
{
    char *s = malloc(STACK_SIZE);
    return s + STACK_SIZE;
}

static void lender_then(const char *what, int exec_after)
{
    int fds[2];
    pipe(fds);
    pid_t middle = fork();
    if (middle == 0) {
        close(fds[0]);
        report_fd = fds[1];
        shared_word = 42;
        pid_t c = clone(survivor, new_stack(), CLONE_VM | SIGCHLD, NULL);
        if (c < 0)
            _exit(3);
        if (exec_after) {
            char *argv[] = {self_path, "exit-quietly", NULL};
            execv(self_path, argv);
            _exit(4);
        }
        _exit(0);
    }
    close(fds[1]);
    int status;
    waitpid(middle, &status, 0);
    printf("%s: lender exited %d\n", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    char buf[64] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);   /* EOF only once the survivor is gone */
    printf("%s: %s", what, n > 0 ? buf : "no report\n");
    close(fds[0]);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exit-quietly") == 0)
        return 0;
    self_path = argv[0];
    setvbuf(stdout, NULL, _IONBF, 0);

    SECTION("a child in the same address space");
    shared_word = 1;
    pid_t c = clone(writer, new_stack(), CLONE_VM | SIGCHLD, (void *)7L);
    printf("clone: %s\n", c > 0 ? "pid" : errname(errno));
    int status;
    pid_t got = waitpid(c, &status, 0);
    printf("waited %d, exited %d status %d\n", got == c, WIFEXITED(status), WEXITSTATUS(status));
    printf("the child's write is ours: %d\n", shared_word);
    printf("own pid: %d\n", c != getpid());

    SECTION("the lender exits first");
    lender_then("exit", 0);
    SECTION("the lender execs first");
    lender_then("exec", 1);
    return 0;
}
