# Processes: the table, fork (the address space shared copy-on-write), exit and wait.
#
# The BEAM is process 1; its fork+exec of erl_child_setup (the port program
# forker) is process 2, which forks the port programs (os:cmd, open_port).  More
# processes than the limit (nproc=, default DEFAULT_PROCESS_LIMIT) are refused with
# EAGAIN, as Linux does at RLIMIT_NPROC (which reports this limit).  When process 1
# exits the machine powers off with its status.
#
# A CLONE_VM child (vfork, posix_spawn) runs in its parent's address space (vm_lender)
# until it execs or exits; CLONE_VFORK makes the parent wait for that moment.
#
# Locks: system calls change processes under the kernel_lock.  The table's slots also
# change only under waitq_lock (a process is put in fully set up, and freed only after
# its slot is cleared), because interrupt handlers, which never take the kernel_lock,
# walk it under waitq_lock (the tty's Ctrl-C: process_signal_group).  child_exits and
# vfork_done are waitqs under waitq_lock.
from libc.stdint cimport int64_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt, read_cr2, read_cr3, write_cr3, irq_disable, memcpy, memset
from tyn.arch.fpu cimport fpu_save
from tyn.arch.panic cimport exception_name
from tyn.arch.power cimport power_exit
from tyn.lib.kprofile cimport (profile_begin, profile_end_event, profile_report, PROFILE_PAGE_FAULT,
                               PROFILE_FORK_COPY, PROFILE_ADDRESS_SPACE_FREE)
from tyn.arch.trap cimport VECTOR_PAGE_FAULT, VECTOR_DIVIDE_ERROR, VECTOR_INVALID_OPCODE, VECTOR_BREAKPOINT
from tyn.arch.trapframe cimport trap_frame
from tyn.arch.uaccess cimport copy_to_user
from tyn.fs.context cimport fs_context_init, fs_context_release, fs_set_current
from tyn.fs.fdtable cimport fdtable_clone
from tyn.fs.vfs cimport vfs_node_get
from tyn.lib.kprint cimport kputs, kput_udec, kput_hex
from tyn.mm.heap cimport kcalloc, kfree
from tyn.mm.paging cimport paging_new_root, paging_kernel_root, PT_ENTRIES, PAGING_NOT_MAPPED, PTE_ADDR_MASK
from tyn.mm.oom cimport oom_page_fault
from tyn.mm.memstat cimport memstat_report
from tyn.mm.vma cimport vma_fault, vma_fork, vma_unmap, VMA_USER_LOW, VMA_USER_HIGH
from tyn.mm.vma cimport mm_space, vma_find
from tyn.proc.sched cimport sched_current, sched_make_runnable, sched_exit_current
from tyn.proc.cputime cimport cputime_reap_child, cputime_count_fault
from tyn.proc.task cimport (process, thread, signal_info, FIRST_PID, PROCESS_RUNNING, PROCESS_ZOMBIE,
                            SIGNAL_SLOTS, task_new_thread, task_user_frame, task_of_process, task_find,
                            task_next_tid)
from tyn.proc.waitq cimport waitq, waitq_lock, waitq_unlock, waitq_sleep, waitq_wake_all
from tyn.sys.errno cimport EAGAIN, ENOMEM, ECHILD, EFAULT, EINTR, EINVAL, ESRCH, EPERM, EACCES
from tyn.sys.signal cimport (signal_fault_info, signal_info_kernel, SI_KERNEL, signal_raise, signal_process, signal_process_info,
                            signal_thread_leaves)
from tyn.sys.itimer cimport itimer_process_init, itimer_process_stop
from tyn.sys.sigqueue cimport SIGQUEUE_DEFAULT_LIMIT

cdef enum:
    KERNEL_HALF_FIRST_ENTRY = 256       # PML4 entries 256..511 map the kernel half
    SIGKILL = 9
    SIGCHLD = 17
    SIG_IGN = 1
    SA_NOCLDWAIT = 2
    # si_code values (include/uapi/asm-generic/siginfo.h)
    SEGV_MAPERR = 1
    SEGV_ACCERR = 2
    BUS_ADRERR = 2
    FPE_INTDIV = 1
    ILL_ILLOPN = 2
    TRAP_BRKPT = 1
    VECTOR_DEBUG = 1
    VECTOR_DEVICE_NOT_AVAILABLE = 7
    VECTOR_STACK_FAULT = 12
    VECTOR_GENERAL_PROTECTION = 13
    VECTOR_X87_FPU_ERROR = 16
    VECTOR_SIMD_FP = 19

