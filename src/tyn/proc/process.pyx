# Processes: the table, fork (the address space shared copy-on-write), exit and wait.
#
# The BEAM is process 1; its fork+exec of erl_child_setup (the port program
# forker) is process 2.  More processes than the limit (nproc=, default 2) are
# refused with EAGAIN, as Linux does at RLIMIT_NPROC: erl_child_setup then
# reports that errno to ERTS for each spawn, and open_port/os:cmd fail cleanly
# in Erlang.  When process 1 exits the machine powers off with its status.
from libc.stdint cimport int64_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt, read_cr2, read_cr3, irq_disable, memcpy
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
from tyn.proc.sched cimport sched_current, sched_make_runnable, sched_exit_current
from tyn.proc.task cimport (process, thread, FIRST_PID, PROCESS_RUNNING, PROCESS_ZOMBIE, SIGNAL_SLOTS,
                            task_new_thread, task_user_frame, task_of_process)
from tyn.proc.waitq cimport waitq, waitq_lock, waitq_unlock, waitq_sleep, waitq_wake_all
from tyn.sys.errno cimport EAGAIN, ENOMEM, ECHILD, EFAULT, EINTR
from tyn.sys.signal cimport signal_fault, signal_raise, signal_process

cdef enum:
    KERNEL_HALF_FIRST_ENTRY = 256       # PML4 entries 256..511 map the kernel half
    PROCESS_TABLE_SIZE = 64
    DEFAULT_PROCESS_LIMIT = 2           # the BEAM and its forker
    SIGKILL = 9
    SIGCHLD = 17
    SIG_IGN = 1
    WNOHANG = 1
    WAIT_ANY = -1

cdef process *table[PROCESS_TABLE_SIZE]
cdef int last_pid
cdef int process_limit
cdef waitq child_exits                  # parents in wait4

cdef void process_set_limit(int limit) noexcept nogil:
    global process_limit
    process_limit = limit

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

cdef process *new_process() noexcept nogil:
    """An empty process with a fresh address space sharing the kernel half, in the table."""
    global last_pid
    cdef process *p
    cdef uint64_t *root
    cdef uint64_t *kernel_root
    cdef int i, slot = -1
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
    p.page_root = paging_new_root()
    if p.page_root == PAGING_NOT_MAPPED:
        kfree(p)
        return NULL
    root = <uint64_t *>phys_to_virt(p.page_root)
    kernel_root = <uint64_t *>phys_to_virt(paging_kernel_root())
    # Share the kernel half: the same lower-level tables, so later kernel mappings appear too.
    for i in range(KERNEL_HALF_FIRST_ENTRY, PT_ENTRIES):
        root[i] = kernel_root[i]
    p.mm.root = p.page_root
    last_pid += 1
    p.pid = last_pid
    p.state = PROCESS_RUNNING
    table[slot] = p
    return p

cdef process *process_create() noexcept nogil:
    """The first process (pid 1), with the console on fds 0, 1 and 2."""
    global process_limit
    cdef process *p
    if process_limit == 0:
        process_limit = DEFAULT_PROCESS_LIMIT
    p = new_process()
    if p == NULL:
        return NULL
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
    cdef bint resolved = p != NULL and vma_fault(&p.mm, address, error_code)
    profile_end_event(PROFILE_PAGE_FAULT, started)
    return resolved
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].page_root == root:
            resolved = vma_fault(&table[i].mm, address, error_code)
            break
    profile_end_event(PROFILE_PAGE_FAULT, started)
    return resolved

# ------------------------------------------------------------------ fork

cdef void release_process_memory(process *p) noexcept nogil:
    cdef uint64_t started = profile_begin()
    vma_unmap(&p.mm, VMA_USER_LOW, VMA_USER_HIGH - VMA_USER_LOW)
    profile_end_event(PROFILE_ADDRESS_SPACE_FREE, started)

cdef int64_t process_fork() noexcept nogil:
    """fork(): a new process running a copy of the calling thread; its pid, or -errno."""
    cdef thread *parent_thread = sched_current()
    cdef process *parent = parent_thread.proc
    cdef process *child
    cdef trap_frame regs
    cdef thread *t
    cdef int i
    if live_processes() >= process_limit:
        return -EAGAIN
    child = new_process()
    if child == NULL:
        return -EAGAIN
    child.parent_pid = parent.pid
    child.creator_tid = parent_thread.tid
    child.pgid = parent.pgid
    child.sid = parent.sid
    for i in range(SIGNAL_SLOTS):
        child.actions[i] = parent.actions[i]
    child.fs.umask = parent.fs.umask
    child.fs.cwd = parent.fs.cwd
    if child.fs.cwd != NULL:
        vfs_node_get(child.fs.cwd)
    cdef uint64_t started = profile_begin()
    cdef bint copied = fdtable_clone(&child.fs.fdt, &parent.fs.fdt) == 0 and vma_fork(&child.mm, &parent.mm) == 0
    profile_end_event(PROFILE_FORK_COPY, started)
    if not copied:
        process_reap(child)
        return -ENOMEM
    memcpy(&regs, task_user_frame(parent_thread), sizeof(trap_frame))
    regs.rax = 0                        # fork returns 0 in the child
    t = task_new_thread(child, &regs)
    if t == NULL:
        process_reap(child)
        return -ENOMEM
    fpu_save(t.fpu_area)
    t.fs_base = parent_thread.fs_base
    t.signal_mask = parent_thread.signal_mask
    sched_make_runnable(t)
    return child.pid

