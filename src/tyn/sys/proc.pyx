# Process and thread system calls.
from libc.stdint cimport int64_t, int32_t, uint32_t, uint64_t
from tyn.arch.cpu cimport wrmsr, memcpy, MSR_FS_BASE
from tyn.arch.fpu cimport fpu_save
from tyn.arch.percpu cimport percpu_cpu_index
from tyn.arch.trapframe cimport trap_frame
from tyn.arch.uaccess cimport copy_to_user, copy_from_user, USER_ADDRESS_LIMIT
from tyn.proc.process cimport (process_exit, process_thread_exits, process_thread_left, process_fork, process_clone, process_wait,
                              process_find, process_vfork_wait, process_setpgid, process_setsid, wait_result,
                              P_ALL, P_PID, P_PGID, P_PIDFD, WNOHANG, WUNTRACED, WSTOPPED, WEXITED,
                              WCONTINUED, WNOWAIT, WNOTHREAD, WALL, WCLONE)
from tyn.proc.sched cimport (sched_current, sched_make_runnable, sched_exit_current, sched_yield_cpu,
                             sched_cpus_online, sched_get_affinity, sched_set_affinity)
from tyn.proc.task cimport thread, process, task_new_thread, task_free_thread, task_user_frame, task_find
from tyn.sys.errno cimport EINVAL, EFAULT, EAGAIN, ENOSYS, EPERM, ESRCH, ECHILD, EINTR, ERESTARTSYS, EBADF
from tyn.sys.futex_syscall cimport futex_wake_address
from tyn.sys.rusage cimport rusage_put_wait

cdef enum:
    ARCH_SET_GS = 0x1001
    ARCH_SET_FS = 0x1002
    ARCH_GET_FS = 0x1003
    ARCH_GET_GS = 0x1004
    # clone flags (include/uapi/linux/sched.h)
    CSIGNAL = 0xFF
    CLONE_VM = 0x100
    CLONE_FS = 0x200
    CLONE_FILES = 0x400
    CLONE_SIGHAND = 0x800
    CLONE_VFORK = 0x4000
    CLONE_SETTLS = 0x80000
    CLONE_PARENT_SETTID = 0x100000
    CLONE_CHILD_CLEARTID = 0x200000
    CLONE_DETACHED = 0x400000
    CLONE_CHILD_SETTID = 0x1000000
    CLONE_THREAD = 0x10000
    CLONE_SYSVSEM = 0x40000
    CLONE_THREAD_FLAGS = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD
    ROBUST_LIST_HEAD_SIZE = 24          # sizeof(struct robust_list_head)
    EXIT_STATUS_MASK = 0xFF
    AFFINITY_MASK_BYTES = 8             # one CPU: bit 0 of an unsigned long
    SIGCHLD = 17
    # The clone flags a new process (not a thread) may carry here: exit signal, CLONE_VM
    # (with CLONE_VFORK: vfork, posix_spawn), the tid reports.
    CLONE_PROCESS_FLAGS = CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | \
        CLONE_CHILD_CLEARTID

# waitid's siginfo fields (the rest of the 128 bytes is left alone, as Linux).
cdef struct waitid_info:
    int32_t si_signo
    int32_t si_errno
    int32_t si_code
    int32_t pad
    int32_t si_pid
    uint32_t si_uid
    int32_t si_status

cdef int64_t sys_exit(uint64_t status) noexcept nogil:
    """One thread ends: CLONE_CHILD_CLEARTID's word is zeroed and its waiter woken."""
    cdef thread *t = sched_current()
    cdef uint32_t zero = 0
    cdef process *p = t.proc
    if t.clear_child_tid != 0 and copy_to_user(t.clear_child_tid, &zero, 4) == 0:
        futex_wake_address(t.clear_child_tid, 1)
    if p.thread_count == 1 or p.exiting:
        process_exit(p, <int>(status & EXIT_STATUS_MASK))    # the last thread: the process ends
    process_thread_exits(t)
    p.thread_count -= 1
    process_thread_left(p)
    sched_exit_current()
    return 0