cdef process *table[PROCESS_TABLE_SIZE]
cdef int process_limit
cdef waitq child_exits                  # parents in wait4/waitid
cdef waitq vfork_done                   # CLONE_VFORK parents; also execve waiting for de_thread

cdef void process_set_limit(int limit) noexcept nogil:
    global process_limit
    process_limit = limit if limit < PROCESS_TABLE_SIZE else PROCESS_TABLE_SIZE

cdef int process_get_limit() noexcept nogil:
    return process_limit if process_limit != 0 else DEFAULT_PROCESS_LIMIT

cdef mm_space *process_mm(process *p) noexcept nogil:
    return &p.vm_lender.mm if p.vm_lender != NULL else &p.mm

cdef int live_processes() noexcept nogil:
    cdef int i, n = 0
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].state == PROCESS_RUNNING:
            n += 1
    return n

cdef void process_for_each(void (*fn)(process *p, void *ctx) noexcept nogil, void *ctx) noexcept nogil:
    cdef int i
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].state == PROCESS_RUNNING and not table[i].exiting:
            fn(table[i], ctx)

cdef process *process_find(int pid) noexcept nogil:
    cdef int i
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].pid == pid:
            return table[i]
    return NULL

cdef uint64_t new_address_space() noexcept nogil:
    """A page-table root with an empty user half sharing the kernel half (PAGING_NOT_MAPPED
    when out of memory)."""
    cdef uint64_t page_root = paging_new_root()
    cdef uint64_t *root
    cdef uint64_t *kernel_root
    cdef int i
    if page_root == PAGING_NOT_MAPPED:
        return page_root
    root = <uint64_t *>phys_to_virt(page_root)
    kernel_root = <uint64_t *>phys_to_virt(paging_kernel_root())
    # Share the kernel half: the same lower-level tables, so later kernel mappings appear too.
    for i in range(KERNEL_HALF_FIRST_ENTRY, PT_ENTRIES):
        root[i] = kernel_root[i]
    return page_root

cdef process *new_process(bint own_address_space) noexcept nogil:
    """An empty process in the table, with a fresh address space if asked."""
    cdef process *p
    cdef int i, slot = -1
    cdef uint64_t flags
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].state == 0 and table[i].exiting and table[i].thread_count == 0:
            process_reap(table[i])      # exited with nobody to wait for it
        if table[i] == NULL and slot < 0:
            slot = i
    if slot < 0:
        return NULL
    p = <process *>kcalloc(1, sizeof(process))
    if p == NULL:
        return NULL
    if own_address_space:
        p.page_root = new_address_space()
        if p.page_root == PAGING_NOT_MAPPED:
            kfree(p)
            return NULL
    p.mm.root = p.page_root
    # Linux's one id space: a process's pid is its first thread's tid (task_new_thread).
    p.pid = task_next_tid()
    p.state = PROCESS_RUNNING
    itimer_process_init(p)
    flags = waitq_lock()
    table[slot] = p
    waitq_unlock(flags)
    return p

cdef process *process_create() noexcept nogil:
    """The first process (pid 1), with the console on fds 0, 1 and 2."""
    global process_limit
    cdef process *p
    if process_limit == 0:
        process_limit = DEFAULT_PROCESS_LIMIT
    p = new_process(True)
    if p == NULL:
        return NULL
    p.rlimit_nproc_cur = <uint64_t>process_limit
    p.rlimit_nproc_max = <uint64_t>process_limit
    p.rlimit_sigpending_cur = SIGQUEUE_DEFAULT_LIMIT
    p.rlimit_sigpending_max = SIGQUEUE_DEFAULT_LIMIT
    p.pgid = p.pid
    p.sid = p.pid
    if fs_context_init(&p.fs, True) < 0:
        return NULL
    fs_set_current(&p.fs)
    return p

cdef process *process_current() noexcept nogil:
    return sched_current().proc

cdef process *process_with_root(uint64_t root) noexcept nogil:
    cdef thread *t = sched_current()
    cdef int i
    if not t.is_idle and t.proc != NULL and t.proc.page_root == root:
        return t.proc                   # the usual case
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].page_root == root:
            return table[i]
    return NULL

