# Signals: dispositions (process-wide), blocked masks, pending sets and alternate
# stacks (per thread), delivery on the way back to user mode with Linux's x86_64
# rt_sigframe, rt_sigreturn, and the default actions.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memset, memcpy, RFLAGS_IF, RFLAGS_RESERVED_1
from tyn.arch.fpu cimport fpu_save, fpu_restore, fpu_area_size
from tyn.arch.gdt cimport SEL_USER_CODE, SEL_USER_DATA, SEGMENT_RPL_USER
from tyn.arch.trapframe cimport trap_frame, TRAP_NO_SYSCALL
from tyn.arch.entry cimport TRAP_VECTOR_SYSCALL
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.proc.process cimport (process_exit, process_exit_signal, process_find, process_for_each,
                              process_thread_leaves_for_exec)
from tyn.proc.sched cimport sched_current, sched_wake, sched_block
from tyn.proc.waitq cimport waitq_lock, waitq_unlock
from tyn.proc.task cimport (thread, process, kernel_sigaction, signal_info, task_user_frame, task_find,
                            task_of_process, THREAD_BLOCKED, WAKE_INTERRUPTED, WAKE_TIMEOUT)
from tyn.sys.errno cimport (EFAULT, EINVAL, EPERM, ENOMEM, ESRCH, EINTR, EAGAIN,
                            ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND)
from tyn.sys.sigqueue cimport (sigqueue_add, sigqueue_take_next, sigqueue_discard, sigqueue_move_shared,
                               SIGQUEUE_PRIVATE, SIGQUEUE_SHARED)
from tyn.sys.timeutil cimport timeout_deadline_ns, TIMEOUT_RELATIVE

cdef enum:
    NSIG = 64
    SIGHUP = 1
    SIGINT = 2
    SIGQUIT = 3
    SIGILL = 4
    SIGTRAP = 5
    SIGABRT = 6
    SIGBUS = 7
    SIGFPE = 8
    SIGKILL = 9
    SIGSEGV = 11
    SIGCHLD = 17
    SIGCONT = 18
    SIGSTOP = 19
    SIGTSTP = 20
    SIGTTIN = 21
    SIGTTOU = 22
    SIGURG = 23
    SIGWINCH = 28
    SIG_DFL = 0
    SIG_IGN = 1
    SIG_BLOCK = 0
    SIG_UNBLOCK = 1
    SIG_SETMASK = 2
    SIGSET_SIZE = 8
    SA_SIGINFO = 0x4
    SA_ONSTACK = 0x08000000
    SA_RESTART = 0x10000000
    SA_NODEFER = 0x40000000
    SA_RESETHAND = 0x80000000
    SA_RESTORER = 0x04000000
    SS_ONSTACK = 1
    SS_DISABLE = 2
    MINSIGSTKSZ = 2048
    SI_TKILL = -6
    SI_QUEUE = -1
    SIGINFO_KERNEL_BYTES = 48           # Linux's kernel_siginfo: the header and the 32-byte union
    USER_HZ = 100                       # clock_t ticks of si_utime
    NSEC_PER_USER_TICK = 10000000
    UC_FP_XSTATE = 1
    REDZONE = 128
    FPSTATE_ALIGN = 64
    FPU_AREA_MAX = 4096
    RFLAGS_USER_CHANGEABLE = 0x3F7FD5   # what sigreturn may restore (Linux's FIX_EFLAGS)
    SYSCALL_INSN_LEN = 2                # 0f 05: a restart re-executes it

cdef struct stack_t:
    uint64_t sp
    int32_t flags
    int32_t pad
    uint64_t size

# struct sigcontext (arch/x86/include/uapi/asm/sigcontext.h, 64-bit).
cdef struct sigcontext:
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags
    uint16_t cs, gs, fs, ss
    uint64_t err, trapno, oldmask, cr2
    uint64_t fpstate
    uint64_t reserved1[8]

cdef struct ucontext:
    uint64_t uc_flags
    uint64_t uc_link
    stack_t uc_stack
    sigcontext uc_mcontext
    uint64_t uc_sigmask

