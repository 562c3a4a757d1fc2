# The current filesystem context (see context.pxd).
from libc.stdint cimport uint32_t, int64_t
from tyn.fs.fsnode cimport fs_node
from tyn.fs.fdtable cimport *
from tyn.fs.vfs cimport vfs_root, vfs_node_get, vfs_node_put, vfs_console_open, vfs_file, vfs_file_put, O_RDWR
from tyn.sys.errno cimport ENOMEM, ENOENT

from tyn.arch.percpu cimport percpu_cpu_index, NR_CPUS

cdef fs_context boot_ctx
# Per CPU: the context of the process whose thread runs there (set by the scheduler).
cdef fs_context *current[NR_CPUS]

cdef fs_context *fs_current() noexcept nogil:
    return current[percpu_cpu_index()]

cdef void fs_set_current(fs_context *ctx) noexcept nogil:
    current[percpu_cpu_index()] = ctx

cdef void fs_set_cwd(fs_context *ctx, fs_node *dir) noexcept nogil:
    vfs_node_get(dir)
    vfs_node_put(ctx.cwd)
    ctx.cwd = dir

cdef int64_t fs_context_init(fs_context *ctx, bint with_console) noexcept nogil:
    cdef int i
    cdef vfs_file *f
    if vfs_root() == NULL:
        return -ENOENT
    ctx.cwd = vfs_root()
    vfs_node_get(ctx.cwd)
    ctx.umask = 0o022
    fdtable_init(&ctx.fdt)
    if with_console:
        for i in range(3):
            f = vfs_console_open(O_RDWR)
            if f == NULL:
                return -ENOMEM
            if fdtable_install(&ctx.fdt, f, 0, False) < 0:
                vfs_file_put(f)
                return -ENOMEM
    return 0

cdef void fs_context_release(fs_context *ctx) noexcept nogil:
    fdtable_close_all(&ctx.fdt)
    vfs_node_put(ctx.cwd)
    ctx.cwd = NULL

cdef int64_t fs_boot_context_init() noexcept nogil:
    cdef int64_t rc = fs_context_init(&boot_ctx, True)
    if rc == 0:
        fs_set_current(&boot_ctx)
    return rc
