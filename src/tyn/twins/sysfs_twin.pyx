# Host face of the file layer: vfs/tmpfs/fdtable/context and the sys_* handlers of
# tyn.sys.fs.  Tests call the handlers with "user" pointers into a host buffer that is
# registered as a user window (pointers outside it give -EFAULT).
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset
from tyn.twins.hostsim cimport host_user_window_add, host_user_windows_clear
from tyn.fs.fsnode cimport fs_node
from tyn.fs.vfs cimport vfs_init, vfs_reset, vfs_set_random_source, vfs_set_clock
from tyn.fs.tmpfs cimport tmpfs_frames_in_use
from tyn.fs.fdtable cimport fdtable_set_limit, fdtable_get_limit, fdtable_count
from tyn.fs.context cimport fs_context, fs_current, fs_set_current, fs_context_init, fs_context_release
from tyn.sys.fs cimport *
from tyn.fs.tty cimport tty_init, tty_receive
from tyn.proc.sched cimport sched_init
from tyn.drivers.serial cimport serial_write, serial_set_receiver

ctypedef int64_t (*fn6)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) noexcept nogil

cdef uint8_t *archive_copy = NULL
cdef uint8_t *user_mem = NULL
cdef size_t user_size = 0
cdef fs_context ctx
cdef uint64_t counter_rng

cdef dict FUNCS = {
    "read": <uint64_t><void *>sys_read, "write": <uint64_t><void *>sys_write,
    "open": <uint64_t><void *>sys_open, "close": <uint64_t><void *>sys_close,
    "stat": <uint64_t><void *>sys_stat, "fstat": <uint64_t><void *>sys_fstat,
    "lstat": <uint64_t><void *>sys_lstat, "lseek": <uint64_t><void *>sys_lseek,
    "ioctl": <uint64_t><void *>sys_ioctl, "pread64": <uint64_t><void *>sys_pread64,
    "pwrite64": <uint64_t><void *>sys_pwrite64, "readv": <uint64_t><void *>sys_readv,
    "writev": <uint64_t><void *>sys_writev, "access": <uint64_t><void *>sys_access,
    "dup": <uint64_t><void *>sys_dup, "dup2": <uint64_t><void *>sys_dup2,
    "fcntl": <uint64_t><void *>sys_fcntl, "truncate": <uint64_t><void *>sys_truncate,
    "ftruncate": <uint64_t><void *>sys_ftruncate, "getcwd": <uint64_t><void *>sys_getcwd,
    "chdir": <uint64_t><void *>sys_chdir, "fchdir": <uint64_t><void *>sys_fchdir,
    "rename": <uint64_t><void *>sys_rename, "mkdir": <uint64_t><void *>sys_mkdir,
    "rmdir": <uint64_t><void *>sys_rmdir, "creat": <uint64_t><void *>sys_creat,
    "unlink": <uint64_t><void *>sys_unlink, "symlink": <uint64_t><void *>sys_symlink,
    "readlink": <uint64_t><void *>sys_readlink, "umask": <uint64_t><void *>sys_umask,
    "getdents64": <uint64_t><void *>sys_getdents64, "openat": <uint64_t><void *>sys_openat,
    "mkdirat": <uint64_t><void *>sys_mkdirat, "newfstatat": <uint64_t><void *>sys_newfstatat,
    "unlinkat": <uint64_t><void *>sys_unlinkat, "renameat": <uint64_t><void *>sys_renameat,
    "symlinkat": <uint64_t><void *>sys_symlinkat, "readlinkat": <uint64_t><void *>sys_readlinkat,
    "faccessat": <uint64_t><void *>sys_faccessat, "dup3": <uint64_t><void *>sys_dup3,
    "preadv": <uint64_t><void *>sys_preadv, "pwritev": <uint64_t><void *>sys_pwritev,
    "renameat2": <uint64_t><void *>sys_renameat2, "statx": <uint64_t><void *>sys_statx,
    "faccessat2": <uint64_t><void *>sys_faccessat2,
    "link": <uint64_t><void *>sys_link, "linkat": <uint64_t><void *>sys_linkat,
}

def names():
    return sorted(FUNCS)

def call(str name, *args):
    """sys_<name>(args...) with each argument reduced mod 2^64 (negative ints allowed)."""
    cdef uint64_t a[6]
    cdef fn6 f = <fn6><void *><uint64_t>FUNCS[name]
    if len(args) > 6:
        raise TypeError("at most 6 arguments")
    for i in range(6):
        a[i] = (args[i] & 0xFFFFFFFFFFFFFFFF) if i < len(args) else 0
    return f(a[0], a[1], a[2], a[3], a[4], a[5])

def mount(archive, bint console=True):
    """vfs_init over a copy of archive (bytes or None) and a fresh current context."""
    global archive_copy
    cdef int64_t rc
    sched_init()        # as the kernel boots: the scheduler (and waitq_lock) before the root fs
    vfs_reset()
    fs_set_current(NULL)
    free(archive_copy)
    archive_copy = NULL
    if archive:
        archive_copy = <uint8_t *>malloc(len(archive))
        memcpy(archive_copy, <const char *>archive, len(archive))
        rc = vfs_init(archive_copy, len(archive))
    else:
        rc = vfs_init(NULL, 0)
    if rc != 0:
        return rc
    tty_init(serial_write, 0, 0)
    serial_set_receiver(tty_receive)
    memset(&ctx, 0, sizeof(fs_context))
    rc = fs_context_init(&ctx, console)
    if rc == 0:
        fs_set_current(&ctx)
    return rc

def release_context():
    fs_context_release(&ctx)

def user_window(size_t size):
    """A fresh zeroed host buffer registered as the only user memory; its address."""
    global user_mem, user_size
    host_user_windows_clear()
    free(user_mem)
    user_mem = <uint8_t *>malloc(size)
    memset(user_mem, 0, size)
    user_size = size
    host_user_window_add(<uint64_t>user_mem, size)
    return <uint64_t>user_mem

def user_write(uint64_t addr, bytes data):
    if addr < <uint64_t>user_mem or addr + len(data) > <uint64_t>user_mem + user_size:
        raise ValueError("outside the user window")
    memcpy(<void *>addr, <const char *>data, len(data))

def user_read(uint64_t addr, size_t n) -> bytes:
    if addr < <uint64_t>user_mem or addr + n > <uint64_t>user_mem + user_size:
        raise ValueError("outside the user window")
    return (<const char *>addr)[:n]

def set_nofile(uint64_t cur, uint64_t maximum):
    return fdtable_set_limit(&fs_current().fdt, cur, maximum)

def get_nofile():
    cdef uint64_t c, m
    fdtable_get_limit(&fs_current().fdt, &c, &m)
    return c, m

def open_fd_count():
    return fdtable_count(&fs_current().fdt)

def tmpfs_frames():
    return tmpfs_frames_in_use()

cdef void counter_random(uint8_t *buf, uint64_t n) noexcept nogil:
    global counter_rng
    cdef uint64_t i
    for i in range(n):
        buf[i] = <uint8_t>counter_rng
        counter_rng += 1

def use_counter_random():
    """/dev/urandom yields 0, 1, 2, ... (checks the random-source hook)."""
    global counter_rng
    counter_rng = 0
    vfs_set_random_source(counter_random)

cdef void fixed_clock(int64_t *sec, uint32_t *nsec) noexcept nogil:
    sec[0] = 1700000000
    nsec[0] = 123456789

def use_fixed_clock():
    vfs_set_clock(fixed_clock)
