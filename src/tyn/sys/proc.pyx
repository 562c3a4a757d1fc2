# Process and thread system calls.
from libc.stdint cimport int64_t, int32_t, uint32_t, uint64_t
from tyn.arch.cpu cimport wrmsr, memcpy, MSR_FS_BASE
from tyn.arch.fpu cimport fpu_save
from tyn.arch.percpu cimport percpu_cpu_index
from tyn.arch.trapframe cimport trap_frame
from tyn.arch.uaccess cimport copy_to_user, copy_from_user, clear_user, USER_ADDRESS_LIMIT
from tyn.proc.process cimport process_exit, process_thread_exits, process_fork, process_wait, process_find
from tyn.proc.sched cimport (sched_current, sched_make_runnable, sched_exit_current, sched_yield_cpu,
                             sched_cpus_online, sched_get_affinity, sched_set_affinity)
from tyn.proc.task cimport thread, process, task_new_thread, task_free_thread, task_user_frame, task_find
from tyn.sys.errno cimport EINVAL, EFAULT, EAGAIN, ENOSYS, EPERM, ESRCH, ECHILD, EINTR, ERESTARTSYS
from tyn.sys.futex_syscall cimport futex_wake_address

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
    WNOHANG = 1
    WUNTRACED = 2
    WCONTINUED = 8
    WCLONE = 0x80000000
    WALL = 0x40000000
    RUSAGE_SIZE = 144                   # struct rusage

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
    """fork and vfork (a vfork child may run before or after its parent: a copy is correct)."""
    return process_fork()

cdef int64_t sys_wait4(uint64_t pid, uint64_t user_status, uint64_t options, uint64_t user_rusage) noexcept nogil:
    cdef int64_t rc
    if options & ~(<uint64_t>(WNOHANG | WUNTRACED | WCONTINUED | WALL | WCLONE)):
        return -EINVAL
    if <int64_t>pid < -1 or <int64_t>pid == 0:
        return -ECHILD                  # process groups other than our own: none
    rc = process_wait(<int64_t>pid, user_status, options)
    if rc == -EINTR:
        rc = -ERESTARTSYS               # Linux's do_wait: restarted under SA_RESTART
    if rc > 0 and user_rusage != 0 and clear_user(user_rusage, RUSAGE_SIZE) != 0:
        return -EFAULT
    return rc

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
    cdef process *p = sched_current().proc
    if p.pgid == p.pid:
        return -EPERM                   # a process group leader cannot start a session
    p.sid = p.pid
    p.pgid = p.pid
    return p.pid

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
    """Threads (musl's pthread_create flags).  New processes (fork) are not supported."""
    cdef thread *parent = sched_current()
    cdef trap_frame child_regs
    cdef thread *child
    cdef int32_t tid
    if (flags & ~(<uint64_t>CSIGNAL)) == 0:
        return process_fork()           # clone(SIGCHLD): fork
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
