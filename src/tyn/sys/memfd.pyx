# memfd_create(2) as Linux 6.1's mm/memfd.c: flags checked first, then the name (at most
# MFD_NAME_MAX_LEN bytes, EFAULT/EINVAL), then a descriptor; the file is O_RDWR, mode
# 0777, O_LARGEFILE, size 0 (ftruncate gives it pages; holes read as zeros).
from libc.stdint cimport int64_t, uint64_t
from tyn.arch.uaccess cimport strncpy_from_user
from tyn.fs.context cimport fs_current
from tyn.fs.fdtable cimport fdtable_install, fdtable_reserve
from tyn.fs.fsnode cimport fs_node, S_IFREG
from tyn.fs.tmpfs cimport tmpfs_create_unlinked, tmpfs_node_release
from tyn.fs.vfs cimport vfs_file, vfs_file_put, vfs_open_node, O_RDWR
from tyn.sys.errno cimport EINVAL, EFAULT, ENOSYS

cdef enum:
    # Flags Linux 6.1 knows (MFD_ALL_FLAGS); Tyn's uname says 6.1.
    MFD_KNOWN_FLAGS = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB
    MEMFD_MODE = 0o777              # shmem_file_setup: S_IRWXUGO
    NAME_BUFFER = MFD_NAME_PREFIX_LEN + MFD_NAME_MAX_LEN + 1

cdef uint64_t created

cdef uint64_t memfd_created_count() noexcept nogil:
    return created

cdef int64_t sys_memfd_create(uint64_t uname, uint64_t flags) noexcept nogil:
    global created
    cdef char name[NAME_BUFFER]
    cdef int64_t n, fd
    cdef fs_node *node
    cdef vfs_file *f
    if flags & ~(<uint64_t>MFD_KNOWN_FLAGS):
        return -EINVAL
    if flags & MFD_ALLOW_SEALING:
        # File seals (F_ADD_SEALS/F_GET_SEALS) are not implemented: refusing is honest,
        # a sealable file that cannot be sealed would not be.
        return -EINVAL
    if flags & MFD_HUGETLB:
        return -ENOSYS              # hugetlb_file_setup of a kernel without HUGETLBFS
    name[0] = b'm'; name[1] = b'e'; name[2] = b'm'; name[3] = b'f'; name[4] = b'd'; name[5] = b':'
    n = strncpy_from_user(name + MFD_NAME_PREFIX_LEN, uname, MFD_NAME_MAX_LEN + 1)
    if n == -EFAULT:
        return -EFAULT
    if n < 0:
        return -EINVAL              # longer than MFD_NAME_MAX_LEN (Linux: EINVAL)
    fd = fdtable_reserve(&fs_current().fdt, 0)
    if fd < 0:
        return fd
    n = tmpfs_create_unlinked(name, <int>(n + MFD_NAME_PREFIX_LEN), S_IFREG | MEMFD_MODE, &node)
    if n < 0:
        return n
    n = vfs_open_node(node, O_RDWR, &f)
    if n < 0:
        tmpfs_node_release(node)
        return n
    fd = fdtable_install(&fs_current().fdt, f, 0, (flags & MFD_CLOEXEC) != 0)
    if fd < 0:
        vfs_file_put(f)             # the node goes with it
        return fd
    created += 1
    return fd
