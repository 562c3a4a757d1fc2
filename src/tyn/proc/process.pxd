from libc.stdint cimport int64_t, uint64_t
from tyn.arch.trapframe cimport trap_frame
from tyn.mm.vma cimport mm_space
from tyn.proc.task cimport process, thread

cdef enum:
    SIGNAL_EXIT_BASE = 128          # a process killed by signal N ends with status 128 + N
    SIGSEGV = 11
    SIGBUS = 7
    SIGILL = 4
    SIGFPE = 8
    SIGTRAP = 5
    PROCESS_TABLE_SIZE = 64
    DEFAULT_PROCESS_LIMIT = 64          # nproc= lowers it; RLIMIT_NPROC reports it
    # waitid's idtype and the wait options (include/uapi/linux/wait.h)
    P_ALL = 0
    P_PID = 1
    P_PGID = 2
    P_PIDFD = 3
    WNOHANG = 1
    WUNTRACED = 2
    WSTOPPED = 2
    WEXITED = 4
    WCONTINUED = 8
    WNOWAIT = 0x01000000
    WNOTHREAD = 0x20000000
    WALL = 0x40000000
    WCLONE = 0x80000000
    # SIGCHLD's si_code
    CLD_EXITED = 1
    CLD_KILLED = 2
    CLD_DUMPED = 3

# What wait4/waitid report of a child.
cdef struct wait_result:
    int pid
    int wait_status                 # wait4's status word
    int code                        # CLD_EXITED / CLD_KILLED
    int status                      # exit code or signal
    # Its resource use with its own reaped children's (Linux's RUSAGE_BOTH, what wait4's
    # and waitid's rusage report).
    uint64_t utime_ns, stime_ns     # CPU time in user and kernel mode
    uint64_t nvcsw, nivcsw, min_flt, maxrss_pages

# The first process (pid 1): an empty address space, the console on fds 0-2.
cdef extern process *process_create() noexcept nogil
cdef extern process *process_current() noexcept nogil
cdef extern process *process_find(int pid) noexcept nogil
# fn(p, ctx) for every process with an address space (running, not yet exited).
cdef extern void process_for_each(void (*fn)(process *p, void *ctx) noexcept nogil, void *ctx) noexcept nogil
# Most processes alive at once (fork beyond it: EAGAIN).
cdef extern void process_set_limit(int limit) noexcept nogil
cdef extern int process_get_limit() noexcept nogil
# The address space p runs in (its lender's for a CLONE_VM child before execve).
cdef extern mm_space *process_mm(process *p) noexcept nogil
cdef extern int64_t process_fork() noexcept nogil
# fork, or with share_vm a CLONE_VM child in the caller's address space (vfork: the caller
# will wait in process_vfork_wait); rsp = stack if not 0; set_tid/clear_tid:
# CLONE_CHILD_SETTID/CLEARTID addresses (0: none).  The child's pid or -errno.
cdef extern int64_t process_clone(bint share_vm, bint vfork, uint64_t stack, uint64_t set_tid,
                                  uint64_t clear_tid) noexcept nogil
# CLONE_VFORK: wait until that child has exec'd or exited (only SIGKILL ends it early).
cdef extern void process_vfork_wait(int child_pid) noexcept nogil
# execve's point of no return: other threads leave, a CLONE_VM child gets its own
# (empty, loaded in CR3) address space.  0, -EAGAIN or -ENOMEM.
cdef extern int process_exec_detach(process *p) noexcept nogil
# A thread hit by another thread's execve leaves quietly (never returns); False if
# no execve is in progress.
cdef extern bint process_thread_leaves_for_exec(thread *t) noexcept nogil
# A thread of p has left by exit(): wakes an execve waiting for the other threads.
cdef extern void process_thread_left(process *p) noexcept nogil
# wait4/waitid's core (idtype P_ALL/P_PID/P_PGID, options W*): a child's pid (out filled),
# 0 (WNOHANG, none exited), -ECHILD or -EINTR.
cdef extern int64_t process_wait(int idtype, int id, int options, wait_result *out) noexcept nogil
cdef extern int64_t process_setpgid(int pid, int pgid) noexcept nogil
cdef extern int64_t process_setsid() noexcept nogil
# The calling thread's process ends with exit code `status` (its other threads are killed
# and leave the same way); pid 1 ending powers the machine off.  Never returns.
cdef extern void process_exit(process *p, int status) noexcept nogil
# The same for a death by signal sig (wait status: the signal; pid 1: 128 + sig).
cdef extern void process_exit_signal(process *p, int sig) noexcept nogil
# A thread other than a process's last is leaving (PR_SET_PDEATHSIG of the children it forked).
cdef extern void process_thread_exits(thread *t) noexcept nogil
# Drop a process's memory (execve keeps the process and maps a new image).
cdef extern void release_process_memory(process *p) noexcept nogil
# trap.pyx's page-fault resolver: demand paging in the current process.
cdef extern bint process_page_fault(uint64_t address, uint64_t error_code) noexcept nogil
# An exception in user mode nobody resolved: the program's signal handler, or death.
cdef extern void process_user_fault(trap_frame *frame) noexcept nogil
