# The OOM killer: pick the process with the largest resident set, SIGKILL it, say so.
from libc.stdint cimport uint64_t
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.mm.pmm cimport PAGE_SIZE
from tyn.mm.paging cimport paging_release_spare_tables
from tyn.mm.vma cimport vma_total_bytes, vma_object_pages
from tyn.proc.task cimport process, thread, task_of_process
from tyn.proc.process cimport process_for_each
from tyn.proc.sched cimport sched_yield_cpu
from tyn.sys.signal cimport signal_process

cdef enum:
    SIGKILL = 9                     # what Linux's OOM killer sends
    KIB = 1024

cdef unsigned long kills

cdef unsigned long oom_kill_count() noexcept nogil:
    return kills

cdef struct choice:
    process *victim
    bint dying                      # an earlier victim has not finished dying

cdef void consider(process *p, void *ctx) noexcept nogil:
    cdef choice *c = <choice *>ctx
    if p.mm.oom_victim:
        c.dying = True
        return
    if c.victim == NULL or p.mm.mapped_pages > c.victim.mm.mapped_pages:
        c.victim = p

cdef void report(process *p) noexcept nogil:
    """Linux's line (dump_oom_victim); file-rss is 0 because root-filesystem pages are
    private copies in Tyn (anonymous), shmem-rss counts tmpfs/memfd pages mapped shared."""
    cdef uint64_t shmem = vma_object_pages(&p.mm)
    cdef uint64_t anon = p.mm.mapped_pages - shmem if p.mm.mapped_pages > shmem else 0
    cdef thread *t = task_of_process(p, NULL)     # its name (comm) is its threads'
    kputs(b"Out of memory: Killed process ")
    kput_udec(<uint64_t>p.pid)
    kputs(b" (")
    if t != NULL and t.comm[0] != 0:
        kputs(t.comm)
    else:
        kputs(b"?")
    kputs(b") total-vm:")
    kput_udec(vma_total_bytes(&p.mm) // KIB)
    kputs(b"kB, anon-rss:")
    kput_udec(anon * PAGE_SIZE // KIB)
    kputs(b"kB, file-rss:0kB, shmem-rss:")
    kput_udec(shmem * PAGE_SIZE // KIB)
    kputs(b"kB, UID:0\n")

cdef void oom_page_fault(process *faulting) noexcept nogil:
    global kills
    cdef choice c
    c.victim = NULL
    c.dying = False
    process_for_each(consider, &c)
    if faulting.mm.oom_victim:
        return                      # SIGKILL is on its way out to user mode
    if paging_release_spare_tables() != 0:
        return                      # reclaimed without killing: retry
    if c.dying or c.victim == NULL:
        sched_yield_cpu()           # the victim's memory comes back when it has run
        return
    c.victim.mm.oom_victim = True
    kills += 1
    report(c.victim)
    signal_process(c.victim, SIGKILL)