# ------------------------------------------------------------- exit, wait

cdef void process_reap(process *p) noexcept nogil:
    """Free what is left of a process and its table slot."""
    cdef int i
    release_process_memory(p)
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] == p:
            table[i] = NULL
    kfree(p)

cdef int process_last_pid() noexcept nogil:
    return last_pid

cdef void process_exit(process *p, int status) noexcept nogil:
    """The calling thread's process ends with `status` (a signal death: 128 + signal).

    The first caller records the status, frees the memory and files, and kills the
    other threads; every thread then leaves through here.  The last one out makes the
    process a zombie for wait4 and signals SIGCHLD to the parent."""
    cdef thread *t
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
        p.wait_status = (status & 0xFF) << 8 if status < SIGNAL_EXIT_BASE else status - SIGNAL_EXIT_BASE
        fs_context_release(&p.fs)
        release_process_memory(p)
        adopt_children(p)
        t = task_of_process(p, NULL)
        while t != NULL:
            if t != sched_current():
                signal_raise(t, SIGKILL)
            t = task_of_process(p, t)
    thread_leaves(p)

cdef void adopt_children(process *p) noexcept nogil:
    """Init adopts the children of an exiting process (getppid then says 1, as Linux);
    a zombie among them is announced to init, or reaped if init ignores SIGCHLD."""
    cdef process *init = process_find(FIRST_PID)
    cdef int i
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] == NULL or table[i].parent_pid != p.pid or table[i] == p:
            continue
        table[i].parent_pid = FIRST_PID
        if table[i].state == PROCESS_ZOMBIE:
            if init == NULL or init.actions[SIGCHLD].handler == SIG_IGN:
                table[i].state = 0
            else:
                signal_process(init, SIGCHLD)
                waitq_wake_all(&child_exits)

cdef void process_thread_exits(thread *t) noexcept nogil:
    """t is leaving: children it forked get their PR_SET_PDEATHSIG signal (Linux ties
    it to the forking thread, not the process)."""
    cdef int i
    for i in range(PROCESS_TABLE_SIZE):
        if table[i] != NULL and table[i].creator_tid == t.tid:
            table[i].creator_tid = 0
            if table[i].pdeath_signal != 0 and table[i].state == PROCESS_RUNNING:
                signal_process(table[i], table[i].pdeath_signal)

cdef void thread_leaves(process *p) noexcept nogil:
    cdef process *parent
    process_thread_exits(sched_current())
    p.thread_count -= 1
    if p.thread_count == 0:
        parent = process_find(p.parent_pid)
        if parent == NULL or parent.actions[SIGCHLD].handler == SIG_IGN:
            p.state = 0                 # nobody will wait: reaped at the next fork
        else:
            p.state = PROCESS_ZOMBIE
            signal_process(parent, SIGCHLD)
            waitq_wake_all(&child_exits)
    sched_exit_current()

cdef int64_t process_wait(int64_t pid, uint64_t user_status, uint64_t options) noexcept nogil:
    cdef process *me = process_current()
    cdef process *found
    cdef bint has_children
    cdef int i, status, child_pid, reason
    cdef uint64_t flags = waitq_lock()
    while True:
        found = NULL
        has_children = False
        for i in range(PROCESS_TABLE_SIZE):
            if table[i] != NULL and table[i].parent_pid == me.pid and (pid == WAIT_ANY or table[i].pid == pid):
                has_children = True
                if table[i].state == PROCESS_ZOMBIE:
                    found = table[i]
                    break
        if found != NULL or not has_children or options & WNOHANG:
            break
        reason = waitq_sleep(&child_exits, 0)
        if reason != 0:
            waitq_unlock(flags)
            return -EINTR
    waitq_unlock(flags)
    if not has_children:
        return -ECHILD
    if found == NULL:
        return 0
    status = found.wait_status
    child_pid = found.pid
    if user_status != 0 and copy_to_user(user_status, &status, 4) != 0:
        return -EFAULT
    process_reap(found)
    return child_pid

# --------------------------------------------------------- user faults

cdef int fault_signal(uint64_t vector) noexcept nogil:
    if vector == VECTOR_PAGE_FAULT or vector == 13 or vector == 12:
        return SIGSEGV
    if vector == VECTOR_DIVIDE_ERROR or vector == 16 or vector == 19:
        return SIGFPE
    if vector == VECTOR_INVALID_OPCODE:
        return SIGILL
    if vector == VECTOR_BREAKPOINT or vector == 1:
        return SIGTRAP
    return SIGBUS

cdef void process_user_fault(trap_frame *frame) noexcept nogil:
    cdef int sig = fault_signal(frame.vector)
    cdef thread *t = sched_current()
    if frame.vector == VECTOR_PAGE_FAULT and t.proc.mm.fault_out_of_memory:
        oom_page_fault(t.proc)          # a victim is killed; this thread retries the access
        return
    if frame.vector == VECTOR_PAGE_FAULT and t.proc.mm.fault_beyond_object:
        sig = SIGBUS                    # a mapped file page past the end of the file
    if signal_fault(sig):
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
    process_exit(t.proc, SIGNAL_EXIT_BASE + sig)
