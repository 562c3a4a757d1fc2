# THE SYSTEM CALL TABLE: Linux x86_64 numbers -> handlers, one line each.  This is
# the map of what Tyn implements; each handler lives in the module of its subsystem.
# Anything not here returns -ENOSYS, logged once per number.
from libc.stdint cimport int64_t, uint8_t, uint64_t
from tyn.arch.trapframe cimport trap_frame
from tyn.lib.kprint cimport kputs, kput_udec, kput_hex, kput_dec
from tyn.arch.cpu cimport rdtsc
from tyn.arch.tsc cimport tsc_to_ns, tsc_hz
from tyn.proc.sched cimport sched_current
from tyn.proc.task cimport thread
from tyn.sys.errno cimport ENOSYS
from tyn.lib.kprofile cimport profile_begin, profile_end_syscall
from tyn.sys.numbers cimport *
from tyn.fs.epoll cimport (sys_epoll_create, sys_epoll_create1, sys_epoll_ctl, sys_epoll_wait,
                          sys_epoll_pwait)
from tyn.sys.poll cimport sys_poll, sys_ppoll, sys_select, sys_pselect6
from tyn.fs.timerfd cimport sys_timerfd_create, sys_timerfd_settime, sys_timerfd_gettime
from tyn.sys.futex_syscall cimport sys_futex
from tyn.sys.proc cimport (sys_exit, sys_exit_group, sys_getpid, sys_getppid, sys_gettid, sys_getuid,
                           sys_setsid, sys_set_tid_address, sys_set_robust_list, sys_arch_prctl, sys_clone,
                           sys_sched_yield, sys_sched_getaffinity, sys_sched_setaffinity, sys_getcpu, sys_fork, sys_wait4,
                           sys_getresuid, sys_getpgid, sys_getpgrp, sys_getsid, sys_setpgid, sys_waitid,
                           sys_vfork)
from tyn.sys.itimer cimport sys_setitimer, sys_getitimer, sys_alarm
from tyn.proc.exec cimport sys_execve
from tyn.sys.splice cimport sys_sendfile
from tyn.sys.fs cimport *
from tyn.sys.memfd cimport sys_memfd_create
from tyn.sys.mm cimport sys_mmap, sys_munmap, sys_mprotect, sys_mremap, sys_madvise, sys_brk, sys_mm_init
from tyn.sys.info cimport sys_uname, sys_getrandom, sys_prlimit64, sys_getrlimit, sys_prctl
from tyn.sys.rusage cimport sys_getrusage, sys_times, sys_sysinfo
from tyn.sys.statfs cimport sys_statfs, sys_fstatfs
from tyn.fs.flock cimport sys_flock
from tyn.sys.msync cimport sys_msync
from tyn.sys.signal cimport (sys_rt_sigaction, sys_rt_sigprocmask, sys_sigaltstack, sys_rt_sigreturn,
                             sys_rt_sigsuspend,
                             sys_tkill, sys_tgkill, sys_kill, sys_pause, sys_rt_sigtimedwait,
                             sys_rt_sigqueueinfo, sys_rt_tgsigqueueinfo, sys_rt_sigpending)
from tyn.fs.pipe cimport sys_pipe, sys_pipe2
from tyn.fs.eventfd cimport sys_eventfd, sys_eventfd2
from tyn.sys.socket_syscall cimport (sys_socket, sys_socketpair, sys_bind, sys_listen, sys_accept, sys_accept4,
                                     sys_connect, sys_sendto, sys_recvfrom, sys_sendmsg, sys_recvmsg,
                                     sys_shutdown, sys_getsockname, sys_getpeername, sys_setsockopt,
                                     sys_getsockopt)
from tyn.sys.time cimport (sys_clock_gettime, sys_clock_getres, sys_gettimeofday, sys_nanosleep,
                           sys_clock_nanosleep, sys_time)

cdef syscall_fn table[SYSCALL_COUNT]
cdef uint8_t reported[SYSCALL_COUNT]
cdef bint tracing
cdef uint64_t entry_tsc
cdef bint first_call_seen

cdef void syscall_note_kernel_entry(uint64_t tsc) noexcept nogil:
    global entry_tsc
    entry_tsc = tsc