cdef int64_t sys_exit_group(uint64_t status) noexcept nogil:
    process_exit(sched_current().proc, <int>(status & EXIT_STATUS_MASK))
    return 0

cdef int64_t sys_getpid() noexcept nogil:
    return sched_current().proc.pid

cdef int64_t sys_getppid() noexcept nogil:
    return sched_current().proc.parent_pid

cdef int64_t sys_fork() noexcept nogil:
    return process_fork()

cdef int64_t sys_vfork() noexcept nogil:
    """The child runs in our address space (and on our stack) while we wait for its
    execve or exit."""
    cdef int64_t pid = process_clone(True, True, 0, 0, 0)
    if pid > 0:
        process_vfork_wait(<int>pid)
    return pid

cdef int64_t sys_wait4(uint64_t pid, uint64_t user_status, uint64_t options, uint64_t user_rusage) noexcept nogil:
    """pid > 0: that child; -1: any; 0: the caller's process group; < -1: group -pid."""
    cdef int64_t rc, target = <int64_t>pid
    cdef wait_result res
    cdef int idtype = P_ALL, id = 0
    if options & ~(<uint64_t>(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE)):
        return -EINVAL
    if target == <int64_t>(-2147483648):
        return -ESRCH                   # Linux: INT_MIN cannot be negated
    if target > 0:
        idtype, id = P_PID, <int>target
    elif target == 0:
        idtype, id = P_PGID, sched_current().proc.pgid
    elif target < -1:
        idtype, id = P_PGID, <int>(-target)
    rc = process_wait(idtype, id, <int>(options | WEXITED), &res)
    if rc == -EINTR:
        rc = -ERESTARTSYS               # Linux's do_wait: restarted under SA_RESTART
    if rc > 0 and user_status != 0 and copy_to_user(user_status, &res.wait_status, 4) != 0:
        return -EFAULT
    if rc > 0 and user_rusage != 0 and rusage_put_wait(user_rusage, &res) != 0:
        return -EFAULT
    return rc

cdef int64_t sys_waitid(uint64_t idtype, uint64_t id, uint64_t user_info, uint64_t options,
                        uint64_t user_rusage) noexcept nogil:
    """P_ALL, P_PID, P_PGID (id 0: the caller's group); 0 with the child's siginfo, or with
    WNOHANG and no exited child, 0 with a zeroed one."""
    cdef wait_result res
    cdef waitid_info info
    cdef int64_t rc
    cdef int which = <int>idtype, ident = <int>id
    if options & ~(<uint64_t>(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WALL | WCLONE)):
        return -EINVAL
    if not (options & (WEXITED | WSTOPPED | WCONTINUED)):
        return -EINVAL
    if which == P_PID:
        if ident <= 0:
            return -EINVAL
    elif which == P_PGID:
        if ident < 0:
            return -EINVAL
        if ident == 0:
            ident = sched_current().proc.pgid
    elif which == P_PIDFD:
        return -EBADF                   # no file here is a pidfd
    elif which != P_ALL:
        return -EINVAL
    rc = process_wait(which, ident, <int>options, &res)
    if rc == -EINTR:
        return -ERESTARTSYS
    if rc < 0:
        return rc
    info.si_signo = SIGCHLD if rc > 0 else 0
    info.si_errno = 0
    info.si_code = res.code if rc > 0 else 0
    info.pad = 0
    info.si_pid = res.pid if rc > 0 else 0
    info.si_uid = 0
    info.si_status = res.status if rc > 0 else 0
    # Linux writes the rusage only when a child was found (WNOHANG with none leaves it).
    if rc > 0 and user_rusage != 0 and rusage_put_wait(user_rusage, &res) != 0:
        return -EFAULT
    if user_info != 0:
        # Only the fields Linux writes (signo, errno, code, pid, uid, status).
        if copy_to_user(user_info, &info, 12) != 0 or \
                copy_to_user(user_info + 16, &info.si_pid, 12) != 0:
            return -EFAULT
    return 0