# siginfo_t (128 bytes).  After the header, a union: _kill {pid, uid}, _sigchld {pid, uid,
# status, utime, stime}, _sigfault {addr} (the 8 bytes where pid and uid are).
cdef struct siginfo:
    int32_t si_signo
    int32_t si_errno
    int32_t si_code
    int32_t pad
    int32_t si_pid
    uint32_t si_uid
    int32_t si_status
    int32_t pad2
    int64_t si_utime
    int64_t si_stime
    uint8_t rest[80]

# What the handler finds at its RSP: the return address (sa_restorer), then uc, then info.
cdef struct rt_sigframe:
    uint64_t pretcode
    ucontext uc
    siginfo info

cdef inline uint64_t bit(int sig) noexcept nogil:
    return <uint64_t>1 << (sig - 1)

# A thread's pending set changes in sys/sigqueue under its lock (also from interrupt
# context on another CPU: ktimer callbacks, the console tty), one atomic read-modify-write
# each: the wait conditions here read it without the lock.

cdef uint64_t unblockable() noexcept nogil:
    return bit(SIGKILL) | bit(SIGSTOP)

cdef bint ignored_by_default(int sig) noexcept nogil:
    return sig == SIGCHLD or sig == SIGURG or sig == SIGWINCH or sig == SIGCONT \
        or sig == SIGSTOP or sig == SIGTSTP or sig == SIGTTIN or sig == SIGTTOU

# ------------------------------------------------------------ raising

cdef void signal_info_kernel(signal_info *info) noexcept nogil:
    memset(info, 0, sizeof(signal_info))
    info.code = SI_KERNEL

cdef void sender_info(signal_info *info, int code) noexcept nogil:
    """A signal sent by the current thread's process (SI_USER: kill, or the kernel on its
    behalf as Linux's send_sig(sig, p, 0); SI_TKILL: tkill/tgkill)."""
    cdef thread *me = sched_current()
    memset(info, 0, sizeof(signal_info))
    info.code = code
    info.pid = me.proc.pid if not me.is_idle and me.proc != NULL else 0
    if info.pid == 0:
        info.code = SI_KERNEL

cdef void signal_raise(thread *t, int sig) noexcept nogil:
    """Make sig pending for t, sent by the current process (SI_USER)."""
    cdef signal_info info
    sender_info(&info, SI_USER)
    signal_raise_info(t, sig, &info)

cdef void signal_raise_info(thread *t, int sig, const signal_info *info) noexcept nogil:
    """Make sig pending for t with what its siginfo will say; a blocked thread wakes up
    (its wait returns EINTR).  A standard signal already pending keeps its first siginfo;
    real-time signals queue (see raise_checked)."""
    raise_checked(t, sig, info, SIGQUEUE_PRIVATE)

cdef bint disposition_ignores(kernel_sigaction *actions, int sig) noexcept nogil:
    return actions[sig].handler == SIG_IGN or (actions[sig].handler == SIG_DFL and ignored_by_default(sig))

cdef int raise_checked(thread *t, int sig, const signal_info *info, int cls) noexcept nogil:
    """Make sig pending for t as thread-directed or (kept on t) process-directed: 0, or
    -EAGAIN when a real-time signal from rt_sigqueueinfo/tgkill finds the queue at the
    target's RLIMIT_SIGPENDING."""
    cdef int rc
    if disposition_ignores(t.proc.actions, sig) and sig != SIGKILL \
            and not ((t.signal_mask | t.real_blocked) & bit(sig)):
        return 0                        # discarded at generation unless blocked, as Linux does
    rc = sigqueue_add(t, sig, info, t.proc.rlimit_sigpending_cur, cls)
    if rc < 0:
        return rc
    if (t.signal_mask & bit(sig)) == 0:
        sched_wake(t, WAKE_INTERRUPTED)     # blocked: wakes; running on another CPU: an IPI
    return 0

cdef int64_t sys_tkill(uint64_t tid, uint64_t sig) noexcept nogil:
    cdef thread *t = task_find(<int>tid)
    if <int64_t>tid <= 0 or sig > NSIG:
        return -EINVAL
    if t == NULL:
        return -ESRCH
    return sys_tgkill(<uint64_t>t.proc.pid, tid, sig)

cdef int64_t sys_tgkill(uint64_t tgid, uint64_t tid, uint64_t sig) noexcept nogil:
    cdef thread *t
    if <int64_t>tid <= 0 or <int64_t>tgid <= 0 or sig > NSIG:
        return -EINVAL
    cdef signal_info info
    t = task_find(<int>tid)
    if t == NULL or t.proc.pid != <int>tgid:
        return -ESRCH
    if sig != 0:
        sender_info(&info, SI_TKILL)
        return raise_checked(t, <int>sig, &info, SIGQUEUE_PRIVATE)
    return 0