cdef void report_first_call() noexcept nogil:
    """One line when init makes its first system call (bench/beam.py reads it)."""
    global first_call_seen
    first_call_seen = True
    kputs(b"tyn: first system call ")
    kput_udec(tsc_to_ns(rdtsc() - entry_tsc, tsc_hz()) // 1000)
    kputs(b" us after kernel entry\n")

cdef void syscall_trace(bint on) noexcept nogil:
    """strace=1 on the kernel command line: one console line per system call."""
    global tracing
    tracing = on

cdef void trace(trap_frame *frame, uint64_t number, int64_t result) noexcept nogil:
    cdef thread *t = sched_current()
    kputs(b"tyn: strace [")
    kput_udec(<uint64_t>t.proc.pid)
    kputs(b":")
    kput_udec(<uint64_t>t.tid)
    kputs(b"] ")
    kputs(syscall_name(number))
    kputs(b"(")
    kput_hex(frame.rdi)
    kputs(b", ")
    kput_hex(frame.rsi)
    kputs(b", ")
    kput_hex(frame.rdx)
    kputs(b", ")
    kput_hex(frame.r10)
    kputs(b") = ")
    kput_dec(result)
    kputs(b"\n")

cdef void entry(int number, void *handler) noexcept nogil:
    table[number] = <syscall_fn>handler

cdef void syscall_table_init() noexcept nogil:
    sys_mm_init()
    # files: sys/fs.pyx
    entry(SYS_read, <void *>sys_read)
    entry(SYS_write, <void *>sys_write)
    entry(SYS_open, <void *>sys_open)
    entry(SYS_close, <void *>sys_close)
    entry(SYS_stat, <void *>sys_stat)
    entry(SYS_fstat, <void *>sys_fstat)
    entry(SYS_lstat, <void *>sys_lstat)
    entry(SYS_lseek, <void *>sys_lseek)
    entry(SYS_ioctl, <void *>sys_ioctl)
    entry(SYS_pread64, <void *>sys_pread64)
    entry(SYS_sendfile, <void *>sys_sendfile)
    entry(SYS_pwrite64, <void *>sys_pwrite64)
    entry(SYS_readv, <void *>sys_readv)
    entry(SYS_writev, <void *>sys_writev)
    entry(SYS_access, <void *>sys_access)
    entry(SYS_dup, <void *>sys_dup)
    entry(SYS_dup2, <void *>sys_dup2)
    entry(SYS_fcntl, <void *>sys_fcntl)
    entry(SYS_fsync, <void *>sys_fsync)
    entry(SYS_fdatasync, <void *>sys_fdatasync)
    entry(SYS_truncate, <void *>sys_truncate)
    entry(SYS_ftruncate, <void *>sys_ftruncate)
    entry(SYS_getcwd, <void *>sys_getcwd)
    entry(SYS_chdir, <void *>sys_chdir)
    entry(SYS_fchdir, <void *>sys_fchdir)
    entry(SYS_rename, <void *>sys_rename)
    entry(SYS_mkdir, <void *>sys_mkdir)
    entry(SYS_rmdir, <void *>sys_rmdir)
    entry(SYS_creat, <void *>sys_creat)
    entry(SYS_unlink, <void *>sys_unlink)
    entry(SYS_symlink, <void *>sys_symlink)
    entry(SYS_link, <void *>sys_link)
    entry(SYS_readlink, <void *>sys_readlink)
    entry(SYS_chmod, <void *>sys_chmod)
    entry(SYS_fchmod, <void *>sys_fchmod)
    entry(SYS_chown, <void *>sys_chown)
    entry(SYS_fchown, <void *>sys_fchown)
    entry(SYS_lchown, <void *>sys_lchown)
    entry(SYS_umask, <void *>sys_umask)
    entry(SYS_getdents64, <void *>sys_getdents64)
    entry(SYS_openat, <void *>sys_openat)
    entry(SYS_mkdirat, <void *>sys_mkdirat)
    entry(SYS_fchownat, <void *>sys_fchownat)
    entry(SYS_newfstatat, <void *>sys_newfstatat)
    entry(SYS_unlinkat, <void *>sys_unlinkat)
    entry(SYS_renameat, <void *>sys_renameat)
    entry(SYS_symlinkat, <void *>sys_symlinkat)
    entry(SYS_linkat, <void *>sys_linkat)
    entry(SYS_readlinkat, <void *>sys_readlinkat)
    entry(SYS_fchmodat, <void *>sys_fchmodat)
    entry(SYS_faccessat, <void *>sys_faccessat)
    entry(SYS_utimensat, <void *>sys_utimensat)
    entry(SYS_dup3, <void *>sys_dup3)
    entry(SYS_preadv, <void *>sys_preadv)
    entry(SYS_pwritev, <void *>sys_pwritev)
    entry(SYS_renameat2, <void *>sys_renameat2)
    entry(SYS_statx, <void *>sys_statx)
    entry(SYS_faccessat2, <void *>sys_faccessat2)
    # memory: sys/mm.pyx
    entry(SYS_mmap, <void *>sys_mmap)
    entry(SYS_munmap, <void *>sys_munmap)
    entry(SYS_mprotect, <void *>sys_mprotect)
    entry(SYS_mremap, <void *>sys_mremap)
    entry(SYS_madvise, <void *>sys_madvise)
    entry(SYS_brk, <void *>sys_brk)
    entry(SYS_memfd_create, <void *>sys_memfd_create)    # sys/memfd.pyx
    # system information: sys/info.pyx
    entry(SYS_uname, <void *>sys_uname)
    entry(SYS_getrandom, <void *>sys_getrandom)
    entry(SYS_prlimit64, <void *>sys_prlimit64)
    entry(SYS_getrlimit, <void *>sys_getrlimit)
    entry(SYS_prctl, <void *>sys_prctl)
    # resource usage: sys/rusage.pyx
    entry(SYS_getrusage, <void *>sys_getrusage)
    entry(SYS_times, <void *>sys_times)
    entry(SYS_sysinfo, <void *>sys_sysinfo)
    # filesystem statistics, advisory locks: sys/statfs.pyx, fs/flock.pyx
    entry(SYS_statfs, <void *>sys_statfs)
    entry(SYS_fstatfs, <void *>sys_fstatfs)
    entry(SYS_flock, <void *>sys_flock)
    # msync: sys/msync.pyx
    entry(SYS_msync, <void *>sys_msync)
    # signals: sys/signal.pyx
    entry(SYS_rt_sigaction, <void *>sys_rt_sigaction)
    entry(SYS_rt_sigprocmask, <void *>sys_rt_sigprocmask)
    entry(SYS_rt_sigsuspend, <void *>sys_rt_sigsuspend)
    entry(SYS_sigaltstack, <void *>sys_sigaltstack)
    entry(SYS_rt_sigreturn, <void *>sys_rt_sigreturn)
    entry(SYS_tkill, <void *>sys_tkill)
    entry(SYS_tgkill, <void *>sys_tgkill)
    entry(SYS_kill, <void *>sys_kill)
    entry(SYS_pause, <void *>sys_pause)
    entry(SYS_rt_sigtimedwait, <void *>sys_rt_sigtimedwait)
    entry(SYS_rt_sigqueueinfo, <void *>sys_rt_sigqueueinfo)
    entry(SYS_rt_tgsigqueueinfo, <void *>sys_rt_tgsigqueueinfo)
    entry(SYS_rt_sigpending, <void *>sys_rt_sigpending)
    # interval timers: sys/itimer.pyx
    entry(SYS_setitimer, <void *>sys_setitimer)
    entry(SYS_getitimer, <void *>sys_getitimer)
    entry(SYS_alarm, <void *>sys_alarm)
    # pipes, eventfd: fs/pipe.pyx, fs/eventfd.pyx
    entry(SYS_pipe, <void *>sys_pipe)
    entry(SYS_pipe2, <void *>sys_pipe2)
    entry(SYS_eventfd, <void *>sys_eventfd)
    entry(SYS_eventfd2, <void *>sys_eventfd2)
    # sockets: sys/socket_syscall.pyx (the protocols behind it: net/)
    entry(SYS_socket, <void *>sys_socket)
    entry(SYS_socketpair, <void *>sys_socketpair)
    entry(SYS_bind, <void *>sys_bind)
    entry(SYS_listen, <void *>sys_listen)
    entry(SYS_accept, <void *>sys_accept)
    entry(SYS_accept4, <void *>sys_accept4)
    entry(SYS_connect, <void *>sys_connect)
    entry(SYS_sendto, <void *>sys_sendto)
    entry(SYS_recvfrom, <void *>sys_recvfrom)
    entry(SYS_sendmsg, <void *>sys_sendmsg)
    entry(SYS_recvmsg, <void *>sys_recvmsg)
    entry(SYS_shutdown, <void *>sys_shutdown)
    entry(SYS_getsockname, <void *>sys_getsockname)
    entry(SYS_getpeername, <void *>sys_getpeername)
    entry(SYS_setsockopt, <void *>sys_setsockopt)
    entry(SYS_getsockopt, <void *>sys_getsockopt)
    # polling and timers: fs/epoll.pyx, sys/poll.pyx, fs/timerfd.pyx
    entry(SYS_poll, <void *>sys_poll)
    entry(SYS_select, <void *>sys_select)
    entry(SYS_epoll_create, <void *>sys_epoll_create)
    entry(SYS_epoll_wait, <void *>sys_epoll_wait)
    entry(SYS_epoll_ctl, <void *>sys_epoll_ctl)
    entry(SYS_pselect6, <void *>sys_pselect6)
    entry(SYS_ppoll, <void *>sys_ppoll)
    entry(SYS_epoll_pwait, <void *>sys_epoll_pwait)
    entry(SYS_timerfd_create, <void *>sys_timerfd_create)
    entry(SYS_timerfd_settime, <void *>sys_timerfd_settime)
    entry(SYS_timerfd_gettime, <void *>sys_timerfd_gettime)
    entry(SYS_epoll_create1, <void *>sys_epoll_create1)
    # processes and threads: sys/proc.pyx
    entry(SYS_exit, <void *>sys_exit)
    entry(SYS_exit_group, <void *>sys_exit_group)
    entry(SYS_getpid, <void *>sys_getpid)
    entry(SYS_getppid, <void *>sys_getppid)
    entry(SYS_gettid, <void *>sys_gettid)
    entry(SYS_getuid, <void *>sys_getuid)
    entry(SYS_geteuid, <void *>sys_getuid)
    entry(SYS_getgid, <void *>sys_getuid)
    entry(SYS_getegid, <void *>sys_getuid)
    entry(SYS_getresuid, <void *>sys_getresuid)
    entry(SYS_getresgid, <void *>sys_getresuid)
    entry(SYS_setsid, <void *>sys_setsid)
    entry(SYS_getpgid, <void *>sys_getpgid)
    entry(SYS_getpgrp, <void *>sys_getpgrp)
    entry(SYS_getsid, <void *>sys_getsid)
    entry(SYS_setpgid, <void *>sys_setpgid)
    entry(SYS_set_tid_address, <void *>sys_set_tid_address)
    entry(SYS_set_robust_list, <void *>sys_set_robust_list)
    entry(SYS_arch_prctl, <void *>sys_arch_prctl)
    entry(SYS_clone, <void *>sys_clone)
    entry(SYS_fork, <void *>sys_fork)
    entry(SYS_vfork, <void *>sys_vfork)
    entry(SYS_execve, <void *>sys_execve)
    entry(SYS_wait4, <void *>sys_wait4)
    entry(SYS_waitid, <void *>sys_waitid)
    entry(SYS_sched_yield, <void *>sys_sched_yield)
    entry(SYS_sched_getaffinity, <void *>sys_sched_getaffinity)
    entry(SYS_sched_setaffinity, <void *>sys_sched_setaffinity)
    entry(SYS_getcpu, <void *>sys_getcpu)
    # futexes: sys/futex.pyx
    entry(SYS_futex, <void *>sys_futex)
    # time: sys/time.pyx
    entry(SYS_clock_gettime, <void *>sys_clock_gettime)
    entry(SYS_clock_getres, <void *>sys_clock_getres)
    entry(SYS_gettimeofday, <void *>sys_gettimeofday)
    entry(SYS_nanosleep, <void *>sys_nanosleep)
    entry(SYS_clock_nanosleep, <void *>sys_clock_nanosleep)
    entry(SYS_time, <void *>sys_time)

cdef void syscall_dispatch(trap_frame *frame) noexcept nogil:
    cdef uint64_t number = frame.rax
    cdef int64_t result
    cdef uint64_t started = profile_begin()
    frame.error_code = number           # orig_ax: what a restart re-issues (trapframe.pxd)
    if not first_call_seen:
        report_first_call()
    if number < SYSCALL_COUNT and table[number] != NULL:
        if tracing:
            # Trace before the call for the ones that do not return here.
            if number == SYS_exit or number == SYS_exit_group or number == SYS_execve:
                trace(frame, number, 0)
        result = table[number](frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9)
        if tracing and number != SYS_rt_sigreturn:
            trace(frame, number, result)
        frame.rax = <uint64_t>result
        profile_end_syscall(number, started)
        return
    if number < SYSCALL_COUNT and not reported[number]:
        reported[number] = 1
        kputs(b"tyn: syscall ")
        kput_udec(number)
        kputs(b" (")
        kputs(syscall_name(number))
        kputs(b") is not implemented: ENOSYS\n")
    frame.rax = <uint64_t>(-ENOSYS)

cdef const char *syscall_name(uint64_t number) noexcept nogil:
    if number < SYSCALL_NAME_COUNT and SYSCALL_NAMES[number] != NULL:
        return SYSCALL_NAMES[number]
    return b"?"

cdef extern from *:
    """
    /* Linux x86_64 syscall names, for the ENOSYS log line. */
    static const char *const SYSCALL_NAMES[] = {
        [0]="read", [1]="write", [2]="open", [3]="close", [4]="stat", [5]="fstat", [6]="lstat",
        [7]="poll", [8]="lseek", [9]="mmap", [10]="mprotect", [11]="munmap", [12]="brk",
        [13]="rt_sigaction", [14]="rt_sigprocmask", [15]="rt_sigreturn", [16]="ioctl",
        [17]="pread64", [18]="pwrite64", [19]="readv", [20]="writev", [21]="access", [22]="pipe",
        [23]="select", [24]="sched_yield", [25]="mremap", [26]="msync", [27]="mincore",
        [28]="madvise", [29]="shmget", [30]="shmat", [31]="shmctl", [32]="dup", [33]="dup2",
        [34]="pause", [35]="nanosleep", [36]="getitimer", [37]="alarm", [38]="setitimer",
        [39]="getpid", [40]="sendfile", [41]="socket", [42]="connect", [43]="accept",
        [44]="sendto", [45]="recvfrom", [46]="sendmsg", [47]="recvmsg", [48]="shutdown",
        [49]="bind", [50]="listen", [51]="getsockname", [52]="getpeername", [53]="socketpair",
        [54]="setsockopt", [55]="getsockopt", [56]="clone", [57]="fork", [58]="vfork",
        [59]="execve", [60]="exit", [61]="wait4", [62]="kill", [63]="uname", [72]="fcntl",
        [73]="flock", [74]="fsync", [75]="fdatasync", [76]="truncate", [77]="ftruncate",
        [78]="getdents", [79]="getcwd", [80]="chdir", [81]="fchdir", [82]="rename", [83]="mkdir",
        [84]="rmdir", [85]="creat", [86]="link", [87]="unlink", [88]="symlink", [89]="readlink",
        [90]="chmod", [91]="fchmod", [92]="chown", [95]="umask", [96]="gettimeofday",
        [97]="getrlimit", [98]="getrusage", [99]="sysinfo", [100]="times", [102]="getuid",
        [104]="getgid", [105]="setuid", [106]="setgid", [107]="geteuid", [108]="getegid",
        [109]="setpgid", [110]="getppid", [111]="getpgrp", [112]="setsid", [127]="rt_sigpending", [128]="rt_sigtimedwait", [129]="rt_sigqueueinfo", [130]="rt_sigsuspend", [131]="sigaltstack",
        [137]="statfs", [138]="fstatfs", [157]="prctl", [158]="arch_prctl", [160]="setrlimit",
        [186]="gettid", [200]="tkill", [201]="time", [202]="futex", [203]="sched_setaffinity",
        [204]="sched_getaffinity", [213]="epoll_create", [217]="getdents64",
        [218]="set_tid_address", [228]="clock_gettime", [229]="clock_getres",
        [230]="clock_nanosleep", [231]="exit_group", [232]="epoll_wait", [233]="epoll_ctl",
        [234]="tgkill", [247]="waitid", [257]="openat", [258]="mkdirat", [262]="newfstatat", [263]="unlinkat",
        [264]="renameat", [265]="linkat", [267]="readlinkat", [269]="faccessat", [270]="pselect6", [271]="ppoll",
        [273]="set_robust_list", [274]="get_robust_list", [281]="epoll_pwait",
        [283]="timerfd_create", [284]="eventfd", [286]="timerfd_settime", [287]="timerfd_gettime",
        [288]="accept4", [290]="eventfd2", [291]="epoll_create1", [292]="dup3", [293]="pipe2", [297]="rt_tgsigqueueinfo",
        [302]="prlimit64", [316]="renameat2", [318]="getrandom", [319]="memfd_create",
        [332]="statx", [334]="rseq", [435]="clone3", [439]="faccessat2",
    };
    #define SYSCALL_NAME_COUNT (sizeof SYSCALL_NAMES / sizeof SYSCALL_NAMES[0])
    """
    const char *SYSCALL_NAMES[]
    const uint64_t SYSCALL_NAME_COUNT
