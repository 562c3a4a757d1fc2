# The out-of-memory killer (Linux's mm/oom_kill.c in small): when a page fault finds no
# free frame, the process with the most resident pages is killed with SIGKILL and the
# console says so in Linux's words ("Out of memory: Killed process N (name) ...").  The
# faulting thread then retries; while a chosen victim is still dying nobody else is
# picked.  Init may be the victim (Tyn has nothing to fall back on; Linux would panic):
# QEMU then exits with 137, SIGKILL's status, and tyn.run reports the OOM.
from tyn.proc.task cimport process

# Called for a user page fault that failed for want of memory (mm.fault_out_of_memory).
cdef extern void oom_page_fault(process *faulting) noexcept nogil
# Processes killed so far.
cdef extern unsigned long oom_kill_count() noexcept nogil
