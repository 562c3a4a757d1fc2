# The shared anonymous inode's stat (see anoninode.pxd).
from libc.stdint cimport int64_t
from tyn.arch.cpu cimport memset

cdef int64_t anon_inode_stat(vfs_file *f, vfs_kstat *st) noexcept nogil:
    memset(st, 0, sizeof(vfs_kstat))
    st.dev = ANON_INODE_DEV
    st.ino = ANON_INODE_INO
    st.nlink = 1
    st.mode = ANON_INODE_MODE
    st.blksize = 4096
    return 0
