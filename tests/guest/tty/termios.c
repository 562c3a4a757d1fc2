/* The console tty against Linux's n_tty, driven by tests/test_tty_guest.py through a
 * terminal: on Linux in a pty, on Tyn on the serial console.  Each "READY <step>" line
 * is the test's cue to type that step's keys; "R:" lines are results.  The test compares
 * the whole terminal transcript (echoes included) of both runs. */
#include "../common.h"
#include <signal.h>
#include <termios.h>
#include <sys/ioctl.h>

static volatile sig_atomic_t got_int, got_quit;

static void on_signal(int sig)
{
    if (sig == SIGINT)
        got_int++;
    else if (sig == SIGQUIT)
        got_quit++;
}

static void show(const char *what, const char *buf, long n)
{
    printf("R: %s %ld [", what, n);
    for (long i = 0; i < n; i++)
        printf("%02x", (unsigned char)buf[i]);
    printf("]\n");
}

static void read_step(const char *what)
{
    char buf[256];
    long n;
    printf("READY %s\n", what);
    n = read(0, buf, sizeof buf);
    if (n < 0)
        printf("R: %s -1 %s\n", what, errname(errno));
    else
        show(what, buf, n);
}

static void read_exactly(const char *what, long want)
{
    char buf[256];
    long got = 0, n;
    printf("READY %s\n", what);
    while (got < want) {
        n = read(0, buf + got, sizeof buf - got);
        if (n <= 0) {
            printf("R: %s stopped at %ld: %ld %s\n", what, got, n, n < 0 ? errname(errno) : "");
            return;
        }
        got += n;
    }
    show(what, buf, got);
}

int main(void)
{
    struct termios t0, t;
    struct winsize ws;
    struct sigaction sa;
    int inq = -1;

    setvbuf(stdout, NULL, _IONBF, 0);
    printf("R: isatty %d %d %d\n", isatty(0), isatty(1), isatty(2));
    if (tcgetattr(0, &t0) != 0) {
        printf("R: tcgetattr %s\n", errname(errno));
        return 0;
    }
    printf("R: icanon %d echo %d isig %d icrnl %d onlcr %d vmin %d veof %d vintr %d\n",
           !!(t0.c_lflag & ICANON), !!(t0.c_lflag & ECHO), !!(t0.c_lflag & ISIG),
           !!(t0.c_iflag & ICRNL), !!(t0.c_oflag & ONLCR), t0.c_cc[VMIN], t0.c_cc[VEOF], t0.c_cc[VINTR]);
    printf("R: foreground is my group %d\n", tcgetpgrp(0) == getpgrp());
    printf("R: tcsetpgrp to mine %d\n", tcsetpgrp(0, getpgrp()));
    errno = 0;
    printf("R: tcsetpgrp -1 %d %s\n", tcsetpgrp(0, -1), errname(errno));
    errno = 0;
    printf("R: tcsetpgrp to nobody %d %s\n", tcsetpgrp(0, 99999), errname(errno));
    printf("R: winsize %d\n", ioctl(1, TIOCGWINSZ, &ws));

    /* canonical: erase, then a line; a line ended by EOF; an empty line at EOF */
    read_step("canon");
    read_step("eof");
    read_step("eof-empty");
    read_step("kill-werase");

    /* lines typed ahead are read one at a time; FIONREAD counts complete lines */
    printf("READY typeahead\n");
    usleep(300000);
    ioctl(0, FIONREAD, &inq);
    printf("R: fionread %d\n", inq);
    read_step("line1");
    read_step("line2");

    /* no echo */
    t = t0;
    t.c_lflag &= ~ECHO;
    tcsetattr(0, TCSANOW, &t);
    read_step("noecho");

    /* raw: no ICRNL, no signals, no erase */
    t = t0;
    t.c_lflag &= ~(ICANON | ECHO | ISIG | IEXTEN);
    t.c_iflag &= ~(ICRNL | IXON);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(0, TCSAFLUSH, &t);
    read_exactly("raw", 5);
    t.c_cc[VMIN] = 0;
    tcsetattr(0, TCSANOW, &t);
    read_step("min0-time0");
    t.c_cc[VTIME] = 3;
    tcsetattr(0, TCSANOW, &t);
    read_step("min0-time3");
    t.c_oflag &= ~OPOST;
    tcsetattr(0, TCSANOW, &t);
    printf("R: no opost\n");
    tcsetattr(0, TCSANOW, &t0);

    /* ISIG: ^C and ^\ to the foreground group, interrupting a read; the line is flushed */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    read_step("sigint");
    printf("R: got_int %d got_quit %d\n", got_int, got_quit);
    read_step("sigquit");
    printf("R: got_int %d got_quit %d\n", got_int, got_quit);
    read_step("after-signals");
    printf("R: done\n");
    return 0;
}