cdef bint process_page_fault(uint64_t address, uint64_t error_code) noexcept nogil:
    """Demand paging in the address space that is live (the kernel loads init's image
    from the idle thread with init's page tables installed)."""
    cdef uint64_t started = profile_begin()
    cdef process *p = process_with_root(read_cr3() & PTE_ADDR_MASK)
    cdef bint resolved = p != NULL and vma_fault(process_mm(p), address, error_code)
    if resolved:
        cputime_count_fault(p)
    profile_end_event(PROFILE_PAGE_FAULT, started)
    return resolved

# ------------------------------------------------------------------ fork

cdef bint hand_mm_to_borrowers(process *p) noexcept nogil:
    """p leaves its address space (exit, execve) while CLONE_VM children still run in it:
    the space moves to a holder (a process struct in no table slot) that they borrow from
    now on, freed with the space when the last of them leaves (Linux's mm_users).  p keeps
    no space (page_root 0).  False if the holder cannot be allocated."""
    cdef process *holder = <process *>kcalloc(1, sizeof(process))
    cdef int i
    if holder == NULL:
        return False
    holder.mm_holder = True
    holder.mm = p.mm
    holder.page_root = p.page_root
    holder.mm_borrowers = p.mm_borrowers
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].vm_lender == p:
            table[i].vm_lender = holder
    memset(&p.mm, 0, sizeof(mm_space))
    p.page_root = 0
    p.mm_borrowers = 0
    return True

cdef void release_process_memory(process *p) noexcept nogil:
    cdef uint64_t started
    if p.vm_lender != NULL or p.page_root == 0:
        return                          # the address space is the lender's (CLONE_VM)
    if p.mm_borrowers > 0 and hand_mm_to_borrowers(p):
        return                          # CLONE_VM children still run in it
    started = profile_begin()
    vma_unmap(&p.mm, VMA_USER_LOW, VMA_USER_HIGH - VMA_USER_LOW)
    profile_end_event(PROFILE_ADDRESS_SPACE_FREE, started)

cdef int64_t process_fork() noexcept nogil:
    """fork(): a new process running a copy of the calling thread; its pid, or -errno."""
    return process_clone(False, False, 0, 0, 0)

cdef int64_t process_clone(bint share_vm, bint vfork, uint64_t stack, uint64_t set_tid,
                           uint64_t clear_tid) noexcept nogil:
    """A new process running the calling thread's registers (rsp = stack if not 0): a
    copy-on-write copy of the address space, or with share_vm the very same one until it
    execs or exits (CLONE_VM).  set_tid: where the child's memory gets its pid
    (CLONE_CHILD_SETTID); clear_tid: CLONE_CHILD_CLEARTID's word.  Its pid, or -errno."""
    cdef thread *parent_thread = sched_current()
    cdef process *parent = parent_thread.proc
    cdef process *child
    cdef trap_frame regs
    cdef thread *t
    cdef int i
    cdef bint copied
    cdef uint64_t started
    if live_processes() >= process_get_limit():
        return -EAGAIN
    child = new_process(not share_vm)
    if child == NULL:
        return -EAGAIN
    child.parent_pid = parent.pid
    child.creator_tid = parent_thread.tid
    child.pgid = parent.pgid
    child.sid = parent.sid
    child.dumpable_cleared = parent.dumpable_cleared   # Linux copies the mm's dumpable bits
    child.rlimit_nproc_cur = parent.rlimit_nproc_cur
    child.rlimit_nproc_max = parent.rlimit_nproc_max
    child.rlimit_sigpending_cur = parent.rlimit_sigpending_cur
    child.rlimit_sigpending_max = parent.rlimit_sigpending_max
    for i in range(SIGNAL_SLOTS):
        child.actions[i] = parent.actions[i]
    child.fs.umask = parent.fs.umask
    child.fs.cwd = parent.fs.cwd
    if child.fs.cwd != NULL:
        vfs_node_get(child.fs.cwd)
    started = profile_begin()
    if share_vm:
        child.vm_lender = parent.vm_lender if parent.vm_lender != NULL else parent
        child.page_root = parent.page_root
        child.mm.root = parent.page_root
        copied = fdtable_clone(&child.fs.fdt, &parent.fs.fdt) == 0
    else:
        copied = fdtable_clone(&child.fs.fdt, &parent.fs.fdt) == 0 and \
            vma_fork(&child.mm, process_mm(parent)) == 0
    profile_end_event(PROFILE_FORK_COPY, started)
    if not copied:
        child.vm_lender = NULL
        process_reap(child)
        return -ENOMEM
    memcpy(&regs, task_user_frame(parent_thread), sizeof(trap_frame))
    regs.rax = 0                        # fork returns 0 in the child
    if stack != 0:
        regs.rsp = stack
    t = task_new_thread(child, &regs)
    if t == NULL:
        child.vm_lender = NULL
        process_reap(child)
        return -ENOMEM
    fpu_save(t.fpu_area)
    t.fs_base = parent_thread.fs_base
    t.signal_mask = parent_thread.signal_mask
    t.clear_child_tid = clear_tid
    child.vfork_pending = vfork
    if child.vm_lender != NULL:
        child.vm_lender.mm_borrowers += 1
    if set_tid != 0:
        store_in_child(child, set_tid, child.pid)
    sched_make_runnable(t)
    return child.pid

