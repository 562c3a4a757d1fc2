# Host face of proc/initstack for tests.
from libc.stdint cimport uint8_t, uint64_t, int64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memset
from tyn.proc.initstack cimport *

E2BIG = INITSTACK_E2BIG
EINVAL = INITSTACK_EINVAL
AUX = {"AT_NULL": AT_NULL, "AT_PHDR": AT_PHDR, "AT_PHENT": AT_PHENT, "AT_PHNUM": AT_PHNUM,
       "AT_PAGESZ": AT_PAGESZ, "AT_BASE": AT_BASE, "AT_FLAGS": AT_FLAGS, "AT_ENTRY": AT_ENTRY,
       "AT_UID": AT_UID, "AT_EUID": AT_EUID, "AT_GID": AT_GID, "AT_EGID": AT_EGID,
       "AT_PLATFORM": AT_PLATFORM, "AT_HWCAP": AT_HWCAP, "AT_CLKTCK": AT_CLKTCK, "AT_SECURE": AT_SECURE,
       "AT_RANDOM": AT_RANDOM, "AT_HWCAP2": AT_HWCAP2, "AT_EXECFN": AT_EXECFN,
       "AT_SYSINFO_EHDR": AT_SYSINFO_EHDR, "AT_MINSIGSTKSZ": AT_MINSIGSTKSZ,
       "AT_RSEQ_FEATURE_SIZE": AT_RSEQ_FEATURE_SIZE, "AT_RSEQ_ALIGN": AT_RSEQ_ALIGN}


def cpu_hwcap() -> int:
    return initstack_cpu_hwcap()


def build(argv, envp, execfn, bytes random=bytes(16), *, unsigned long long stack_top=0x7ffffffff000,
          buf_size=None, unsigned long long phdr=0x400040, unsigned long long phent=56,
          unsigned long long phnum=6, unsigned long long entry=0x401000, unsigned long long hwcap=0,
          unsigned long long hwcap2=0, unsigned long long minsigstksz=0, unsigned long long sysinfo_ehdr=0,
          bint dry_run=False,
          bint null_execfn=False):
    """initstack_build: returns (rsp or negative error, stack bytes [top - buf_size, top), layout)."""
    cdef initstack_args a
    cdef initstack_layout lay
    cdef uint8_t *buf = NULL
    cdef int64_t rc
    cdef uint64_t size
    argv_b = [s.encode() if isinstance(s, str) else s for s in argv]
    envp_b = [s.encode() if isinstance(s, str) else s for s in envp]
    execfn_b = execfn.encode() if isinstance(execfn, str) else execfn
    if len(random) != 16:
        raise ValueError("16 random bytes")
    cdef const char **av = <const char **>malloc(8 * (len(argv_b) + 1))
    cdef const char **ev = <const char **>malloc(8 * (len(envp_b) + 1))
    try:
        for i, s in enumerate(argv_b):
            av[i] = <const char *>s
        for i, s in enumerate(envp_b):
            ev[i] = <const char *>s
        a.argc = len(argv_b)
        a.argv = av
        a.envc = len(envp_b)
        a.envp = ev
        a.execfn = NULL if null_execfn else <const char *>execfn_b
        a.random = <const uint8_t *>random
        a.phdr = phdr
        a.phent = phent
        a.phnum = phnum
        a.entry = entry
        a.hwcap = hwcap
        a.hwcap2 = hwcap2
        a.minsigstksz = minsigstksz
        a.sysinfo_ehdr = sysinfo_ehdr
        size = 1 << 20 if buf_size is None else buf_size
        if not dry_run:
            buf = <uint8_t *>malloc(size if size else 1)
            memset(buf, 0xAA, size)    # poison: the builder must write everything it uses
        rc = initstack_build(&a, buf, size, stack_top, &lay)
        data = None
        if buf != NULL:
            data = bytes(buf[:size])
        layout = dict(rsp=lay.rsp, argv=lay.argv, envp=lay.envp, auxv=lay.auxv, auxv_count=lay.auxv_count,
                      random=lay.random, platform=lay.platform, strings=lay.strings,
                      env_start=lay.env_start, execfn=lay.execfn, size=lay.size) if rc > 0 else None
        return rc, data, layout
    finally:
        free(av)
        free(ev)
        free(buf)
