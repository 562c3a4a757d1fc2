# The init program, started the way Linux starts a static executable.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport read_cr3, write_cr3, memset, RFLAGS_IF, RFLAGS_RESERVED_1
from tyn.arch.gdt cimport SEL_USER_CODE, SEL_USER_DATA, SEGMENT_RPL_USER
from tyn.arch.trapframe cimport trap_frame
from tyn.arch.uaccess cimport copy_to_user
from tyn.fs.fsnode cimport fs_node, FS_TMPFS, S_IFMT, S_IFREG, S_IXUGO
from tyn.fs.tmpfs cimport tmpfs_read
from tyn.fs.vfs cimport vfs_walk, vfs_root, vfs_lookup, VFS_FOLLOW
from tyn.lib.kprint cimport kputs
from tyn.mm.heap cimport kmalloc, kfree
from tyn.mm.vdso cimport vdso_map, vdso_address
from tyn.mm.vma cimport (vma_map, vma_protect, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS,
                         MAP_FIXED, MAP_GROWSDOWN)
from tyn.proc.elf cimport elf_plan, elf_parse, elf_strerror, ELF_OK
from tyn.proc.initstack cimport (initstack_args, initstack_layout, initstack_build, initstack_cpu_hwcap,
                                 INITSTACK_RANDOM_BYTES)
from tyn.proc.process cimport process_create
from tyn.proc.sched cimport sched_make_runnable
from tyn.proc.task cimport process, thread, task_new_thread
from tyn.sys.info cimport info_random_bytes, info_exec_comm
from tyn.sys.errno cimport ENOMEM, ENOEXEC, E2BIG, EFAULT, ENAMETOOLONG, EACCES, ENOENT, EBUSY
from tyn.arch.cpu cimport memcpy, wrmsr, MSR_FS_BASE
from tyn.arch.uaccess cimport copy_from_user, strncpy_from_user
from tyn.arch.fpu cimport fpu_init_area, fpu_restore
from tyn.fs.context cimport fs_current
from tyn.fs.fdtable cimport fdtable_close_on_exec
from tyn.proc.process cimport release_process_memory, process_exec_detach
from tyn.proc.sched cimport sched_current
from tyn.proc.task cimport task_user_frame, SIGNAL_SLOTS

cdef enum:
    ASCII_NEWLINE = 10
    ASCII_BACKSLASH = 92
    ASCII_LOWER_N = 110
    ASCII_SPACE = 32
    STACK_BUILD_BYTES = 256 * 1024      # argv, envp, auxv and strings must fit here
    EXEC_ERR = -1
    EXEC_STRINGS_MAX = 256 * 1024       # argv + envp bytes execve accepts (Linux: 1/4 of the stack)
    PATH_MAX = 4096
    EXEC_COPY_MAX = 64 * 1024 * 1024    # largest tmpfs executable (read whole into the kernel heap)
    SIG_DFL = 0
    SIG_IGN = 1

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

cdef int map_segments(process *p, const uint8_t *data, bint copy, elf_plan *plan) noexcept nogil:
    """Map the PT_LOAD segments: over the file's bytes (root filesystem: they stay), or,
    with copy (a tmpfs file read into a temporary buffer), as anonymous memory filled now
    and then given the segment's protection."""
    cdef uint32_t i
    cdef int64_t rc
    cdef uint64_t length
    for i in range(plan.nloads):
        length = plan.loads[i].end - plan.loads[i].start
        if copy:
            rc = vma_map(&p.mm, plan.loads[i].start, length, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, NULL, 0)
            if rc >= 0 and plan.loads[i].file_size != 0 and copy_to_user(
                    plan.loads[i].start, data + plan.loads[i].file_offset, plan.loads[i].file_size) != 0:
                rc = -ENOMEM
            if rc >= 0:
                rc = vma_protect(&p.mm, plan.loads[i].start, length, plan.loads[i].prot)
        else:
            rc = vma_map(&p.mm, plan.loads[i].start, length,
                         plan.loads[i].prot, MAP_PRIVATE | MAP_FIXED,
                         data + plan.loads[i].file_offset if plan.loads[i].file_size else NULL,
                         plan.loads[i].file_size)
        if rc < 0:
            return <int>rc
    p.mm.brk_start = plan.brk
    p.mm.brk = plan.brk
    return 0