cdef void store_in_child(process *child, uint64_t address, int value) noexcept nogil:
    """CLONE_CHILD_SETTID: the child's memory (its copy-on-write copy, through its page
    tables; interrupts stay off so no switch reloads ours meanwhile).  A bad address is
    ignored, as Linux does."""
    cdef uint64_t flags = waitq_lock()
    cdef uint64_t own = read_cr3()
    write_cr3(child.page_root)
    copy_to_user(address, &value, 4)
    write_cr3(own)
    waitq_unlock(flags)

cdef void vfork_release(process *p) noexcept nogil:
    """p stops using its lender's address space (execve or exit): a vfork parent goes on;
    the last borrower of a holder frees it and the space."""
    cdef process *lender = p.vm_lender
    p.vm_lender = NULL
    if lender != NULL:
        lender.mm_borrowers -= 1
        if lender.mm_holder and lender.mm_borrowers == 0:
            vma_unmap(&lender.mm, VMA_USER_LOW, VMA_USER_HIGH - VMA_USER_LOW)
            kfree(lender)
    if p.vfork_pending:
        p.vfork_pending = False
        waitq_wake_all(&vfork_done)

cdef void process_vfork_wait(int child_pid) noexcept nogil:
    """CLONE_VFORK: the parent sleeps until the child has exec'd or exited.  Only SIGKILL
    ends the wait early (Linux's killable wait_for_vfork_done)."""
    cdef thread *me = sched_current()
    cdef process *child
    cdef uint64_t flags = waitq_lock()
    while True:
        child = process_find(child_pid)
        if child == NULL or not child.vfork_pending or me.signal_pending & (<uint64_t>1 << (SIGKILL - 1)):
            break
        waitq_sleep(&vfork_done, 0)
    waitq_unlock(flags)

cdef int process_exec_detach(process *p) noexcept nogil:
    """execve's point of no return: the other threads leave (Linux's de_thread) and a
    CLONE_VM child gets an address space of its own (on return CR3 holds it; its parent
    goes on).  0, -EAGAIN (the process is exiting already) or -ENOMEM."""
    cdef thread *me = sched_current()
    cdef thread *t
    cdef uint64_t root, flags
    if p.exiting:
        return -EAGAIN
    if p.thread_count > 1:
        p.exec_tid = me.tid
        t = task_of_process(p, NULL)
        while t != NULL:
            if t != me:
                signal_raise(t, SIGKILL)
            t = task_of_process(p, t)
        flags = waitq_lock()
        while p.thread_count > 1 and not p.exiting:
            waitq_sleep(&vfork_done, 0)
        waitq_unlock(flags)
        p.exec_tid = 0
        if p.exiting:
            return -EAGAIN              # exit_group raced with us: we die with the rest
        if me.tid != p.pid:
            take_leader_tid(p, me)
    if p.vm_lender != NULL or p.mm_borrowers > 0:
        root = new_address_space()
        if root == PAGING_NOT_MAPPED:
            return -ENOMEM
        if p.vm_lender == NULL and not hand_mm_to_borrowers(p):
            return -ENOMEM              # (the new root is lost: as any failed execve here)
        p.page_root = root
        p.mm.root = root
        write_cr3(root)
        vfork_release(p)
    p.did_exec = True
    return 0