cdef void signal_process(process *p, int sig) noexcept nogil:
    cdef signal_info info
    sender_info(&info, SI_USER)
    signal_process_info(p, sig, &info)

cdef void signal_thread_leaves(thread *t) noexcept nogil:
    cdef thread *other = task_of_process(t.proc, NULL)
    cdef thread *target = NULL
    cdef uint64_t moved
    while other != NULL:
        if other != t:
            if target == NULL or (t.class_pending[SIGQUEUE_SHARED] & ~other.signal_mask):
                target = other
            if t.class_pending[SIGQUEUE_SHARED] & ~other.signal_mask:
                break
        other = task_of_process(t.proc, other)
    if target == NULL:
        return                          # the last thread: they go with the process
    moved = sigqueue_move_shared(t, target)
    if moved & ~target.signal_mask:
        sched_wake(target, WAKE_INTERRUPTED)

cdef void signal_process_info(process *p, int sig, const signal_info *info) noexcept nogil:
    process_raise_checked(p, sig, info)

cdef int process_raise_checked(process *p, int sig, const signal_info *info) noexcept nogil:
    """A process-directed signal goes to a thread that does not block it (else the first).
    0 or -EAGAIN (see raise_checked)."""
    cdef thread *t = task_of_process(p, NULL)
    cdef thread *target = t
    while t != NULL:
        if not (t.signal_mask & bit(sig)):
            target = t
            break
        t = task_of_process(p, t)
    if target != NULL:
        return raise_checked(target, sig, info, SIGQUEUE_SHARED)
    return 0

cdef int64_t sys_kill(uint64_t pid, uint64_t sig) noexcept nogil:
    """pid > 0: that process; 0: the caller's process group; -1: every process but init
    and the caller; < -1: the group -pid.  (As Linux, for the processes Tyn has.)"""
    cdef process *me = sched_current().proc
    cdef process *p
    cdef int64_t target = <int64_t>pid
    if sig > NSIG:
        return -EINVAL
    if target > 0:
        p = process_find(<int>target)
        if p == NULL or p.exiting:
            return -ESRCH
        if sig != 0:
            signal_process(p, <int>sig)
        return 0
    if target == 0:
        return signal_group(me.pgid, <int>sig)
    if target < -1:
        return signal_group(<int>(-target), <int>sig)
    return signal_many(0, <int>sig, me)

cdef struct kill_walk:
    int pgid                            # 0: every process but init and `skip`
    int sig
    int found
    process *skip

cdef void kill_one(process *p, void *ctx) noexcept nogil:
    cdef kill_walk *walk = <kill_walk *>ctx
    if walk.pgid != 0 and p.pgid != walk.pgid:
        return
    if walk.pgid == 0 and (p.pid == 1 or p == walk.skip):
        return
    walk.found += 1
    if walk.sig != 0:
        signal_process(p, walk.sig)

cdef int64_t signal_many(int pgid, int sig, process *skip) noexcept nogil:
    cdef kill_walk walk
    walk.pgid = pgid
    walk.sig = sig
    walk.found = 0
    walk.skip = skip
    process_for_each(kill_one, &walk)
    return 0 if walk.found else -ESRCH

cdef int64_t signal_group(int pgid, int sig) noexcept nogil:
    return signal_many(pgid, sig, NULL)

cdef int process_signal_group(int pgid, int sig) noexcept nogil:
    """The tty's Ctrl-C/Ctrl-\\: sig to every process of group pgid; 0 or -ESRCH/-EINVAL.
    Called from the receive interrupt (no kernel_lock): waitq_lock keeps the process
    table's slots, and so the processes in it, from going meanwhile."""
    cdef uint64_t flags
    cdef int rc
    if pgid <= 0 or sig < 0 or sig > NSIG:
        return -EINVAL
    flags = waitq_lock()
    rc = <int>signal_group(pgid, sig)
    waitq_unlock(flags)
    return rc

# --------------------------------------------------------- dispositions