cdef int exec_image(process *p, const uint8_t *data, uint64_t size, bint copy, const char *path,
                    string_list *argv, string_list *env, trap_frame *regs) noexcept nogil:
    """Replace p's memory with the program in data[0:size] (copy: a temporary buffer, see
    map_segments) and set regs for its first instruction.  The caller runs on p's page
    tables.  0, or -errno (-ENOEXEC: not a loadable ELF; after the point of no return,
    -ENOMEM leaves p without an image)."""
    cdef elf_plan *plan = <elf_plan *>kmalloc(sizeof(elf_plan))
    cdef uint8_t *stack_image = <uint8_t *>kmalloc(STACK_BUILD_BYTES)
    cdef initstack_args args
    cdef initstack_layout layout
    cdef uint8_t random[INITSTACK_RANDOM_BYTES]
    cdef int64_t rsp, mapped
    cdef int rc = 0
    if plan == NULL or stack_image == NULL:
        rc = -ENOMEM
    elif elf_parse(data, size, 0, plan) != ELF_OK:
        rc = -ENOEXEC
    else:
        memset(&args, 0, sizeof(args))
        info_random_bytes(random, INITSTACK_RANDOM_BYTES)     # AT_RANDOM
        args.argc = <uint64_t>argv.count
        args.argv = argv.items
        args.envc = <uint64_t>env.count
        args.envp = env.items
        args.execfn = path
        args.random = random
        args.phdr = plan.phdr_addr
        args.phent = plan.phent
        args.phnum = plan.phnum
        args.entry = plan.entry
        args.hwcap = initstack_cpu_hwcap()
        args.sysinfo_ehdr = vdso_address()
        rsp = initstack_build(&args, stack_image, STACK_BUILD_BYTES, EXEC_STACK_TOP, &layout)
        if rsp < 0:
            rc = -E2BIG
    if rc == 0:
        rc = process_exec_detach(p)     # other threads leave; a vfork child gets its own space
    if rc == 0:
        # The point of no return: the old image goes.
        release_process_memory(p)
        mapped = map_segments(p, data, copy, plan)
        if mapped == 0:
            mapped = vma_map(&p.mm, EXEC_STACK_TOP - EXEC_STACK_SIZE, EXEC_STACK_SIZE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, NULL, 0)
        if mapped >= 0 and args.sysinfo_ehdr != 0:
            mapped = vdso_map(&p.mm)
        if mapped < 0 or copy_to_user(<uint64_t>rsp, stack_image + (STACK_BUILD_BYTES - layout.size),
                                      layout.size) != 0:
            rc = -ENOMEM
        else:
            memset(regs, 0, sizeof(trap_frame))
            regs.rip = plan.entry
            regs.rsp = <uint64_t>rsp
            regs.cs = SEL_USER_CODE | SEGMENT_RPL_USER
            regs.ss = SEL_USER_DATA | SEGMENT_RPL_USER
            regs.rflags = RFLAGS_IF | RFLAGS_RESERVED_1
    if plan != NULL:
        kfree(plan)
    if stack_image != NULL:
        kfree(stack_image)
    return rc

cdef int exec_start_init(const char *extra_args) noexcept nogil:
    cdef uint64_t argv_size = 0, env_size = 0, extra_len = 0, old_cr3
    cdef char *argv_text = read_config(b"/etc/tyn/argv", &argv_size)
    cdef char *env_text
    cdef char *extra
    cdef string_list *argv
    cdef string_list *env
    cdef const fs_node *exe
    cdef process *p
    cdef thread *t
    cdef trap_frame regs
    cdef int rc
    if argv_text == NULL:
        return fail(b"/etc/tyn/argv is missing from the root filesystem", NULL)
    env_text = read_config(b"/etc/tyn/env", &env_size)
    argv = <string_list *>kmalloc(sizeof(string_list))
    env = <string_list *>kmalloc(sizeof(string_list))
    while extra_args[extra_len] != 0:
        extra_len += 1
    extra = <char *>kmalloc(extra_len + 1)
    if argv == NULL or env == NULL or extra == NULL:
        return fail(b"out of memory", NULL)
    argv.count = 0
    env.count = 0
    split_lines(argv_text, argv_size, argv)
    if env_text != NULL:
        split_lines(env_text, env_size, env)
    memcpy(extra, extra_args, extra_len + 1)
    split_words(extra, argv)
    if argv.count == 0:
        return fail(b"/etc/tyn/argv names no program", NULL)
    exe = lookup(argv.items[0])
    if exe == NULL:
        return fail(b"no such file in the root filesystem", argv.items[0])
    p = process_create()
    if p == NULL:
        return fail(b"out of memory", NULL)
    # Build the image through the new process's own page tables (pages arrive on demand).
    old_cr3 = read_cr3()
    write_cr3(p.page_root)
    rc = exec_image(p, exe.data, exe.size, False, argv.items[0], argv, env, &regs)
    write_cr3(old_cr3)
    if rc == -ENOEXEC:
        return fail(argv.items[0], b"not a static x86_64 executable")
    if rc < 0:
        return fail(b"cannot load the program", argv.items[0])
    t = task_new_thread(p, &regs)
    if t == NULL:
        return fail(b"out of memory", NULL)
    info_exec_comm(t, argv.items[0])
    kfree(argv)                         # the strings now live on the user stack
    kfree(env)
    kfree(argv_text)
    kfree(extra)
    if env_text != NULL:
        kfree(env_text)
    sched_make_runnable(t)
    return 0