cdef void take_leader_tid(process *p, thread *me) noexcept nogil:
    """de_thread's exchange: a thread that execs becomes the leader and takes its tid
    (the pid); the leader has left (out of tid lookups).  Children it forked keep it as
    their creating thread (PR_SET_PDEATHSIG)."""
    cdef int i
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].creator_tid == me.tid:
            table[i].creator_tid = p.pid
    me.tid = p.pid

cdef void process_thread_left(process *p) noexcept nogil:
    """A thread of p has left (p.thread_count dropped): an execve waiting in de_thread
    checks again."""
    if p.exec_tid != 0:
        waitq_wake_all(&vfork_done)

cdef bint process_thread_leaves_for_exec(thread *t) noexcept nogil:
    """A thread killed by another thread's execve: it leaves without ending the process.
    False if no execve is in progress (then SIGKILL ends the process)."""
    cdef process *p = t.proc
    if p.exec_tid == 0 or p.exec_tid == t.tid:
        return False
    process_thread_exits(t)
    p.thread_count -= 1
    waitq_wake_all(&vfork_done)
    sched_exit_current()
    return True

# ------------------------------------------------------------- exit, wait

cdef void process_reap(process *p) noexcept nogil:
    """Free what is left of a process and its table slot."""
    cdef int i
    cdef uint64_t flags
    itimer_process_stop(p)
    release_process_memory(p)
    flags = waitq_lock()
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] == p:
            table[i] = NULL
    waitq_unlock(flags)
    kfree(p)

cdef void process_exit(process *p, int status) noexcept nogil:
    """exit(status): see ending()."""
    ending(p, status & 0xFF, 0)

cdef void process_exit_signal(process *p, int sig) noexcept nogil:
    """Death by signal sig: see ending()."""
    ending(p, 0, sig)

cdef void ending(process *p, int code, int sig) noexcept nogil:
    """The calling thread's process ends (exit code, or killed by sig).

    The first caller records the status, stops the interval timer and kills the other
    threads; every thread then leaves through here.  The last one out -- when no other
    thread of the process can be in a system call or in user mode any more -- frees the
    memory and the files (Linux's order: zap the threads, the last mm user tears the mm
    down), makes the process a zombie for wait4 and signals SIGCHLD to the parent.  A
    thread that left may still be finishing its switch away on another CPU, in kernel
    code only; the unmap's shootdown reaches that CPU before any frame is freed.  Pid 1
    powers the machine off with the status (128 + signal for a signal)."""
    cdef thread *t
    cdef int status = SIGNAL_EXIT_BASE + sig if sig != 0 else code
    if p.pid == FIRST_PID:
        irq_disable()
        p.exiting = True
        p.exit_status = status
        profile_report()
        memstat_report(&p.mm)
        power_exit(status)
        return
    if not p.exiting:
        p.exiting = True
        p.exit_status = status
        p.exit_code = code
        p.exit_signal = sig
        p.wait_status = sig if sig != 0 else code << 8
        itimer_process_stop(p)
        t = task_of_process(p, NULL)
        while t != NULL:
            if t != sched_current():
                signal_raise(t, SIGKILL)
            t = task_of_process(p, t)
    thread_leaves(p)

cdef void lenders_gone(process *p) noexcept nogil:
    """CLONE_VM children still running in p's (now empty) address space keep its page
    tables but no longer its mappings: they fault from here on, and never touch p again."""
    cdef int i
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].vm_lender == p:
            table[i].vm_lender = NULL

cdef bint parent_ignores_children(process *parent) noexcept nogil:
    """SIGCHLD set to SIG_IGN or SA_NOCLDWAIT: children are reaped at once (Linux)."""
    return parent == NULL or parent.actions[SIGCHLD].handler == SIG_IGN or \
        (parent.actions[SIGCHLD].flags & SA_NOCLDWAIT) != 0

cdef void child_signal_info(process *child, signal_info *info) noexcept nogil:
    info.code = CLD_KILLED if child.exit_signal != 0 else CLD_EXITED
    info.pid = child.pid
    info.uid = 0
    info.status = child.exit_signal if child.exit_signal != 0 else child.exit_code
    info.addr = child.utime_ns
    info.stime_ns = child.stime_ns
    info.value = 0

