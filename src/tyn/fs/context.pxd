# The filesystem context of the running process: working directory, fd table, umask.
# Everything in tyn.sys.fs reaches it through fs_current() only; the process module will
# switch it (fs_set_current) when it switches processes.
from libc.stdint cimport uint32_t, int64_t
from tyn.fs.fsnode cimport fs_node
from tyn.fs.fdtable cimport fdtable

cdef struct fs_context:
    fs_node *cwd                # holds a node reference
    fdtable fdt
    uint32_t umask

cdef extern fs_context *fs_current() noexcept nogil
cdef extern void fs_set_current(fs_context *ctx) noexcept nogil
# Fill ctx: cwd = the VFS root, empty fd table, umask 022; with_console: fds 0, 1, 2 are
# the console.  0 or -ENOMEM / -ENOENT (no root).
cdef extern int64_t fs_context_init(fs_context *ctx, bint with_console) noexcept nogil
# Close every fd and drop the cwd.
cdef extern void fs_context_release(fs_context *ctx) noexcept nogil
# The boot context: initialised (console on 0-2) and made current; 0 or -errno.
cdef extern int64_t fs_boot_context_init() noexcept nogil
cdef extern void fs_set_cwd(fs_context *ctx, fs_node *dir) noexcept nogil
