# Signal state: dispositions (process-wide), blocked masks and alternate stacks
# (per thread).  The kernel raises no asynchronous signals yet; synchronous faults
# end the process as the default action would (proc/process.pyx).
from libc.stdint cimport int64_t, uint64_t
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.proc.sched cimport sched_current
from tyn.proc.task cimport thread
from tyn.sys.errno cimport EFAULT, EINVAL, EPERM, ENOMEM

cdef enum:
    NSIG = 64
    SIGKILL = 9
    SIGSTOP = 19
    SIG_BLOCK = 0
    SIG_UNBLOCK = 1
    SIG_SETMASK = 2
    SIGSET_SIZE = 8
    SS_ONSTACK = 1
    SS_DISABLE = 2
    MINSIGSTKSZ = 2048

# struct k_sigaction as the raw syscall sees it (x86_64).
cdef struct kernel_sigaction:
    uint64_t handler
    uint64_t flags
    uint64_t restorer
    uint64_t mask

cdef struct stack_t:
    uint64_t sp
    int flags
    int pad
    uint64_t size

cdef kernel_sigaction actions[NSIG + 1]
# One alternate stack (a per-thread property; one kept per thread would need the thread
# struct: ERTS installs it only on the signal-dispatcher thread).
cdef stack_t altstack

cdef uint64_t unblockable() noexcept nogil:
    return (<uint64_t>1 << (SIGKILL - 1)) | (<uint64_t>1 << (SIGSTOP - 1))

cdef int64_t sys_rt_sigaction(uint64_t sig, uint64_t user_act, uint64_t user_old, uint64_t size) noexcept nogil:
    cdef kernel_sigaction act
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
    return 0

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

cdef int64_t sys_sigaltstack(uint64_t user_ss, uint64_t user_old) noexcept nogil:
    global altstack
    cdef stack_t ss, old = altstack
    if old.size == 0:
        old.flags = SS_DISABLE
    if user_ss != 0:
        if copy_from_user(&ss, user_ss, sizeof(ss)) != 0:
            return -EFAULT
        if ss.flags & ~(SS_DISABLE):
            return -EINVAL
        if not (ss.flags & SS_DISABLE) and ss.size < MINSIGSTKSZ:
            return -ENOMEM
        altstack = ss
        if ss.flags & SS_DISABLE:
            altstack.size = 0
            altstack.sp = 0
    if user_old != 0 and copy_to_user(user_old, &old, sizeof(old)) != 0:
        return -EFAULT
    return 0