cdef int64_t copy_string_array(uint64_t user_array, string_list *out, char *space, uint64_t *used) noexcept nogil:
    """argv/envp from user memory into `space` (EXEC_STRINGS_MAX bytes in all)."""
    cdef uint64_t ptr
    cdef int64_t n
    out.count = 0
    if user_array == 0:
        return 0
    while True:
        if copy_from_user(&ptr, user_array + <uint64_t>out.count * 8, 8) != 0:
            return -EFAULT
        if ptr == 0:
            return 0
        if out.count >= EXEC_MAX_ARGS - 1:
            return -E2BIG
        n = strncpy_from_user(space + used[0], ptr, EXEC_STRINGS_MAX - used[0])
        if n < 0:
            return -E2BIG if n == -ENAMETOOLONG else n
        out.items[out.count] = space + used[0]
        out.count += 1
        used[0] += <uint64_t>n + 1

cdef int64_t sys_execve(uint64_t user_path, uint64_t user_argv, uint64_t user_envp) noexcept nogil:
    cdef thread *t = sched_current()
    cdef char *space = <char *>kmalloc(EXEC_STRINGS_MAX)
    cdef string_list *argv = <string_list *>kmalloc(sizeof(string_list))
    cdef string_list *env = <string_list *>kmalloc(sizeof(string_list))
    cdef char path[PATH_MAX]
    cdef uint64_t used = 0
    cdef int64_t rc
    cdef vfs_lookup res
    cdef int i
    if space == NULL or argv == NULL or env == NULL:
        rc = -ENOMEM
    else:
        rc = strncpy_from_user(path, user_path, PATH_MAX)
        if rc >= 0:
            rc = copy_string_array(user_argv, argv, space, &used)
        if rc >= 0:
            rc = copy_string_array(user_envp, env, space, &used)
        if rc >= 0:
            rc = vfs_walk(fs_current().cwd, path, <uint64_t>strlen_k(path), VFS_FOLLOW, &res)
            if rc >= 0 and res.node == NULL:
                rc = -ENOENT
            if rc >= 0 and ((res.node.mode & S_IFMT) != S_IFREG or not (res.node.mode & S_IXUGO)):
                rc = -EACCES            # not a regular file, or no execute permission
        if rc >= 0:
            if res.node.data != NULL:
                rc = exec_image(t.proc, res.node.data, res.node.size, False, path, argv, env,
                                task_user_frame(t))
            elif res.node.fs == FS_TMPFS:
                rc = exec_copy(t.proc, res.node, path, argv, env, task_user_frame(t))
            else:
                rc = -EACCES
        if rc >= 0:
            # A new image: handlers reset, close-on-exec files closed, fresh TLS and FPU state.
            for i in range(SIGNAL_SLOTS):
                if t.proc.actions[i].handler > SIG_IGN:
                    t.proc.actions[i].handler = SIG_DFL
                t.proc.actions[i].flags = 0
            fdtable_close_on_exec(&t.proc.fs.fdt)
            t.fs_base = 0
            wrmsr(MSR_FS_BASE, 0)
            t.altstack_size = 0
            fpu_init_area(t.fpu_area)
            fpu_restore(t.fpu_area)
            t.clear_child_tid = 0
            info_exec_comm(t, path)
    if space != NULL:
        kfree(space)
    if argv != NULL:
        kfree(argv)
    if env != NULL:
        kfree(env)
    # Success returns into the new program through the frame exec_image wrote (RAX 0).
    return 0 if rc >= 0 else rc

cdef int exec_copy(process *p, fs_node *n, const char *path, string_list *argv, string_list *env,
                   trap_frame *regs) noexcept nogil:
    """execve of a tmpfs file: its bytes read into a temporary buffer first."""
    cdef uint8_t *copy
    cdef int64_t got
    cdef int rc
    if n.size > EXEC_COPY_MAX:
        return -ENOMEM
    copy = <uint8_t *>kmalloc(n.size if n.size != 0 else 1)
    if copy == NULL:
        return -ENOMEM
    got = tmpfs_read(n, <uint64_t>copy, n.size, 0, False)
    if got != <int64_t>n.size:
        rc = -ENOEXEC if got >= 0 else <int>got
    else:
        rc = exec_image(p, copy, n.size, True, path, argv, env, regs)
    kfree(copy)
    return rc

cdef int64_t strlen_k(const char *s) noexcept nogil:
    cdef int64_t n = 0
    while s[n] != 0:
        n += 1
    return n