cdef int64_t sys_rt_sigaction(uint64_t sig, uint64_t user_act, uint64_t user_old, uint64_t size) noexcept nogil:
    cdef kernel_sigaction act
    cdef kernel_sigaction *actions = sched_current().proc.actions
    if size != SIGSET_SIZE or sig < 1 or sig > NSIG:
        return -EINVAL
    if user_act != 0 and (sig == SIGKILL or sig == SIGSTOP):
        return -EINVAL
    if user_act != 0 and copy_from_user(&act, user_act, sizeof(act)) != 0:
        return -EFAULT
    if user_old != 0 and copy_to_user(user_old, &actions[sig], sizeof(kernel_sigaction)) != 0:
        return -EFAULT
    if user_act != 0:
        act.mask &= ~unblockable()
        actions[sig] = act
        if disposition_ignores(actions, <int>sig):
            discard_pending(sched_current().proc, <int>sig)
    return 0

cdef void discard_pending(process *p, int sig) noexcept nogil:
    """POSIX (and Linux's do_sigaction): setting a pending signal's action to ignore
    discards it, every queued instance included, in every thread."""
    cdef thread *t = task_of_process(p, NULL)
    while t != NULL:
        sigqueue_discard(t, sig)
        t = task_of_process(p, t)

cdef int64_t sys_rt_sigprocmask(uint64_t how, uint64_t user_set, uint64_t user_old, uint64_t size) noexcept nogil:
    cdef thread *t = sched_current()
    cdef uint64_t new_set = 0, old = t.signal_mask
    if size != SIGSET_SIZE:
        return -EINVAL
    if user_set != 0:
        if copy_from_user(&new_set, user_set, SIGSET_SIZE) != 0:
            return -EFAULT
        if how == SIG_BLOCK:
            t.signal_mask |= new_set
        elif how == SIG_UNBLOCK:
            t.signal_mask &= ~new_set
        elif how == SIG_SETMASK:
            t.signal_mask = new_set
        else:
            return -EINVAL
        t.signal_mask &= ~unblockable()
    if user_old != 0 and copy_to_user(user_old, &old, SIGSET_SIZE) != 0:
        return -EFAULT
    return 0

cdef int64_t signal_wait_mask_begin(uint64_t user_set, uint64_t size) noexcept nogil:
    cdef thread *t = sched_current()
    cdef uint64_t mask
    if user_set == 0:
        return 0
    if size != SIGSET_SIZE:
        return -EINVAL
    if copy_from_user(&mask, user_set, SIGSET_SIZE) != 0:
        return -EFAULT
    t.saved_sigmask = t.signal_mask
    t.restore_sigmask = True
    t.signal_mask = mask & ~unblockable()
    return 0

cdef void signal_wait_mask_end(bint interrupted) noexcept nogil:
    cdef thread *t = sched_current()
    if not t.restore_sigmask or interrupted:
        return                          # delivery restores it (after the handler runs)
    t.signal_mask = t.saved_sigmask
    t.restore_sigmask = False

cdef int64_t sys_rt_sigsuspend(uint64_t user_set, uint64_t size) noexcept nogil:
    """Sleep under the given mask until a signal is delivered.  Linux's -ERESTARTNOHAND:
    EINTR once a handler ran (the old mask comes back after it), a restart otherwise."""
    cdef thread *t = sched_current()
    cdef uint64_t flags
    cdef int64_t rc
    if size != SIGSET_SIZE:
        return -EINVAL
    if user_set == 0:
        return -EFAULT
    rc = signal_wait_mask_begin(user_set, size)
    if rc < 0:
        return rc
    flags = waitq_lock()                # a signal raised after the check still wakes the sleep
    while (t.signal_pending & ~t.signal_mask) == 0:
        sched_block(0)
    waitq_unlock(flags)
    signal_wait_mask_end(True)
    return -ERESTARTNOHAND

cdef bint on_altstack(thread *t, uint64_t sp) noexcept nogil:
    return t.altstack_size != 0 and t.altstack_sp <= sp < t.altstack_sp + t.altstack_size

