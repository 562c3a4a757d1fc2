from libc.stdint cimport int64_t, uint64_t
from tyn.proc.task cimport thread, process, signal_info

cdef enum:
    SI_USER = 0                         # si_code of kill()
    SI_KERNEL = 0x80                    # si_code of a signal the kernel sends (SEND_SIG_PRIV)
    SIGPIPE = 13                    # raised by stream sockets' EPIPE (tyn.sys.socket_syscall)

cdef extern int64_t sys_rt_sigaction(uint64_t sig, uint64_t user_act, uint64_t user_old, uint64_t size) noexcept nogil
cdef extern int64_t sys_rt_sigprocmask(uint64_t how, uint64_t user_set, uint64_t user_old, uint64_t size) noexcept nogil
cdef extern int64_t sys_sigaltstack(uint64_t user_ss, uint64_t user_old) noexcept nogil
cdef extern int64_t sys_rt_sigsuspend(uint64_t user_set, uint64_t size) noexcept nogil
cdef extern int64_t sys_rt_sigreturn() noexcept nogil
cdef extern int64_t sys_tkill(uint64_t tid, uint64_t sig) noexcept nogil
cdef extern int64_t sys_tgkill(uint64_t tgid, uint64_t tid, uint64_t sig) noexcept nogil
cdef extern int64_t sys_kill(uint64_t pid, uint64_t sig) noexcept nogil
cdef extern int64_t sys_pause() noexcept nogil
cdef extern int64_t sys_rt_sigqueueinfo(uint64_t pid, uint64_t sig, uint64_t user_info) noexcept nogil
cdef extern int64_t sys_rt_tgsigqueueinfo(uint64_t tgid, uint64_t tid, uint64_t sig, uint64_t user_info) noexcept nogil
cdef extern int64_t sys_rt_sigpending(uint64_t user_set, uint64_t size) noexcept nogil
cdef extern int64_t sys_rt_sigtimedwait(uint64_t user_set, uint64_t user_info, uint64_t user_timeout,
                                        uint64_t size) noexcept nogil
# The terminal's signals (Ctrl-C: SIGINT, Ctrl-\: SIGQUIT): sig to every process of the
# group pgid, as kill(-pgid, sig).  0, -ESRCH (no such group) or -EINVAL.
cdef extern int process_signal_group(int pgid, int sig) noexcept nogil
# Raise sig for thread t (a blocked t wakes with WAKE_INTERRUPTED), sent by the current
# process (siginfo: SI_USER, its pid).
cdef extern void signal_raise(thread *t, int sig) noexcept nogil
# The same with the siginfo to report (si_code, sender, status, address).
cdef extern void signal_raise_info(thread *t, int sig, const signal_info *info) noexcept nogil
# A signal for a process: delivered to one of its threads that does not block it.
cdef extern void signal_process(process *p, int sig) noexcept nogil
cdef extern void signal_process_info(process *p, int sig, const signal_info *info) noexcept nogil
# A syscall's temporary signal mask (ppoll, pselect6, epoll_pwait): user_set == 0 keeps
# the current one; 0, -EINVAL (size) or -EFAULT.  Applied for the wait; _end puts the
# old mask back, except when the wait was interrupted: then the handler runs with the
# temporary mask and sigreturn restores the old one (Linux's restore_saved_sigmask_unless).
cdef extern int64_t signal_wait_mask_begin(uint64_t user_set, uint64_t size) noexcept nogil
cdef extern void signal_wait_mask_end(bint interrupted) noexcept nogil
# Thread t is leaving its process (not with it): its pending process-directed signals go
# to another of its threads, one that does not block them if there is one.
cdef extern void signal_thread_leaves(thread *t) noexcept nogil
# On every return to user mode (after rescheduling): deliver a pending signal.
cdef extern void signal_deliver_pending() noexcept nogil
# A synchronous user fault raising sig (info: si_code, si_addr): 1 if the program
# handles it (delivery follows).
cdef extern int signal_fault_info(int sig, const signal_info *info) noexcept nogil
# A siginfo from the kernel itself: SI_KERNEL, no sender, every other field zero.
cdef extern void signal_info_kernel(signal_info *info) noexcept nogil
