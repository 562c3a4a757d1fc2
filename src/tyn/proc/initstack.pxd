# The initial user stack of a static executable, laid out exactly as Linux's execve does
# (fs/exec.c + fs/binfmt_elf.c create_elf_tables, without stack randomisation), so that
# musl's __libc_start_main / __init_libc find what they expect.
#
# From stack_top downwards:
#   8 zero bytes                               (Linux: bprm->p = vm_end - sizeof(void *))
#   execfn string                              AT_EXECFN points here
#   envp strings, envp[envc-1] highest ... envp[0]
#   argv strings, argv[argc-1] highest ... argv[0]
#   (align down to 16)
#   "x86_64\0"                                 AT_PLATFORM
#   16 random bytes                            AT_RANDOM
#   padding, so that the final RSP is 16-byte aligned
#   auxv pairs, ending with AT_NULL            (order below, Linux's)
#   envp[0..envc-1], NULL
#   argv[0..argc-1], NULL
#   argc                                       <- RSP (16-byte aligned)
#
# auxv, in Linux's order: [AT_SYSINFO_EHDR if args.sysinfo_ehdr != 0], [AT_MINSIGSTKSZ if args.minsigstksz != 0], AT_HWCAP, AT_PAGESZ,
# AT_CLKTCK (100), AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE (0), AT_FLAGS (0), AT_ENTRY,
# AT_UID, AT_EUID, AT_GID, AT_EGID (all 0: equal ids keep musl out of "secure" mode),
# AT_SECURE (0), AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM, AT_NULL.
# Linux also offers AT_RSEQ_*; Tyn does not.
#
# The kernel: map the stack (e.g. [top - size, top) RW, plan.stack_prot), take a kernel view
# buf of its highest buf_size bytes, call initstack_build, copy/keep buf as those bytes, and
# enter user mode with RSP = the result, RIP = plan.entry, all other registers 0 (RDX = 0:
# no atexit function for the program, as Linux's ELF_PLAT_INIT).
from libc.stdint cimport uint8_t, uint64_t, int64_t

cdef enum:
    # auxv types (include/uapi/linux/auxvec.h)
    AT_NULL = 0
    AT_IGNORE = 1
    AT_EXECFD = 2
    AT_PHDR = 3
    AT_PHENT = 4
    AT_PHNUM = 5
    AT_PAGESZ = 6
    AT_BASE = 7
    AT_FLAGS = 8
    AT_ENTRY = 9
    AT_NOTELF = 10
    AT_UID = 11
    AT_EUID = 12
    AT_GID = 13
    AT_EGID = 14
    AT_PLATFORM = 15
    AT_HWCAP = 16
    AT_CLKTCK = 17
    AT_SECURE = 23
    AT_BASE_PLATFORM = 24
    AT_RANDOM = 25
    AT_HWCAP2 = 26
    AT_RSEQ_FEATURE_SIZE = 27
    AT_RSEQ_ALIGN = 28
    AT_EXECFN = 31
    AT_SYSINFO_EHDR = 33
    AT_MINSIGSTKSZ = 51

    INITSTACK_PAGE_SIZE = 4096
    INITSTACK_CLKTCK = 100              # USER_HZ
    INITSTACK_RANDOM_BYTES = 16
    INITSTACK_MAX_ARG_STRLEN = 131072   # Linux MAX_ARG_STRLEN (32 pages): longer strings are E2BIG
    INITSTACK_MAX_AUXV = 24             # pairs, AT_NULL included

    # errors (negative Linux errno values)
    INITSTACK_E2BIG = -7                # does not fit in the buffer, or a string too long
    INITSTACK_EINVAL = -22              # NULL where a pointer is needed, stack_top not 16-aligned

cdef struct initstack_args:
    uint64_t argc
    const char **argv           # argc C strings
    uint64_t envc
    const char **envp           # envc C strings ("KEY=VALUE")
    const char *execfn          # the path given to execve (AT_EXECFN)
    const uint8_t *random       # INITSTACK_RANDOM_BYTES bytes for AT_RANDOM
    uint64_t phdr               # elf_plan.phdr_addr
    uint64_t phent              # elf_plan.phent
    uint64_t phnum              # elf_plan.phnum
    uint64_t entry              # elf_plan.entry
    uint64_t hwcap              # CPUID.1:EDX (initstack_cpu_hwcap())
    uint64_t hwcap2             # 0 (Linux: bit 1 when FSGSBASE is enabled for user mode)
    uint64_t minsigstksz        # 0 = no AT_MINSIGSTKSZ entry (Linux gives the signal frame size)
    uint64_t sysinfo_ehdr       # the vDSO's address (AT_SYSINFO_EHDR, first); 0 = no entry

# Where things went (user addresses); rsp is also the return value.
cdef struct initstack_layout:
    uint64_t rsp                # argc
    uint64_t argv               # argv[0] slot
    uint64_t envp               # envp[0] slot
    uint64_t auxv               # first auxv pair
    uint64_t auxv_count         # pairs, AT_NULL included
    uint64_t random             # AT_RANDOM
    uint64_t platform           # AT_PLATFORM
    uint64_t strings            # lowest string byte (argv[0]) = mm->arg_start in Linux
    uint64_t env_start          # envp[0]'s string = mm->env_start
    uint64_t execfn             # AT_EXECFN
    uint64_t size               # stack_top - rsp: bytes used

# Build the stack in buf, which holds the user bytes [stack_top - buf_size, stack_top).
# Only the used part [rsp, stack_top) is written (padding included, zeroed).  Returns the
# initial RSP (> 0) or INITSTACK_E2BIG / INITSTACK_EINVAL.  layout may be NULL.
# With buf == NULL nothing is written and only the layout/size is computed (buf_size is
# then ignored): a way to learn how much stack to populate.  Pure: no global state.
cdef extern int64_t initstack_build(const initstack_args *args, uint8_t *buf, uint64_t buf_size,
                                    uint64_t stack_top, initstack_layout *layout) noexcept nogil
# AT_HWCAP for x86_64: CPUID leaf 1, EDX (Linux's ELF_HWCAP).
cdef extern uint64_t initstack_cpu_hwcap() noexcept nogil