cdef int64_t sys_sigaltstack(uint64_t user_ss, uint64_t user_old) noexcept nogil:
    cdef thread *t = sched_current()
    cdef stack_t ss, old
    old.sp = t.altstack_sp
    old.size = t.altstack_size
    old.pad = 0
    old.flags = SS_DISABLE if t.altstack_size == 0 else (
        SS_ONSTACK if on_altstack(t, task_user_frame(t).rsp) else 0)
    if user_ss != 0:
        if copy_from_user(&ss, user_ss, sizeof(ss)) != 0:
            return -EFAULT
        if on_altstack(t, task_user_frame(t).rsp):
            return -EPERM
        if ss.flags & ~(<int32_t>SS_DISABLE):
            return -EINVAL
        if ss.flags & SS_DISABLE:
            t.altstack_sp = 0
            t.altstack_size = 0
        else:
            if ss.size < MINSIGSTKSZ:
                return -ENOMEM
            t.altstack_sp = ss.sp
            t.altstack_size = ss.size
    if user_old != 0 and copy_to_user(user_old, &old, sizeof(old)) != 0:
        return -EFAULT
    return 0

# ------------------------------------------------------------- delivery

cdef void die(thread *t, int sig) noexcept nogil:
    if sig == SIGKILL and t.proc.exec_tid != 0 and process_thread_leaves_for_exec(t):
        return                          # another thread's execve (never reached: it leaves)
    if t.proc.exiting:
        process_exit(t.proc, 0)         # a sibling is ending the process: just leave
        return
    kputs(b"tyn: pid ")
    kput_udec(<uint64_t>t.proc.pid)
    kputs(b" killed by signal ")
    kput_udec(<uint64_t>sig)
    kputs(b"\n")
    process_exit_signal(t.proc, sig)

