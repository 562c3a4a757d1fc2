# Thread creation: a kernel stack with the user register frame at its top and,
# below it, a context_switch() frame whose return address leads to trap_exit.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.arch.entry cimport thread_first_return
from tyn.arch.fpu cimport fpu_area_size, fpu_init_area, FPU_AREA_ALIGN
from tyn.arch.trapframe cimport trap_frame
from tyn.mm.heap cimport kcalloc, kmalloc, kfree
from tyn.mm.kstack cimport kstack_alloc, kstack_free
from tyn.proc.sched cimport sched_current
from tyn.sys.sigqueue cimport sigqueue_release

cdef enum:
    CALLEE_SAVED_REGISTERS = 6      # rbp rbx r12 r13 r14 r15 (shim/entry.S context_switch)

cdef int last_tid
cdef thread *registry[TASK_MAX_THREADS]     # every live thread, for tid lookups

cdef bint register(thread *t) noexcept nogil:
    cdef int i
    for i in range(TASK_MAX_THREADS):
        if registry[i] == NULL:
            registry[i] = t
            return True
    return False

cdef thread *task_find(int tid) noexcept nogil:
    cdef int i
    for i in range(TASK_MAX_THREADS):
        if registry[i] != NULL and registry[i].tid == tid and registry[i].state != THREAD_DEAD:
            return registry[i]
    return NULL

cdef thread *task_of_process(process *p, thread *after) noexcept nogil:
    """The live threads of p one by one: pass NULL first, then the previous result."""
    cdef int i = 0
    if after != NULL:
        while i < TASK_MAX_THREADS and registry[i] != after:
            i += 1
        i += 1
    while i < TASK_MAX_THREADS:
        if registry[i] != NULL and registry[i].proc == p and registry[i].state != THREAD_DEAD:
            return registry[i]
        i += 1
    return NULL

cdef int task_count_live(int *active) noexcept nogil:
    """Live threads; *active: those running or waiting for a CPU (the load average's count)."""
    cdef int i, n = 0, busy = 0
    for i in range(TASK_MAX_THREADS):
        if registry[i] != NULL and registry[i].state != THREAD_DEAD:
            n += 1
            if registry[i].state == THREAD_RUNNING or registry[i].state == THREAD_RUNNABLE:
                busy += 1
    if active != NULL:
        active[0] = busy
    return n

cdef int task_next_tid() noexcept nogil:
    global last_tid
    last_tid += 1
    return last_tid

cdef trap_frame *task_user_frame(thread *t) noexcept nogil:
    return <trap_frame *>(t.kstack_top - sizeof(trap_frame))

cdef thread *task_new_thread(process *proc, const trap_frame *user) noexcept nogil:
    cdef thread *t = <thread *>kcalloc(1, sizeof(thread))
    cdef uint64_t *switch_frame
    cdef thread *creator
    cdef int i
    if t == NULL:
        return NULL
    t.kstack_top = kstack_alloc(KERNEL_STACK_PAGES)
    t.fpu_allocation = kmalloc(fpu_area_size() + FPU_AREA_ALIGN)
    if t.kstack_top == 0 or t.fpu_allocation == NULL:
        task_free_thread(t)
        return NULL
    t.fpu_area = <void *>((<uint64_t>t.fpu_allocation + FPU_AREA_ALIGN - 1) & ~(<uint64_t>FPU_AREA_ALIGN - 1))
    fpu_init_area(t.fpu_area)
    memcpy(task_user_frame(t), user, sizeof(trap_frame))
    # context_switch pops six callee-saved registers, then returns.
    switch_frame = <uint64_t *>(<uint64_t>task_user_frame(t)) - (CALLEE_SAVED_REGISTERS + 1)
    for i in range(CALLEE_SAVED_REGISTERS):
        switch_frame[i] = 0
    switch_frame[CALLEE_SAVED_REGISTERS] = <uint64_t>thread_first_return
    t.saved_rsp = <uint64_t>switch_frame
    if not register(t):
        task_free_thread(t)             # TASK_MAX_THREADS reached
        return NULL
    t.proc = proc
    creator = sched_current()
    if creator != NULL and not creator.is_idle:
        memcpy(t.comm, creator.comm, sizeof(t.comm))     # clone and fork inherit the name
    # A process's first thread has the pid as its tid (Linux's one id space).
    t.tid = proc.pid if proc.thread_count == 0 and proc.pid != 0 else task_next_tid()
    t.state = THREAD_RUNNABLE
    proc.thread_count += 1
    return t

cdef void task_unregister(thread *t) noexcept nogil:
    cdef int i
    for i in range(TASK_MAX_THREADS):
        if registry[i] == t:
            registry[i] = NULL

cdef void task_free_thread(thread *t) noexcept nogil:
    task_unregister(t)
    sigqueue_release(t)                 # real-time signals still queued for it
    if t.kstack_top != 0:
        kstack_free(t.kstack_top)
    if t.fpu_allocation != NULL:
        kfree(t.fpu_allocation)
    kfree(t)
