# The anonymous inode behind eventfd, epoll and timerfd files: Linux gives them all one
# shared inode on the anon_inodefs mount, mode 0600 with no file type bits.
from tyn.fs.vfs cimport vfs_file, vfs_kstat
from libc.stdint cimport int64_t

cdef enum:
    ANON_INODE_DEV = 14             # st_dev of anonymous inodes (0:14)
    ANON_INODE_INO = 1              # every anon-inode file shares one inode, as in Linux
    ANON_INODE_MODE = 0o600         # S_IRUSR | S_IWUSR, no S_IFMT bits

# An ops.stat for anon-inode files.
cdef extern int64_t anon_inode_stat(vfs_file *f, vfs_kstat *st) noexcept nogil