cdef void adopt_children(process *p) noexcept nogil:
    """Init adopts the children of an exiting process (getppid then says 1, as Linux);
    a zombie among them is announced to init, or reaped if init ignores SIGCHLD."""
    cdef process *init = process_find(FIRST_PID)
    cdef signal_info info
    cdef int i
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] == NULL or table[i].parent_pid != p.pid or table[i] == p:
            continue
        table[i].parent_pid = FIRST_PID
        if table[i].state == PROCESS_ZOMBIE:
            if parent_ignores_children(init):
                table[i].state = 0
            else:
                child_signal_info(table[i], &info)
                signal_process_info(init, SIGCHLD, &info)
            waitq_wake_all(&child_exits)

cdef void process_thread_exits(thread *t) noexcept nogil:
    """t is leaving: children it forked get their PR_SET_PDEATHSIG signal (Linux ties
    it to the forking thread, not the process); its process-directed signals stay with
    the process."""
    cdef int i
    signal_thread_leaves(t)
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].creator_tid == t.tid:
            table[i].creator_tid = 0
            if table[i].pdeath_signal != 0 and table[i].state == PROCESS_RUNNING:
                signal_process(table[i], table[i].pdeath_signal)

cdef void thread_leaves(process *p) noexcept nogil:
    cdef process *parent
    cdef signal_info info
    process_thread_exits(sched_current())
    p.thread_count -= 1
    if p.thread_count == 0:
        fs_context_release(&p.fs)
        release_process_memory(p)
        vfork_release(p)
        lenders_gone(p)
        adopt_children(p)
        parent = process_find(p.parent_pid)
        child_signal_info(p, &info)
        if parent_ignores_children(parent):
            p.state = 0                 # nobody will wait: reaped at the next fork
        else:
            p.state = PROCESS_ZOMBIE
        if parent != NULL:
            # Linux sends SIGCHLD even when it reaps at once (unless the handler is SIG_IGN,
            # which discards it at generation).
            signal_process_info(parent, SIGCHLD, &info)
        waitq_wake_all(&child_exits)
    waitq_wake_all(&vfork_done)         # an execve waiting for the other threads to leave
    sched_exit_current()

cdef bint wait_matches(process *child, int idtype, int id) noexcept nogil:
    if idtype == P_PID:
        return child.pid == id
    if idtype == P_PGID:
        return child.pgid == id
    return True

cdef int64_t process_wait(int idtype, int id, int options, wait_result *out) noexcept nogil:
    """wait4/waitid's core over the caller's children selected by (idtype, id): an exited
    child's pid (reaped unless WNOWAIT; out filled), 0 with WNOHANG when none has exited,
    -ECHILD when none matches, -EINTR when a signal interrupts the wait.  Children never
    stop here, so WSTOPPED/WCONTINUED alone wait for nothing."""
    cdef process *me = process_current()
    cdef process *found
    cdef bint has_children
    cdef int i, reason
    cdef uint64_t flags = waitq_lock()
    while True:
        found = NULL
        has_children = False
        for i in range(PROCESS_TABLE_SIZE):
            if table[i] == NULL or table[i].parent_pid != me.pid or table[i].state == 0:
                continue
            if not wait_matches(table[i], idtype, id):
                continue
            has_children = True
            if table[i].state == PROCESS_ZOMBIE and options & WEXITED:
                found = table[i]
                break
        if found != NULL or not has_children or options & WNOHANG:
            break
        reason = waitq_sleep(&child_exits, 0)
        if reason != 0:
            waitq_unlock(flags)
            return -EINTR
    if found != NULL:
        out.pid = found.pid
        out.wait_status = found.wait_status
        out.code = CLD_KILLED if found.exit_signal != 0 else CLD_EXITED
        out.status = found.exit_signal if found.exit_signal != 0 else found.exit_code
        out.utime_ns = found.utime_ns + found.cutime_ns
        out.stime_ns = found.stime_ns + found.cstime_ns
        out.nvcsw = found.nvcsw + found.cnvcsw
        out.nivcsw = found.nivcsw + found.cnivcsw
        out.min_flt = found.min_flt + found.cmin_flt
        out.maxrss_pages = found.maxrss_pages if found.maxrss_pages > found.cmaxrss_pages \
            else found.cmaxrss_pages
        if not (options & WNOWAIT):
            found.state = 0             # out of every other waiter's reach
    waitq_unlock(flags)
    if not has_children:
        return -ECHILD
    if found == NULL:
        return 0
    if not (options & WNOWAIT):
        cputime_reap_child(me, found)
        process_reap(found)
    return out.pid

# ------------------------------------------------- process groups, sessions