cdef void fill_siginfo(siginfo *out, int sig, const signal_info *info) noexcept nogil:
    """The user's siginfo_t for sig from what was recorded when it was raised."""
    memset(out, 0, sizeof(siginfo))
    out.si_signo = sig
    out.si_code = info.code
    if sig == SIGSEGV or sig == SIGBUS or sig == SIGFPE or sig == SIGILL or sig == SIGTRAP:
        if info.code > 0 and info.code != SI_KERNEL:
            memcpy(&out.si_pid, &info.addr, 8)      # _sigfault.si_addr
            return
    out.si_pid = info.pid
    out.si_uid = info.uid
    if sig == SIGCHLD and info.code > 0 and info.code != SI_KERNEL:
        out.si_status = info.status
        out.si_utime = <int64_t>(info.addr // NSEC_PER_USER_TICK)
        out.si_stime = <int64_t>(info.stime_ns // NSEC_PER_USER_TICK)
    else:
        memcpy(&out.si_status, &info.value, 8)      # _rt.si_value (0 unless queued with one)

cdef bint build_frame(thread *t, trap_frame *regs, int sig, kernel_sigaction *act,
                      const signal_info *info) noexcept nogil:
    """Push an rt_sigframe (and the FPU state) and point regs at the handler."""
    cdef rt_sigframe frame
    cdef uint64_t sp = regs.rsp - REDZONE
    cdef uint64_t fp_size = fpu_area_size(), fp_addr, frame_addr
    if act.flags & SA_ONSTACK and t.altstack_size != 0 and not on_altstack(t, regs.rsp):
        sp = t.altstack_sp + t.altstack_size
    fp_addr = (sp - fp_size) & ~(<uint64_t>FPSTATE_ALIGN - 1)
    # The handler starts as if called: RSP + 8 is 16-byte aligned.
    frame_addr = ((fp_addr - sizeof(rt_sigframe)) & ~(<uint64_t>15)) - 8
    fpu_save(t.fpu_area)
    if copy_to_user(fp_addr, t.fpu_area, fp_size) != 0:
        return False
    memset(&frame, 0, sizeof(frame))
    frame.pretcode = act.restorer
    frame.uc.uc_stack.sp = t.altstack_sp
    frame.uc.uc_stack.size = t.altstack_size
    frame.uc.uc_stack.flags = SS_DISABLE if t.altstack_size == 0 else 0
    frame.uc.uc_mcontext.r8 = regs.r8
    frame.uc.uc_mcontext.r9 = regs.r9
    frame.uc.uc_mcontext.r10 = regs.r10
    frame.uc.uc_mcontext.r11 = regs.r11
    frame.uc.uc_mcontext.r12 = regs.r12
    frame.uc.uc_mcontext.r13 = regs.r13
    frame.uc.uc_mcontext.r14 = regs.r14
    frame.uc.uc_mcontext.r15 = regs.r15
    frame.uc.uc_mcontext.rdi = regs.rdi
    frame.uc.uc_mcontext.rsi = regs.rsi
    frame.uc.uc_mcontext.rbp = regs.rbp
    frame.uc.uc_mcontext.rbx = regs.rbx
    frame.uc.uc_mcontext.rdx = regs.rdx
    frame.uc.uc_mcontext.rax = regs.rax
    frame.uc.uc_mcontext.rcx = regs.rcx
    frame.uc.uc_mcontext.rsp = regs.rsp
    frame.uc.uc_mcontext.rip = regs.rip
    frame.uc.uc_mcontext.eflags = regs.rflags
    frame.uc.uc_mcontext.cs = <uint16_t>regs.cs
    frame.uc.uc_mcontext.ss = <uint16_t>regs.ss
    frame.uc.uc_mcontext.fpstate = fp_addr
    # sigreturn restores the mask from before a ppoll/pselect6/epoll_pwait mask.
    frame.uc.uc_sigmask = t.saved_sigmask if t.restore_sigmask else t.signal_mask
    t.restore_sigmask = False
    fill_siginfo(&frame.info, sig, info)
    if copy_to_user(frame_addr, &frame, sizeof(frame)) != 0:
        return False
    regs.rsp = frame_addr
    regs.rip = act.handler
    regs.rdi = <uint64_t>sig
    regs.rsi = frame_addr + <uint64_t>(<char *>&frame.info - <char *>&frame)
    regs.rdx = frame_addr + <uint64_t>(<char *>&frame.uc - <char *>&frame)
    regs.rax = 0
    regs.rflags &= ~(<uint64_t>(1 << 8 | 1 << 10))      # TF and DF clear in the handler
    t.signal_mask |= act.mask
    if not (act.flags & SA_NODEFER):
        t.signal_mask |= bit(sig)
    return True

cdef void syscall_restart(trap_frame *regs, bint handler, uint64_t sa_flags) noexcept nogil:
    """Linux's restart decision for a system call returning -ERESTART*: re-execute
    SYSCALL with the original RAX, or report EINTR when a handler runs and the code (and
    for ERESTARTSYS the handler's SA_RESTART) does not allow the restart."""
    cdef int64_t rc = <int64_t>regs.rax
    cdef bint restart
    if regs.vector != <uint64_t>TRAP_VECTOR_SYSCALL or regs.error_code == <uint64_t>TRAP_NO_SYSCALL:
        return
    if rc == -ERESTARTNOINTR:
        restart = True
    elif rc == -ERESTARTSYS:
        restart = not handler or (sa_flags & SA_RESTART) != 0
    elif rc == -ERESTARTNOHAND:
        restart = not handler
    else:
        return
    if restart:
        regs.rax = regs.error_code
        regs.rip -= SYSCALL_INSN_LEN
    else:
        regs.rax = <uint64_t>(-EINTR)
    regs.error_code = <uint64_t>TRAP_NO_SYSCALL    # decided once

cdef void signal_deliver_pending() noexcept nogil:
    """On the way back to user mode: a handler frame for each deliverable pending signal,
    each under the mask of the one before (ignored ones are dropped on the way), restart or
    fail an interrupted system call, and put back a syscall's temporary signal mask."""
    cdef thread *t = sched_current()
    cdef trap_frame *regs
    cdef int sig
    cdef kernel_sigaction act
    cdef signal_info info
    cdef bint delivered = False
    if t.is_idle:
        return
    regs = task_user_frame(t)
    while True:
        sig = sigqueue_take_next(t, ~t.signal_mask, &info)
        if sig == 0:
            break
        act = t.proc.actions[sig]
        if act.handler == SIG_IGN:
            continue
        if act.handler == SIG_DFL:
            if not ignored_by_default(sig):
                die(t, sig)
                return
            continue
        syscall_restart(regs, True, act.flags)
        if act.flags & SA_RESETHAND:
            t.proc.actions[sig].handler = SIG_DFL
        if not (act.flags & SA_RESTORER) or not build_frame(t, regs, sig, &act, &info):
            die(t, SIGSEGV)              # Linux: an unwritable signal stack is fatal
            return
        # Linux's exit_to_user_mode_loop: while a signal is still deliverable under the
        # mask the handler will run with, another frame goes on top (it runs first).
        delivered = True
    if delivered:
        return
    syscall_restart(regs, False, 0)
    if t.restore_sigmask:
        t.signal_mask = t.saved_sigmask
        t.restore_sigmask = False

cdef int signal_fault_info(int sig, const signal_info *info) noexcept nogil:
    """A synchronous fault in user mode: handled by the program, or fatal.  Returns 1 if
    a handler will run."""
    cdef thread *t = sched_current()
    if t.proc.actions[sig].handler > SIG_IGN and not (t.signal_mask & bit(sig)):
        sigqueue_add(t, sig, info, t.proc.rlimit_sigpending_cur, SIGQUEUE_PRIVATE)
        return 1
    return 0

# ------------------------------------------------------------- waiting

cdef int64_t sys_pause() noexcept nogil:
    """Sleep until a signal is delivered (-ERESTARTNOHAND: EINTR after a handler)."""
    cdef thread *t = sched_current()
    cdef uint64_t flags = waitq_lock()
    while (t.signal_pending & ~t.signal_mask) == 0:
        sched_block(0)
    waitq_unlock(flags)
    return -ERESTARTNOHAND

cdef int64_t sys_rt_sigtimedwait(uint64_t user_set, uint64_t user_info, uint64_t user_timeout,
                                 uint64_t size) noexcept nogil:
    """Take one pending signal of the set (lowest first) without running its handler: its
    number, siginfo at user_info.  -EAGAIN at the timeout, -EINTR when another signal
    is delivered.  The set is unblocked for the wait (Linux's real_blocked)."""
    cdef thread *t = sched_current()
    cdef uint64_t wanted, old_mask, flags, deadline = 0
    cdef int64_t rc
    cdef int sig = 0, reason
    cdef siginfo info
    cdef signal_info recorded
    if size != SIGSET_SIZE:
        return -EINVAL
    if copy_from_user(&wanted, user_set, SIGSET_SIZE) != 0:
        return -EFAULT
    wanted &= ~unblockable()
    if user_timeout != 0:
        rc = timeout_deadline_ns(user_timeout, TIMEOUT_RELATIVE, False, &deadline)
        if rc < 0:
            return rc
    flags = waitq_lock()
    old_mask = t.signal_mask
    rc = 0
    while True:
        sig = sigqueue_take_next(t, wanted, &recorded)
        if sig != 0:
            break
        if t.signal_pending & ~old_mask & ~wanted:
            rc = -EINTR
            break
        if user_timeout != 0 and deadline == 0:
            rc = -EAGAIN
            break
        t.real_blocked = old_mask
        t.signal_mask = old_mask & ~wanted
        reason = sched_block(deadline)
        t.signal_mask = old_mask
        t.real_blocked = 0
        if reason == WAKE_TIMEOUT and (t.signal_pending & wanted) == 0:
            rc = -EAGAIN
            break
    waitq_unlock(flags)
    if rc < 0:
        return rc
    if user_info != 0:
        fill_siginfo(&info, sig, &recorded)
        if copy_to_user(user_info, &info, sizeof(info)) != 0:
            return -EFAULT
    return sig

cdef int64_t user_siginfo(uint64_t user_info, signal_info *out) noexcept nogil:
    """The sender's siginfo_t for rt_(tg)sigqueueinfo: si_code, si_pid, si_uid, si_value
    kept as given (Linux copies the kernel_siginfo and sets only si_signo)."""
    cdef siginfo si
    if copy_from_user(&si, user_info, SIGINFO_KERNEL_BYTES) != 0:
        return -EFAULT
    memset(out, 0, sizeof(signal_info))
    out.code = si.si_code
    out.pid = si.si_pid
    out.uid = si.si_uid
    memcpy(&out.value, &si.si_status, 8)
    return 0

cdef bint impersonates(const signal_info *info, uint64_t target) noexcept nogil:
    """Linux: not even root may send, to another thread, a siginfo claiming to come from
    the kernel or from kill()/tgkill() (si_code >= 0 or SI_TKILL)."""
    return (info.code >= 0 or info.code == SI_TKILL) and <int64_t>target != sched_current().tid

cdef int64_t sys_rt_sigqueueinfo(uint64_t pid, uint64_t sig, uint64_t user_info) noexcept nogil:
    """sigqueue(3): sig with the caller's siginfo (si_value) to process pid.  Linux's
    order: EFAULT, EPERM, ESRCH, EINVAL; -EAGAIN when a real-time signal finds the
    queue full (RLIMIT_SIGPENDING)."""
    cdef signal_info info
    cdef process *p
    cdef int64_t rc = user_siginfo(user_info, &info)
    if rc < 0:
        return rc
    if impersonates(&info, pid):
        return -EPERM
    p = process_find(<int>pid) if <int>pid > 0 else NULL
    if p == NULL or p.exiting:
        return -ESRCH
    if <uint32_t>sig > NSIG:
        return -EINVAL
    if sig == 0:
        return 0
    return process_raise_checked(p, <int>sig, &info)

cdef int64_t sys_rt_tgsigqueueinfo(uint64_t tgid, uint64_t tid, uint64_t sig, uint64_t user_info) noexcept nogil:
    """The same for one thread (tid of process tgid)."""
    cdef signal_info info
    cdef thread *t
    cdef int64_t rc = user_siginfo(user_info, &info)
    if rc < 0:
        return rc
    if <int32_t>tid <= 0 or <int32_t>tgid <= 0:
        return -EINVAL
    if impersonates(&info, <uint64_t><int32_t>tid):
        return -EPERM
    t = task_find(<int32_t>tid)
    if t == NULL or t.proc.pid != <int32_t>tgid or t.proc.exiting:
        return -ESRCH
    if <uint32_t>sig > NSIG:
        return -EINVAL
    if sig == 0:
        return 0
    return raise_checked(t, <int>sig, &info, SIGQUEUE_PRIVATE)

cdef int64_t sys_rt_sigpending(uint64_t user_set, uint64_t size) noexcept nogil:
    """The blocked signals pending for the caller (a set of at most 8 bytes)."""
    cdef thread *t = sched_current()
    cdef uint64_t pending = t.signal_pending & t.signal_mask
    if size > SIGSET_SIZE:
        return -EINVAL
    if copy_to_user(user_set, &pending, size) != 0:
        return -EFAULT
    return 0

cdef int64_t sys_rt_sigreturn() noexcept nogil:
    cdef thread *t = sched_current()
    cdef trap_frame *regs = task_user_frame(t)
    cdef ucontext uc
    # The handler's `ret` popped pretcode: the ucontext is at the user RSP now.
    if copy_from_user(&uc, regs.rsp, sizeof(uc)) != 0:
        die(t, SIGSEGV)
        return 0
    if uc.uc_mcontext.fpstate != 0:
        if copy_from_user(t.fpu_area, uc.uc_mcontext.fpstate, fpu_area_size()) != 0:
            die(t, SIGSEGV)
            return 0
        fpu_restore(t.fpu_area)
    regs.r8 = uc.uc_mcontext.r8
    regs.r9 = uc.uc_mcontext.r9
    regs.r10 = uc.uc_mcontext.r10
    regs.r11 = uc.uc_mcontext.r11
    regs.r12 = uc.uc_mcontext.r12
    regs.r13 = uc.uc_mcontext.r13
    regs.r14 = uc.uc_mcontext.r14
    regs.r15 = uc.uc_mcontext.r15
    regs.rdi = uc.uc_mcontext.rdi
    regs.rsi = uc.uc_mcontext.rsi
    regs.rbp = uc.uc_mcontext.rbp
    regs.rbx = uc.uc_mcontext.rbx
    regs.rdx = uc.uc_mcontext.rdx
    regs.rcx = uc.uc_mcontext.rcx
    regs.rsp = uc.uc_mcontext.rsp
    regs.rip = uc.uc_mcontext.rip
    regs.rflags = (regs.rflags & ~(<uint64_t>RFLAGS_USER_CHANGEABLE)) \
        | (uc.uc_mcontext.eflags & RFLAGS_USER_CHANGEABLE) | RFLAGS_IF | RFLAGS_RESERVED_1
    regs.cs = SEL_USER_CODE | SEGMENT_RPL_USER
    regs.ss = SEL_USER_DATA | SEGMENT_RPL_USER
    t.signal_mask = uc.uc_sigmask & ~unblockable()
    regs.error_code = <uint64_t>TRAP_NO_SYSCALL    # the restored RAX is no syscall result
    # The restored RAX is the interrupted code's; returning it keeps the dispatcher's
    # store of our result from overwriting it.
    return <int64_t>uc.uc_mcontext.rax