cdef int64_t sys_setpgid(uint64_t pid, uint64_t pgid) noexcept nogil:
    return process_setpgid(<int>pid, <int>pgid)

cdef int64_t sys_gettid() noexcept nogil:
    return sched_current().tid

cdef int64_t sys_getuid() noexcept nogil:
    """getuid, geteuid, getgid, getegid: everything runs as root (uid 0), as AT_UID says."""
    return 0

cdef int64_t sys_getresuid(uint64_t ruid, uint64_t euid, uint64_t suid) noexcept nogil:
    """getresuid and getresgid: real, effective and saved ids, all 0."""
    cdef uint32_t zero = 0
    if copy_to_user(ruid, &zero, 4) != 0 or copy_to_user(euid, &zero, 4) != 0 or \
            copy_to_user(suid, &zero, 4) != 0:
        return -EFAULT
    return 0

cdef int64_t sys_getpgid(uint64_t pid) noexcept nogil:
    cdef process *p = sched_current().proc if pid == 0 else process_find(<int>pid)
    return p.pgid if p != NULL else -ESRCH

cdef int64_t sys_getpgrp() noexcept nogil:
    return sched_current().proc.pgid

cdef int64_t sys_getsid(uint64_t pid) noexcept nogil:
    cdef process *p = sched_current().proc if pid == 0 else process_find(<int>pid)
    return p.sid if p != NULL else -ESRCH

cdef int64_t sys_setsid() noexcept nogil:
    return process_setsid()

cdef int64_t sys_set_tid_address(uint64_t tidptr) noexcept nogil:
    cdef thread *t = sched_current()
    t.clear_child_tid = tidptr
    return t.tid

cdef int64_t sys_set_robust_list(uint64_t head, uint64_t length) noexcept nogil:
    cdef thread *t = sched_current()
    if length != ROBUST_LIST_HEAD_SIZE:
        return -EINVAL
    t.robust_list_head = head
    t.robust_list_len = length
    return 0

cdef int64_t sys_arch_prctl(uint64_t code, uint64_t addr) noexcept nogil:
    cdef thread *t = sched_current()
    if code == ARCH_SET_FS:
        if addr >= USER_ADDRESS_LIMIT:
            return -EPERM
        t.fs_base = addr
        wrmsr(MSR_FS_BASE, addr)
        return 0
    if code == ARCH_GET_FS:
        return -EFAULT if copy_to_user(addr, &t.fs_base, 8) != 0 else 0
    return -EINVAL

