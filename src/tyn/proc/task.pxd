# Threads and processes (one process for now: the BEAM; many threads).
from libc.stdint cimport int64_t, uint32_t, uint64_t
from tyn.arch.trapframe cimport trap_frame
from tyn.proc.futex cimport futex_waiter
from tyn.mm.vma cimport mm_space
from tyn.fs.context cimport fs_context
from tyn.time.ktimer cimport ktimer

cdef enum:
    THREAD_RUNNABLE = 1
    THREAD_RUNNING = 2
    THREAD_BLOCKED = 3
    THREAD_DEAD = 4
    # Why a blocked thread woke up.
    WAKE_NORMAL = 0
    WAKE_TIMEOUT = 1
    WAKE_INTERRUPTED = 2
    KERNEL_STACK_PAGES = 4          # 16 KiB per thread, plus a guard page
    TASK_MAX_THREADS = 1024
    FIRST_PID = 1

# struct k_sigaction as the raw syscall sees it (x86_64).
cdef struct kernel_sigaction:
    uint64_t handler
    uint64_t flags
    uint64_t restorer
    uint64_t mask

cdef enum:
    PROCESS_RUNNING = 1
    PROCESS_ZOMBIE = 2              # exited, status not yet collected by wait4
    SIGNAL_SLOTS = 65               # 1..64
    SIGNAL_CLASSES = 2              # thread-directed, process-directed (sys/sigqueue.pxd)

# What a pending signal's siginfo will say (sys/signal.pyx fills the user's siginfo_t).
cdef struct signal_info:
    int code                        # si_code: SI_USER, SI_TKILL, SI_KERNEL, CLD_*, SEGV_*, ...
    int pid                         # the sender (SIGCHLD: the child)
    unsigned int uid
    int status                      # SIGCHLD: exit code or signal
    uint64_t addr                   # faults: si_addr; SIGCHLD: the child's user CPU time (ns)
    uint64_t stime_ns               # SIGCHLD: the child's kernel CPU time (ns)
    uint64_t value                  # si_value (rt_sigqueueinfo's sigval), 0 for kill & co.

# One instance of a real-time signal waiting in its thread's queue (sys/sigqueue.pyx).
cdef struct queued_signal:
    queued_signal *next
    int sig
    int cls                         # SIGQUEUE_PRIVATE or SIGQUEUE_SHARED
    signal_info info

cdef struct process:
    int pid
    int parent_pid                  # 0 for init
    int pgid
    int sid
    int state
    uint64_t page_root              # CR3 of the address space (= mm.root)
    mm_space mm
    int exit_status
    bint exiting
    int thread_count
    uint64_t brk_start, brk_end
    # CPU accounting (proc/cputime.pyx): its threads' times, exited ones included; the
    # c* fields sum the children it waited for (getrusage RUSAGE_CHILDREN, times).
    uint64_t utime_ns, stime_ns, cutime_ns, cstime_ns
    uint64_t nvcsw, nivcsw, cnvcsw, cnivcsw     # voluntary/involuntary context switches
    uint64_t min_flt, cmin_flt                  # page faults resolved without I/O
    uint64_t maxrss_pages, cmaxrss_pages        # resident high-water mark
    bint dumpable_cleared           # PR_SET_DUMPABLE 0 (per process, as Linux's mm flag)
    fs_context fs                   # working directory, open files, umask
    kernel_sigaction actions[SIGNAL_SLOTS]
    int wait_status                 # Linux wait4 status word, valid when ZOMBIE
    int creator_tid                 # the parent's thread that forked it (0: gone)
    int pdeath_signal               # PR_SET_PDEATHSIG: raised here when that thread exits
    int exit_code                   # exit(code): valid when exiting and exit_signal == 0
    int exit_signal                 # the signal that ended it, or 0
    bint did_exec                   # setpgid by the parent: EACCES after an execve
    process *vm_lender              # CLONE_VM child: whose address space it runs in, until execve/exit
    int mm_borrowers                # CLONE_VM children running in this process's address space
    bint mm_holder                  # no process: an address space kept for its borrowers after
                                    # its owner exec'd or exited (proc/process.pyx)
    bint vfork_pending              # CLONE_VFORK: the parent waits until execve/exit clears it
    int exec_tid                    # execve in progress: the other threads leave quietly (de_thread)
    ktimer real_timer               # ITIMER_REAL (setitimer/alarm): SIGALRM at its deadline
    uint64_t real_interval_ns
    # ITIMER_VIRTUAL/ITIMER_PROF (sys/itimer.pyx, under the kernel_lock): the process CPU
    # time (user; user + system) at which each expires (0: disarmed), and its reload.
    uint64_t cpu_timer_expires_ns[2]
    uint64_t cpu_timer_interval_ns[2]
    bint cpu_timers_armed           # either armed: the scheduler keeps ticking its threads
    # Resource limits a process may lower (sys/info.pyx), inherited by fork.
    uint64_t rlimit_nproc_cur, rlimit_nproc_max
    uint64_t rlimit_sigpending_cur, rlimit_sigpending_max

