# The init program, started the way Linux starts a static executable.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport read_cr3, write_cr3, memset, rdtsc, RFLAGS_IF, RFLAGS_RESERVED_1
from tyn.arch.gdt cimport SEL_USER_CODE, SEL_USER_DATA, SEGMENT_RPL_USER
from tyn.arch.trapframe cimport trap_frame
from tyn.arch.uaccess cimport copy_to_user
from tyn.fs.fsnode cimport fs_node
from tyn.fs.vfs cimport vfs_walk, vfs_root, vfs_lookup, VFS_FOLLOW
from tyn.lib.kprint cimport kputs, kput_dec
from tyn.mm.heap cimport kmalloc, kfree
from tyn.mm.vma cimport (vma_map, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED,
                         MAP_GROWSDOWN)
from tyn.proc.elf cimport elf_plan, elf_parse, elf_strerror, ELF_OK
from tyn.proc.initstack cimport (initstack_args, initstack_layout, initstack_build, initstack_cpu_hwcap,
                                 INITSTACK_RANDOM_BYTES)
from tyn.proc.process cimport process_create
from tyn.proc.sched cimport sched_make_runnable
from tyn.proc.task cimport process, thread, task_new_thread
from tyn.sys.info cimport info_random_bytes

cdef enum:
    ASCII_NEWLINE = 10
    ASCII_BACKSLASH = 92
    ASCII_LOWER_N = 110
    ASCII_SPACE = 32
    STACK_BUILD_BYTES = 256 * 1024      # argv, envp, auxv and strings must fit here
    EXEC_ERR = -1

cdef struct string_list:
    int count
    const char *items[EXEC_MAX_ARGS]

cdef const fs_node *lookup(const char *path) noexcept nogil:
    cdef vfs_lookup res
    cdef uint64_t n = 0
    while path[n] != 0:
        n += 1
    if vfs_walk(vfs_root(), path, n, VFS_FOLLOW, &res) < 0 or res.node == NULL or res.node.data == NULL:
        return NULL
    return res.node

cdef char *read_config(const char *path, uint64_t *size) noexcept nogil:
    """A copy (NUL-terminated) of a root-filesystem file, or NULL."""
    cdef const fs_node *n = lookup(path)
    cdef char *copy
    cdef uint64_t i
    if n == NULL or n.size >= EXEC_CONFIG_MAX:
        return NULL
    copy = <char *>kmalloc(n.size + 1)
    if copy == NULL:
        return NULL
    for i in range(n.size):
        copy[i] = <char>n.data[i]
    copy[n.size] = 0
    size[0] = n.size
    return copy

cdef void split_lines(char *text, uint64_t size, string_list *out) noexcept nogil:
    """One item per line; within a line `\\n` is a newline and `\\\\` a backslash (docs/IMAGE.md)."""
    cdef uint64_t i = 0, o = 0
    cdef char *start = text
    while i < size and out.count < EXEC_MAX_ARGS:
        if text[i] == ASCII_NEWLINE:
            text[o] = 0
            out.items[out.count] = start
            out.count += 1
            o += 1
            i += 1
            start = &text[o]
            continue
        if text[i] == ASCII_BACKSLASH and i + 1 < size:
            text[o] = ASCII_NEWLINE if text[i + 1] == ASCII_LOWER_N else text[i + 1]
            i += 2
        else:
            text[o] = text[i]
            i += 1
        o += 1
    if start < &text[o] and out.count < EXEC_MAX_ARGS:
        text[o] = 0
        out.items[out.count] = start
        out.count += 1

cdef void split_words(char *text, string_list *out) noexcept nogil:
    """Kernel command-line init arguments: split at spaces."""
    cdef uint64_t i = 0
    while text[i] != 0 and out.count < EXEC_MAX_ARGS:
        while text[i] == ASCII_SPACE:
            text[i] = 0
            i += 1
        if text[i] == 0:
            break
        out.items[out.count] = &text[i]
        out.count += 1
        while text[i] != 0 and text[i] != ASCII_SPACE:
            i += 1

cdef int fail(const char *what, const char *detail) noexcept nogil:
    kputs(b"tyn: cannot start init: ")
    kputs(what)
    if detail != NULL:
        kputs(b": ")
        kputs(detail)
    kputs(b"\n")
    return EXEC_ERR

cdef int map_segments(process *p, const fs_node *exe, elf_plan *plan) noexcept nogil:
    cdef uint32_t i
    cdef int64_t rc
    for i in range(plan.nloads):
        rc = vma_map(&p.mm, plan.loads[i].start, plan.loads[i].end - plan.loads[i].start,
                     plan.loads[i].prot, MAP_PRIVATE | MAP_FIXED,
                     exe.data + plan.loads[i].file_offset if plan.loads[i].file_size else NULL,
                     plan.loads[i].file_size)
        if rc < 0:
            return <int>rc
    p.mm.brk_start = plan.brk
    p.mm.brk = plan.brk
    return 0