cdef int64_t sys_clone(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid,
                       uint64_t tls) noexcept nogil:
    """Threads (musl's pthread_create flags) and new processes: fork (clone(SIGCHLD)),
    CLONE_VM|CLONE_VFORK (musl's posix_spawn, system, popen) and CLONE_VM alone (a process
    sharing the address space; either may exit or exec without taking the other's memory)."""
    cdef thread *parent = sched_current()
    cdef trap_frame child_regs
    cdef thread *child
    cdef int32_t tid
    cdef int64_t pid
    if not (flags & CLONE_THREAD):
        if (flags & ~(<uint64_t>CLONE_PROCESS_FLAGS)) != 0:
            return -EINVAL
        if (flags & CSIGNAL) != SIGCHLD and (flags & CSIGNAL) != 0:
            return -EINVAL              # another exit signal than SIGCHLD: not supported
        pid = process_clone((flags & CLONE_VM) != 0, (flags & CLONE_VFORK) != 0, stack,
                            child_tid if flags & CLONE_CHILD_SETTID else 0,
                            child_tid if flags & CLONE_CHILD_CLEARTID else 0)
        if pid < 0:
            return pid
        tid = <int32_t>pid
        if flags & CLONE_PARENT_SETTID:
            copy_to_user(parent_tid, &tid, 4)
        if flags & CLONE_VFORK:
            process_vfork_wait(<int>pid)
        return pid
    if (flags & CLONE_THREAD_FLAGS) != CLONE_THREAD_FLAGS:
        return -EINVAL
    memcpy(&child_regs, task_user_frame(parent), sizeof(trap_frame))
    child_regs.rax = 0                  # clone returns 0 in the child
    if stack != 0:
        child_regs.rsp = stack
    child = task_new_thread(parent.proc, &child_regs)
    if child == NULL:
        return -EAGAIN
    fpu_save(child.fpu_area)            # the parent's live FPU state, inherited
    child.fs_base = tls if flags & CLONE_SETTLS else parent.fs_base
    child.signal_mask = parent.signal_mask     # the alternate stack is not inherited (Linux)
    tid = child.tid
    if (flags & CLONE_PARENT_SETTID and copy_to_user(parent_tid, &tid, 4) != 0) or \
            (flags & CLONE_CHILD_SETTID and copy_to_user(child_tid, &tid, 4) != 0):
        parent.proc.thread_count -= 1
        task_free_thread(child)
        return -EFAULT
    if flags & CLONE_CHILD_CLEARTID:
        child.clear_child_tid = child_tid
    sched_make_runnable(child)
    return tid

cdef int64_t sys_sched_yield() noexcept nogil:
    sched_yield_cpu()
    return 0

cdef thread *affinity_target(uint64_t pid) noexcept nogil:
    """sched_*affinity's pid: 0 is the caller, else any thread id."""
    if pid == 0:
        return sched_current()
    if <int64_t>pid < 0:
        return NULL
    return task_find(<int>pid)

cdef int64_t sys_sched_getaffinity(uint64_t pid, uint64_t size, uint64_t user_mask) noexcept nogil:
    """The thread's allowed online CPUs.  Returns the bytes written (the kernel's cpumask
    size, one long here), as the raw syscall does."""
    cdef thread *t
    cdef uint64_t mask
    if size * 8 < sched_cpus_online() or (size & (AFFINITY_MASK_BYTES - 1)) != 0:
        return -EINVAL              # Linux: too short for nr_cpu_ids bits, or not whole longs
    t = affinity_target(pid)
    if t == NULL:
        return -ESRCH
    mask = sched_get_affinity(t)
    if copy_to_user(user_mask, &mask, AFFINITY_MASK_BYTES) != 0:
        return -EFAULT
    return AFFINITY_MASK_BYTES

cdef int64_t sys_sched_setaffinity(uint64_t pid, uint64_t size, uint64_t user_mask) noexcept nogil:
    """Linux's: the first min(size, one long) bytes (the rest zero) & the online CPUs;
    EINVAL if that leaves none; the thread then runs only there."""
    cdef thread *t
    cdef uint64_t mask = 0
    cdef uint64_t n = size if size < AFFINITY_MASK_BYTES else AFFINITY_MASK_BYTES
    if copy_from_user(&mask, user_mask, n) != 0:
        return -EFAULT
    t = affinity_target(pid)
    if t == NULL:
        return -ESRCH
    if not sched_set_affinity(t, mask):
        return -EINVAL
    return 0

cdef int64_t sys_getcpu(uint64_t user_cpu, uint64_t user_node, uint64_t unused_cache) noexcept nogil:
    """The CPU the caller runs on (it may move right after, as on Linux); node 0."""
    cdef uint32_t cpu = percpu_cpu_index()
    cdef uint32_t node = 0
    if user_cpu != 0 and copy_to_user(user_cpu, &cpu, sizeof(cpu)) != 0:
        return -EFAULT
    if user_node != 0 and copy_to_user(user_node, &node, sizeof(node)) != 0:
        return -EFAULT
    return 0
