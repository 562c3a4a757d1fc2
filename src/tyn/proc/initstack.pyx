# The initial user stack, as Linux lays it out.  See initstack.pxd.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.arch.cpu cimport memcpy, memset, cpuid

cdef inline uint64_t c_strlen(const char *s) noexcept nogil:
    cdef uint64_t n = 0
    while s[n] != 0:
        n += 1
        if n > INITSTACK_MAX_ARG_STRLEN:
            break
    return n

cdef struct writer:
    uint8_t *buf
    uint64_t base               # user address of buf[0]
    uint64_t top

cdef inline void put_bytes(writer *w, uint64_t addr, const void *src, uint64_t n) noexcept nogil:
    if w.buf != NULL:
        memcpy(w.buf + (addr - w.base), src, n)

cdef inline void put_u64(writer *w, uint64_t addr, uint64_t v) noexcept nogil:
    if w.buf != NULL:
        memcpy(w.buf + (addr - w.base), &v, 8)

cdef inline void aux(uint64_t *pairs, uint64_t *n, uint64_t key, uint64_t val) noexcept nogil:
    pairs[n[0] * 2] = key
    pairs[n[0] * 2 + 1] = val
    n[0] += 1

cdef int64_t initstack_build(const initstack_args *a, uint8_t *buf, uint64_t buf_size,
                             uint64_t stack_top, initstack_layout *layout) noexcept nogil:
    cdef uint64_t p, i, n, items, sp, strings_size = 8, env_start = 0
    cdef uint64_t argv_at, envp_at, auxv_at, random_at, platform_at, execfn_at
    cdef uint64_t pairs[INITSTACK_MAX_AUXV * 2]
    cdef uint64_t npairs = 0
    cdef writer w
    cdef const char *platform = b"x86_64"
    if a == NULL or a.execfn == NULL or a.random == NULL or (stack_top & 15) != 0 or stack_top < 4096:
        return INITSTACK_EINVAL
    if (a.argc != 0 and a.argv == NULL) or (a.envc != 0 and a.envp == NULL):
        return INITSTACK_EINVAL
    # Sizes first (no writes, no address arithmetic that could wrap).
    n = c_strlen(a.execfn)
    if n > INITSTACK_MAX_ARG_STRLEN:
        return INITSTACK_E2BIG
    strings_size += n + 1
    for i in range(a.envc):
        if a.envp[i] == NULL:
            return INITSTACK_EINVAL
        n = c_strlen(a.envp[i])
        if n >= INITSTACK_MAX_ARG_STRLEN:
            return INITSTACK_E2BIG
        strings_size += n + 1
    for i in range(a.argc):
        if a.argv[i] == NULL:
            return INITSTACK_EINVAL
        n = c_strlen(a.argv[i])
        if n >= INITSTACK_MAX_ARG_STRLEN:
            return INITSTACK_E2BIG
        strings_size += n + 1
    items = (a.argc + 1) + (a.envc + 1) + 1
    # Bound the total so the arithmetic below stays inside [4096, stack_top): strings, 16 for
    # alignment, platform, random, auxv, pointers, 16 for the final alignment.
    if (a.argc > stack_top / 16 or a.envc > stack_top / 16
            or strings_size + 16 + 7 + 16 + INITSTACK_MAX_AUXV * 16 + items * 8 + 16 > stack_top - 4096):
        return INITSTACK_E2BIG

    w.buf = buf
    w.top = stack_top
    w.base = stack_top - buf_size

    # The aux vector's contents do not depend on the string addresses except AT_RANDOM,
    # AT_EXECFN, AT_PLATFORM: compute those first.
    p = stack_top - 8
    p -= c_strlen(a.execfn) + 1
    execfn_at = p
    for i in range(a.envc):
        p -= c_strlen(a.envp[i]) + 1
    env_start = p
    for i in range(a.argc):
        p -= c_strlen(a.argv[i]) + 1
    # p = lowest string byte (argv[0]); arch_align_stack without randomisation:
    sp = p & ~(<uint64_t>15)
    sp -= 7
    platform_at = sp
    sp -= INITSTACK_RANDOM_BYTES
    random_at = sp

    if a.sysinfo_ehdr != 0:
        aux(pairs, &npairs, AT_SYSINFO_EHDR, a.sysinfo_ehdr)    # x86_64 ARCH_DLINFO: first
    if a.minsigstksz != 0:
        aux(pairs, &npairs, AT_MINSIGSTKSZ, a.minsigstksz)
    aux(pairs, &npairs, AT_HWCAP, a.hwcap)
    aux(pairs, &npairs, AT_PAGESZ, INITSTACK_PAGE_SIZE)
    aux(pairs, &npairs, AT_CLKTCK, INITSTACK_CLKTCK)
    aux(pairs, &npairs, AT_PHDR, a.phdr)
    aux(pairs, &npairs, AT_PHENT, a.phent)
    aux(pairs, &npairs, AT_PHNUM, a.phnum)
    aux(pairs, &npairs, AT_BASE, 0)
    aux(pairs, &npairs, AT_FLAGS, 0)
    aux(pairs, &npairs, AT_ENTRY, a.entry)
    aux(pairs, &npairs, AT_UID, 0)
    aux(pairs, &npairs, AT_EUID, 0)
    aux(pairs, &npairs, AT_GID, 0)
    aux(pairs, &npairs, AT_EGID, 0)
    aux(pairs, &npairs, AT_SECURE, 0)
    aux(pairs, &npairs, AT_RANDOM, random_at)
    aux(pairs, &npairs, AT_HWCAP2, a.hwcap2)
    aux(pairs, &npairs, AT_EXECFN, execfn_at)
    aux(pairs, &npairs, AT_PLATFORM, platform_at)
    aux(pairs, &npairs, AT_NULL, 0)

    # create_elf_tables: sp = STACK_ROUND(sp - auxv words, items)
    sp = (sp - npairs * 16 - items * 8) & ~(<uint64_t>15)
    argv_at = sp + 8
    envp_at = argv_at + (a.argc + 1) * 8
    auxv_at = envp_at + (a.envc + 1) * 8

    if layout != NULL:
        layout.rsp = sp
        layout.argv = argv_at
        layout.envp = envp_at
        layout.auxv = auxv_at
        layout.auxv_count = npairs
        layout.random = random_at
        layout.platform = platform_at
        layout.strings = p
        layout.env_start = env_start
        layout.execfn = execfn_at
        layout.size = stack_top - sp
    if buf == NULL:
        return <int64_t>sp
    if buf_size < stack_top - sp or buf_size > stack_top:
        return INITSTACK_E2BIG

    memset(buf + (sp - w.base), 0, stack_top - sp)
    # Strings, top down, and the pointer arrays that refer to them.
    p = stack_top - 8
    n = c_strlen(a.execfn) + 1
    p -= n
    put_bytes(&w, p, a.execfn, n)
    i = a.envc
    while i > 0:
        i -= 1
        n = c_strlen(a.envp[i]) + 1
        p -= n
        put_bytes(&w, p, a.envp[i], n)
        put_u64(&w, envp_at + i * 8, p)
    i = a.argc
    while i > 0:
        i -= 1
        n = c_strlen(a.argv[i]) + 1
        p -= n
        put_bytes(&w, p, a.argv[i], n)
        put_u64(&w, argv_at + i * 8, p)
    put_bytes(&w, platform_at, platform, 7)
    put_bytes(&w, random_at, a.random, INITSTACK_RANDOM_BYTES)
    for i in range(npairs * 2):
        put_u64(&w, auxv_at + i * 8, pairs[i])
    put_u64(&w, sp, a.argc)
    return <int64_t>sp

cdef uint64_t initstack_cpu_hwcap() noexcept nogil:
    cdef uint32_t r[4]
    cpuid(1, 0, r)
    return r[3]