cdef int exec_start_init(const char *extra_args) noexcept nogil:
    cdef uint64_t argv_size = 0, env_size = 0, extra_len = 0, old_cr3
    cdef char *argv_text = read_config(b"/etc/tyn/argv", &argv_size)
    cdef char *env_text
    cdef char *extra
    cdef string_list *argv
    cdef string_list *env
    cdef const fs_node *exe
    cdef elf_plan *plan
    cdef initstack_args args
    cdef initstack_layout layout
    cdef uint8_t random[INITSTACK_RANDOM_BYTES]
    cdef uint8_t *stack_image
    cdef int64_t rsp, mapped
    cdef int rc
    cdef process *p
    cdef thread *t
    cdef trap_frame regs
    if argv_text == NULL:
        return fail(b"/etc/tyn/argv is missing from the root filesystem", NULL)
    env_text = read_config(b"/etc/tyn/env", &env_size)
    argv = <string_list *>kmalloc(sizeof(string_list))
    env = <string_list *>kmalloc(sizeof(string_list))
    plan = <elf_plan *>kmalloc(sizeof(elf_plan))
    stack_image = <uint8_t *>kmalloc(STACK_BUILD_BYTES)
    if argv == NULL or env == NULL or plan == NULL or stack_image == NULL:
        return fail(b"out of memory", NULL)
    argv.count = 0
    env.count = 0
    split_lines(argv_text, argv_size, argv)
    if env_text != NULL:
        split_lines(env_text, env_size, env)
    while extra_args[extra_len] != 0:
        extra_len += 1
    extra = <char *>kmalloc(extra_len + 1)
    if extra == NULL:
        return fail(b"out of memory", NULL)
    for rc in range(<int>extra_len + 1):
        extra[rc] = extra_args[rc]
    split_words(extra, argv)
    if argv.count == 0:
        return fail(b"/etc/tyn/argv names no program", NULL)
    exe = lookup(argv.items[0])
    if exe == NULL:
        return fail(b"no such file in the root filesystem", argv.items[0])
    rc = elf_parse(exe.data, exe.size, 0, plan)
    if rc != ELF_OK:
        return fail(argv.items[0], elf_strerror(rc))

    p = process_create()
    mapped = map_segments(p, exe, plan)
    if mapped == 0:
        mapped = vma_map(&p.mm, EXEC_STACK_TOP - EXEC_STACK_SIZE, EXEC_STACK_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, NULL, 0)
    if mapped < 0:
        return fail(b"cannot map the program", NULL)

    info_random_bytes(random, INITSTACK_RANDOM_BYTES)     # AT_RANDOM
    memset(&args, 0, sizeof(args))
    args.argc = <uint64_t>argv.count
    args.argv = argv.items
    args.envc = <uint64_t>env.count
    args.envp = env.items
    args.execfn = argv.items[0]
    args.random = random
    args.phdr = plan.phdr_addr
    args.phent = plan.phent
    args.phnum = plan.phnum
    args.entry = plan.entry
    args.hwcap = initstack_cpu_hwcap()
    rsp = initstack_build(&args, stack_image, STACK_BUILD_BYTES, EXEC_STACK_TOP, &layout)
    if rsp < 0:
        return fail(b"arguments and environment do not fit on the stack", NULL)
    # Write the stack through the process's own page tables (pages arrive on demand).
    old_cr3 = read_cr3()
    write_cr3(p.page_root)
    rc = <int>copy_to_user(<uint64_t>rsp, stack_image + (STACK_BUILD_BYTES - layout.size), layout.size)
    write_cr3(old_cr3)
    if rc != 0:
        return fail(b"cannot write the initial stack", NULL)

    memset(&regs, 0, sizeof(regs))
    regs.rip = plan.entry
    regs.rsp = <uint64_t>rsp
    regs.cs = SEL_USER_CODE | SEGMENT_RPL_USER
    regs.ss = SEL_USER_DATA | SEGMENT_RPL_USER
    regs.rflags = RFLAGS_IF | RFLAGS_RESERVED_1
    t = task_new_thread(p, &regs)
    if t == NULL:
        return fail(b"out of memory", NULL)
    kfree(plan)
    kfree(stack_image)
    kfree(argv)                         # the strings now live on the user stack
    kfree(env)
    kfree(argv_text)
    kfree(extra)
    if env_text != NULL:
        kfree(env_text)
    sched_make_runnable(t)
    return 0
