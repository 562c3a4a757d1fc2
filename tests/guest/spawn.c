/* Child processes the way musl makes them: vfork (the child shares our memory and we
 * wait for it), posix_spawn (clone(CLONE_VM|CLONE_VFORK)) with file actions and its exec
 * error report, execve of a file on tmpfs (and of one without execute permission), and
 * execve from a process with a second thread running (the other thread dies). */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;
static const char *self;

/* The re-executed program: `spawn child CODE [TEXT]` prints TEXT and exits with CODE. */
static int child_mode(int argc, char **argv)
{
    if (argc > 3)
        printf("%s\n", argv[3]);
    fflush(stdout);
    return atoi(argv[2]);
}

static void show_status(const char *what, int st)
{
    printf("%s: exited %d code %d signaled %d\n", what, WIFEXITED(st), WIFEXITED(st) ? WEXITSTATUS(st) : 0,
           WIFSIGNALED(st));
}

static void vfork_shares_memory(void)
{
    static volatile int shared;
    int st;
    SECTION("vfork");
    shared = 1;
    pid_t c = vfork();
    if (c == 0) {
        shared = 2;                     /* our parent's memory: it sees this */
        _exit(7);
    }
    V("parent resumed after the child", shared);
    R("reaped", waitpid(c, &st, 0) == c);
    show_status("vfork child", st);

    c = vfork();
    if (c == 0) {
        char *args[] = {"spawn", "child", "8", NULL};
        execve(self, args, environ);
        _exit(127);
    }
    R("exec'd child reaped", waitpid(c, &st, 0) == c);
    show_status("vfork+exec child", st);
}

static void posix_spawn_cases(void)
{
    pid_t c;
    int st, p[2];
    char buf[64];
    SECTION("posix_spawn");
    char *ok_args[] = {"spawn", "child", "5", NULL};
    P("spawn self", posix_spawn(&c, self, NULL, NULL, ok_args, environ));
    R("reaped", waitpid(c, &st, 0) == c);
    show_status("spawned", st);

    char *none_args[] = {"nothing", NULL};
    P("spawn missing file", posix_spawn(&c, "/no/such/program", NULL, NULL, none_args, environ));
    P("spawnp missing file", posix_spawnp(&c, "no-such-program-anywhere", NULL, NULL, none_args, environ));

    if (pipe(p) != 0)
        return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    char *talk_args[] = {"spawn", "child", "0", "hello through a pipe", NULL};
    P("spawn with dup2", posix_spawn(&c, self, &fa, NULL, talk_args, environ));
    close(p[1]);
    ssize_t n, got = 0;
    while ((n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += n;
    buf[got] = 0;
    printf("child said: %s", buf);
    close(p[0]);
    R("reaped", waitpid(c, &st, 0) == c);
    show_status("talker", st);
    posix_spawn_file_actions_destroy(&fa);

    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    char *grp_args[] = {"spawn", "child", "4", NULL};
    P("spawn in its own group", posix_spawn(&c, self, NULL, &at, grp_args, environ));
    R("wait4 by its group", waitpid(-c, &st, 0) == c);
    show_status("grouped", st);
    posix_spawnattr_destroy(&at);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
    char buf[65536];
    ssize_t n;
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (in < 0 || out < 0)
        return -1;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n)
            return -1;
    close(in);
    close(out);
    return 0;
}

static void exec_from_tmp(void)
{
    char exe[64], plain[64];
    int st;
    SECTION("execve from /tmp");
    snprintf(exe, sizeof exe, "/tmp/spawn-copy-%d", (int)getpid());
    snprintf(plain, sizeof plain, "/tmp/spawn-plain-%d", (int)getpid());
    R("copy to /tmp", copy_file(self, exe, 0755));
    R("copy without x", copy_file(self, plain, 0644));
    pid_t c = fork();
    if (c == 0) {
        char *args[] = {"spawn", "child", "6", "running from /tmp", NULL};
        execve(exe, args, environ);
        _exit(127);
    }
    R("reaped", waitpid(c, &st, 0) == c);
    show_status("tmp copy", st);
    char *args[] = {"spawn", NULL};
    R("execve without x permission", execve(plain, args, environ));
    R("execve a directory", execve("/tmp", args, environ));
    R("execve missing", execve("/tmp/no-such-file", args, environ));
    unlink(exe);
    unlink(plain);
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void exec_with_threads(void)
{
    int st;
    SECTION("execve with threads");
    pid_t c = fork();
    if (c == 0) {
        pthread_t t;
        pthread_create(&t, NULL, sleeper, NULL);
        char *args[] = {"spawn", "child", "3", NULL};
        execve(self, args, environ);
        _exit(127);
    }
    R("reaped", waitpid(c, &st, 0) == c);
    show_status("exec'd over a thread", st);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "child") == 0)
        return child_mode(argc, argv);
    self = argv[0];
    setvbuf(stdout, NULL, _IONBF, 0);
    vfork_shares_memory();
    posix_spawn_cases();
    exec_from_tmp();
    exec_with_threads();
    return 0;
}
