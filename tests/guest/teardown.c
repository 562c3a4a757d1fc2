/* Teardown racing work on other CPUs: a process exits (exit_group) while its other threads
 * run user code, make system calls or sleep in the kernel on other CPUs, and timers (timerfd,
 * setitimer) fire on one CPU while another closes them or the process that owns them exits.
 * Each case repeats ROUNDS times; what is printed is exact (the counts of children that
 * exited with the status they chose), so Linux prints the same.  A use-after-free in the
 * kernel's exit or timer paths shows as a wrong status, a hang (the test's timeout) or a
 * kernel panic (the console tail). */
#include "common.h"
#include "pin.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#define ROUNDS 40
#define SIBLINGS 3
#define EXIT_CODE 7
#define PAGE 4096
#define BUFFER_PAGES 16
#define FUTEX_WAIT_PRIVATE 128

/* What each sibling does until the process exits under it. */
enum activity { SPIN_USER, SPIN_SYSCALL, TOUCH_MEMORY, SLEEP_FUTEX, SLEEP_PIPE, SLEEP_NANOSLEEP, ACTIVITIES };
static const char *activity_name[ACTIVITIES] = {
    "user loop", "system calls", "page faults", "futex wait", "pipe read", "nanosleep",
};

static atomic_int started;
static atomic_int never;             /* a futex word nobody wakes */
static int pipe_fds[2];
static volatile uint8_t *buffer;

struct sibling { int index; enum activity what; };

static void *sibling_main(void *arg)
{
    struct sibling *s = arg;
    struct timespec long_sleep = { 60, 0 };
    char byte;
    pin(s->index + 1);
    atomic_fetch_add(&started, 1);
    for (unsigned long i = 0;; i++) {
        switch (s->what) {
        case SPIN_USER: break;
        case SPIN_SYSCALL: (void)getppid(); break;
        case TOUCH_MEMORY:
            buffer[(i * PAGE + s->index) % (BUFFER_PAGES * PAGE)] = (uint8_t)i;
            if (i % BUFFER_PAGES == 0)      /* give the pages back so that they fault again */
                madvise((void *)buffer, BUFFER_PAGES * PAGE, MADV_DONTNEED);
            break;
        case SLEEP_FUTEX: syscall(SYS_futex, &never, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0); break;
        case SLEEP_PIPE: (void)read(pipe_fds[0], &byte, 1); break;
        case SLEEP_NANOSLEEP: nanosleep(&long_sleep, NULL); break;
        default: break;
        }
    }
    return NULL;
}

/* The child: start the siblings, wait until they all run, exit the whole process. */
static void child_exits_under_siblings(enum activity what)
{
    static struct sibling sibs[SIBLINGS];
    pthread_t t;
    buffer = mmap(NULL, BUFFER_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buffer == MAP_FAILED || pipe(pipe_fds) != 0)
        _exit(1);
    for (int i = 0; i < SIBLINGS; i++) {
        sibs[i].index = i;
        sibs[i].what = what;
        if (pthread_create(&t, NULL, sibling_main, &sibs[i]) != 0)
            _exit(2);
    }
    while (atomic_load(&started) < SIBLINGS)
        sched_yield();
    _exit(EXIT_CODE);
}

static int exited_as_chosen(pid_t pid)
{
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_CODE;
}

static void exit_under_siblings(void)
{
    for (int what = 0; what < ACTIVITIES; what++) {
        int good = 0;
        for (int r = 0; r < ROUNDS; r++) {
            pid_t pid = fork();
            if (pid == 0)
                child_exits_under_siblings(what);
            good += pid > 0 && exited_as_chosen(pid);
        }
        printf("exit_group with siblings in %s: %d/%d exited %d\n", activity_name[what], good, ROUNDS, EXIT_CODE);
    }
}

/* A child arms a fast periodic timerfd (and ITIMER_REAL, SIGALRM ignored) and exits while
 * they keep firing: the expiry callbacks race the teardown of the file and the process. */
static void exit_with_timers_armed(void)
{
    struct itimerspec fast = { { 0, 20000 }, { 0, 20000 } };
    struct itimerval real = { { 0, 50000 }, { 0, 50000 } };
    int good = 0;
    for (int r = 0; r < ROUNDS * 2; r++) {
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGALRM, SIG_IGN);
            for (int i = 0; i < 4; i++) {
                int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
                if (fd < 0 || timerfd_settime(fd, 0, &fast, NULL) != 0)
                    _exit(1);
            }
            setitimer(ITIMER_REAL, &real, NULL);
            pin(r + 1);
            for (volatile int spin = 0; spin < (r % 8) * 1000; spin++)
                ;
            _exit(EXIT_CODE);
        }
        good += pid > 0 && exited_as_chosen(pid);
    }
    printf("exit with armed timerfds and itimer: %d/%d exited %d\n", good, ROUNDS * 2, EXIT_CODE);
}

/* Two threads on different CPUs: one closes (and re-creates) fast periodic timerfds that the
 * other reads and re-arms; every read either counts expirations or fails with EBADF/EAGAIN. */
#define SHARED_TIMERS 4
static atomic_int shared_fd[SHARED_TIMERS];
static atomic_int stop_closing;

static void *closer(void *arg)
{
    struct itimerspec fast = { { 0, 10000 }, { 0, 10000 } };
    (void)arg;
    pin(1);
    for (int r = 0; r < ROUNDS * 10; r++) {
        int slot = r % SHARED_TIMERS;
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
        timerfd_settime(fd, 0, &fast, NULL);
        int old = atomic_exchange(&shared_fd[slot], fd);
        if (old >= 0)
            close(old);
    }
    atomic_store(&stop_closing, 1);
    return NULL;
}

static void close_while_firing(void)
{
    pthread_t t;
    int odd = 0;
    struct itimerspec again = { { 0, 10000 }, { 0, 10000 } };
    for (int i = 0; i < SHARED_TIMERS; i++)
        atomic_store(&shared_fd[i], -1);
    pthread_create(&t, NULL, closer, NULL);
    pin(0);
    for (unsigned i = 0; !atomic_load(&stop_closing); i++) {
        int fd = atomic_load(&shared_fd[i % SHARED_TIMERS]);
        uint64_t n;
        if (fd < 0)
            continue;
        if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN && errno != EBADF)
            odd++;
        timerfd_settime(fd, 0, &again, NULL);   /* may hit a closed or reused fd: either is fine */
    }
    pthread_join(t, NULL);
    for (int i = 0; i < SHARED_TIMERS; i++)
        close(atomic_load(&shared_fd[i]));
    printf("timerfd closed on one CPU while read and re-armed on another: unexpected errors %d\n", odd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pin_init();
    exit_under_siblings();
    exit_with_timers_armed();
    close_while_firing();
    return 0;
}