cdef bint group_exists(int pgid, int sid) noexcept nogil:
    """A live process in group pgid (of session sid, if sid != 0)."""
    cdef int i
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].state != 0 and table[i].pgid == pgid and \
                (sid == 0 or table[i].sid == sid):
            return True
    return False

cdef int64_t process_setpgid(int pid, int pgid) noexcept nogil:
    """setpgid as Linux checks it: a child after execve EACCES, another session or a
    session leader EPERM, a group of another session EPERM."""
    cdef process *me = process_current()
    cdef process *target
    if pgid < 0:
        return -EINVAL
    if pid == 0:
        pid = me.pid
    if pgid == 0:
        pgid = pid
    target = process_find(pid)
    if target == NULL or target.state != PROCESS_RUNNING or target.exiting:
        return -EINVAL if target == NULL and task_find(pid) != NULL else -ESRCH
    if target != me:
        if target.parent_pid != me.pid:
            return -ESRCH
        if target.sid != me.sid:
            return -EPERM
        if target.did_exec:
            return -EACCES
    if target.sid == target.pid:
        return -EPERM                   # a session leader stays in its group
    if pgid != pid and not group_exists(pgid, me.sid):
        return -EPERM
    target.pgid = pgid
    return 0

cdef int64_t process_setsid() noexcept nogil:
    cdef process *me = process_current()
    if me.pgid == me.pid or group_exists(me.pid, 0):
        return -EPERM                   # a group leader, or its pid names a group already
    me.sid = me.pid
    me.pgid = me.pid
    return me.pid

# --------------------------------------------------------- user faults

cdef int fault_signal(uint64_t vector, signal_info *info) noexcept nogil:
    """The signal and siginfo Linux's trap handlers give a user fault (si_addr of a
    page fault: CR2; of divide and invalid-opcode faults: the instruction)."""
    signal_info_kernel(info)            # #GP, #SS and others: force_sig, no address
    if vector == VECTOR_PAGE_FAULT:
        info.addr = read_cr2()
        info.code = SEGV_ACCERR if vma_find(process_mm(sched_current().proc), info.addr) != NULL \
            else SEGV_MAPERR
        return SIGSEGV
    if vector == VECTOR_GENERAL_PROTECTION or vector == VECTOR_STACK_FAULT:
        return SIGSEGV
    if vector == VECTOR_DIVIDE_ERROR:
        info.code = FPE_INTDIV
        return SIGFPE
    if vector == VECTOR_X87_FPU_ERROR or vector == VECTOR_SIMD_FP:
        return SIGFPE
    if vector == VECTOR_INVALID_OPCODE:
        info.code = ILL_ILLOPN
        return SIGILL
    if vector == VECTOR_BREAKPOINT or vector == VECTOR_DEBUG:
        info.code = SI_KERNEL if vector == VECTOR_BREAKPOINT else TRAP_BRKPT
        return SIGTRAP
    return SIGBUS

cdef void process_user_fault(trap_frame *frame) noexcept nogil:
    cdef signal_info info
    cdef int sig = fault_signal(frame.vector, &info)
    cdef thread *t = sched_current()
    if frame.vector == VECTOR_DIVIDE_ERROR or frame.vector == VECTOR_INVALID_OPCODE:
        info.addr = frame.rip
    if frame.vector == VECTOR_PAGE_FAULT and process_mm(t.proc).fault_out_of_memory:
        oom_page_fault(t.proc)          # a victim is killed; this thread retries the access
        return
    if frame.vector == VECTOR_PAGE_FAULT and process_mm(t.proc).fault_beyond_object:
        sig = SIGBUS                    # a mapped file page past the end of the file
        info.code = BUS_ADRERR
    if signal_fault_info(sig, &info):
        return                          # the program's handler runs on the way out
    kputs(b"tyn: pid ")
    kput_udec(<uint64_t>t.proc.pid)
    kputs(b" tid ")
    kput_udec(<uint64_t>t.tid)
    kputs(b" killed by signal ")
    kput_udec(<uint64_t>sig)
    kputs(b": ")
    kputs(exception_name(frame.vector))
    if frame.vector == VECTOR_PAGE_FAULT:
        kputs(b" at address ")
        kput_hex(read_cr2())
    kputs(b", RIP ")
    kput_hex(frame.rip)
    kputs(b", RSP ")
    kput_hex(frame.rsp)
    kputs(b"\n")
    process_exit_signal(t.proc, sig)