cdef struct thread:
    uint64_t saved_rsp              # context_switch() slot; keep first
    uint64_t kstack_top
    int tid
    int state
    int wake_reason
    uint64_t fs_base
    void *fpu_area                  # FPU_AREA_ALIGN-aligned, inside fpu_allocation
    void *fpu_allocation
    process *proc
    thread *run_next                # run queue link
    thread *sleep_next              # timed-wait list link
    thread *wait_next               # waitq link (proc/waitq.pyx)
    void *waiting_on                # the waitq it is queued on, or NULL
    uint64_t wake_deadline_ns       # 0: no timeout
    uint64_t clear_child_tid        # CLONE_CHILD_CLEARTID / set_tid_address
    uint64_t robust_list_head
    uint64_t robust_list_len
    uint64_t signal_mask            # blocked signals (bit n-1 = signal n)
    uint64_t signal_pending         # raised for this thread, not yet delivered (both classes)
    # sys/sigqueue, under sigqueue_lock: per class (thread-directed, process-directed) the
    # pending bits, each standard signal's siginfo and which are held; real-time instances.
    uint64_t class_pending[SIGNAL_CLASSES]
    signal_info siginfo[SIGNAL_CLASSES][SIGNAL_SLOTS]
    uint64_t siginfo_held[SIGNAL_CLASSES]
    queued_signal *rt_queue         # pending real-time signal instances, oldest first
    uint64_t real_blocked           # rt_sigtimedwait: the mask before it unblocked its set
    uint64_t saved_sigmask          # the mask before a syscall's temporary one (ppoll & co.)
    bint restore_sigmask            # saved_sigmask goes back on the way to user mode
    uint64_t altstack_sp            # sigaltstack (0 size: none)
    uint64_t altstack_size
    int altstack_flags
    futex_waiter futex_wait         # queued on a futex while blocked in FUTEX_WAIT
    uint64_t utime_ns, stime_ns     # CPU time in user and kernel mode (proc/cputime.pyx)
    uint64_t cputime_mark_ns        # when the interval being accounted began
    uint64_t nvcsw, nivcsw          # context switches: blocked / preempted
    uint64_t min_flt                # page faults it took (resolved without I/O)
    char comm[16]                   # TASK_COMM_LEN: prctl(PR_SET_NAME), the exec'd file's name
    bint is_idle
    uint32_t cpu                    # the CPU it runs on, or last ran on / is queued on
    uint64_t cpus_allowed           # sched_setaffinity mask (bit n: CPU n); 0 until first run

# A new thread whose first run returns to user mode with the registers in `user`.
cdef extern thread *task_new_thread(process *proc, const trap_frame *user) noexcept nogil
cdef extern void task_free_thread(thread *t) noexcept nogil
# Remove t from tid lookups (it is exiting; freed later by the scheduler).
cdef extern void task_unregister(thread *t) noexcept nogil
cdef extern trap_frame *task_user_frame(thread *t) noexcept nogil
cdef extern int task_next_tid() noexcept nogil
# Live threads; *active (if not NULL) gets those running or runnable.
cdef extern int task_count_live(int *active) noexcept nogil
# The live thread with this tid, or NULL.
cdef extern thread *task_find(int tid) noexcept nogil
# Iterate a process's live threads: task_of_process(p, NULL), then pass the previous one.
cdef extern thread *task_of_process(process *p, thread *after) noexcept nogil
