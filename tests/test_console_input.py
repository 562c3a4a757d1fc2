"""Console input by interrupt: a guest blocked in poll/epoll_wait/read on stdin (the COM1
console) wakes when a byte is typed on the serial port.  Without the receive interrupt
nothing wakes the poller and the program never prints past "ready".  The program puts
the console's tty in non-canonical mode without echo first, so each byte counts alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from guest import musl
from test_guest_abi import boot_image, musl_ok  # noqa: F401  (fixture)

PROGRAM = r"""
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <termios.h>
int main(void)
{
    struct termios t;
    struct pollfd p = { 0, POLLIN, 0 };
    struct epoll_event ev = { EPOLLIN, { .u64 = 7 } };
    char c = 0;
    int ep = epoll_create1(0), n;
    setvbuf(stdout, NULL, _IONBF, 0);
    tcgetattr(0, &t);
    t.c_lflag &= ~(ICANON | ECHO);
    tcsetattr(0, TCSANOW, &t);
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    printf("ready\n");
    n = poll(&p, 1, -1);
    printf("poll %d revents %d\n", n, p.revents);
    n = read(0, &c, 1);
    printf("read %d %d\n", n, c);
    printf("armed\n");
    n = epoll_wait(ep, &ev, 1, -1);
    printf("epoll_wait %d data %d\n", n, (int)ev.data.u64);
    n = read(0, &c, 1);
    printf("read %d %d\n", n, c);
    printf("armed again\n");
    n = read(0, &c, 1);
    printf("read %d %d\n", n, c);
    return 0;
}
"""


def test_poll_epoll_and_read_on_stdin_wake_on_input(musl_ok, tmp_path, kernel_build_dir, boot):
    src = tmp_path / "stdin_poll.c"
    src.write_text(PROGRAM)
    img = boot_image(musl.build(src), kernel_build_dir, tmp_path / "stdin_poll.elf")
    vm = boot(img, accel="tcg", timeout=60)
    vm.expect("ready")
    vm.send("a")
    vm.expect("poll 1 revents 1", timeout=20)
    vm.expect("read 1 97")
    vm.expect("armed")
    vm.send("b")
    vm.expect("epoll_wait 1 data 7", timeout=20)
    vm.expect("read 1 98")
    vm.expect("armed again")
    vm.send("c")
    vm.expect("read 1 99", timeout=20)
    vm.expect_exit(0)
    assert "tyn: console input: COM1 interrupts through the I/O APIC" in vm.log
